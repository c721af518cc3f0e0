/**
 * From the `[reputation]` config section to the lists and numbers the checks use: presets
 * fill in the codes of known zones, absent lists take the mode's defaults.
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import type { IdentityWeights } from "./identity.ts";
import { type DnsList, type ListAction, parseCodeRange, type ReturnCode } from "./lists.ts";
import { DEFAULT_DNSBL, DEFAULT_URIBL, KNOWN_LISTS, type ListEntry } from "./presets.ts";

/** What the reputation checks are built from, resolved. */
export interface ReputationSettings {
  readonly enabled: boolean;
  readonly dnsbl: readonly DnsList[];
  readonly uribl: readonly DnsList[];
  readonly maxUriDomains: number;
  readonly lookupTimeoutMs: number;
  readonly junkScore: number;
  readonly rejectScore: number;
  readonly weights: IdentityWeights;
  readonly greylisting: {
    readonly enabled: boolean;
    readonly delayMs: number;
    readonly windowMs: number;
    readonly allowMs: number;
    readonly exemptDomains: readonly string[];
  };
}

/**
 * Resolves the section: enabled by default in production and off in `--dev`; lists left out
 * are Spamhaus ZEN and DBL in production, none in `--dev`.
 */
export function reputationSettings(config: Pick<Config, "dev" | "reputation">): ReputationSettings {
  const r = config.reputation;
  const dnsbl = r.dnsbl ?? (config.dev ? [] : DEFAULT_DNSBL);
  const uribl = r.uribl ?? (config.dev ? [] : DEFAULT_URIBL);
  return {
    enabled: r.enabled ?? !config.dev,
    dnsbl: dnsbl.map((entry) => toList(entry, "ip")),
    uribl: uribl.map((entry) => toList(entry, "domain")),
    maxUriDomains: r.max_uri_domains,
    lookupTimeoutMs: r.lookup_timeout,
    junkScore: r.junk_score,
    rejectScore: r.reject_score,
    weights: {
      fcrdnsMissing: r.weights.fcrdns_missing,
      fcrdnsMismatch: r.weights.fcrdns_mismatch,
      heloLiteralMismatch: r.weights.helo_literal_mismatch,
      heloNoDot: r.weights.helo_no_dot,
      heloOurs: r.weights.helo_ours,
      heloUnresolvable: r.weights.helo_unresolvable,
    },
    greylisting: {
      enabled: r.greylisting.enabled,
      delayMs: r.greylisting.delay,
      windowMs: r.greylisting.window,
      allowMs: r.greylisting.allow_period,
      exemptDomains: r.greylisting.exempt_domains,
    },
  };
}

/**
 * A configured list: its own codes, or those of the known list its zone names (a DQS key
 * prefix allowed); weight 1 and action `score` when neither says.
 *
 * @throws {RangeError} when a code is not an address or a range of addresses.
 */
export function toList(entry: ListEntry, kind: DnsList["kind"]): DnsList {
  const zone = entry.zone.toLowerCase().replace(/\.$/, "");
  const known = KNOWN_LISTS.find((k) =>
    k.suffixes.some((s) => zone === s || zone.endsWith(`.${s}`))
  );
  const codes: ReturnCode[] = (entry.codes ?? known?.codes ?? []).map((c) => {
    const range = parseCodeRange(c.code);
    if (range === null) {
      throw new RangeError(`List ${entry.name}: code "${c.code}" is not 127.x.x.x or a range`);
    }
    return {
      ...range,
      meaning: c.meaning,
      ...(c.weight !== undefined ? { weight: c.weight } : {}),
      ...(c.action !== undefined ? { action: c.action } : {}),
      ...(c.refused ? { refused: true } : {}),
    };
  });
  const action: ListAction = entry.action ?? known?.action ?? "score";
  return {
    name: entry.name,
    zone,
    kind,
    codes,
    weight: entry.weight ?? known?.weight ?? 1,
    action,
    ...(entry.registrable !== undefined ? { registrable: entry.registrable } : {}),
  };
}
