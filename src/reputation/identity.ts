/**
 * What a client says about itself, checked against DNS: forward-confirmed reverse DNS
 * (FCrDNS: the address's PTR names, then each name's A/AAAA back to the address) and the
 * HELO/EHLO name (RFC 5321 §4.1.4: the client's fully qualified name, or an address literal
 * of its own address). Each finding is a hit with a configured weight; temporary DNS failures
 * are never held against the client.
 *
 * @module
 */

import { lookupAddresses, lookupPtr, type Resolver } from "../dns/mod.ts";
import { normalizeIp } from "../net/cidr.ts";
import { withDeadline } from "./deadline.ts";
import { hostName } from "./uris.ts";

/** The weights of the identity findings (0 switches one off). */
export interface IdentityWeights {
  /** The address has no PTR record. */
  readonly fcrdnsMissing: number;
  /** None of the PTR names resolves back to the address. */
  readonly fcrdnsMismatch: number;
  /** HELO is an address literal that is not the client's address. */
  readonly heloLiteralMismatch: number;
  /** HELO is a bare name without a dot. */
  readonly heloNoDot: number;
  /** HELO claims our own host name. */
  readonly heloOurs: number;
  /** HELO names a host that does not exist. */
  readonly heloUnresolvable: number;
}

/** Default weights: small; together they tip a doubtful message, alone they do not. */
export const DEFAULT_IDENTITY_WEIGHTS: IdentityWeights = {
  fcrdnsMissing: 1,
  fcrdnsMismatch: 1.5,
  heloLiteralMismatch: 2,
  heloNoDot: 1,
  heloOurs: 3,
  heloUnresolvable: 1.5,
};

/** One identity finding. */
export interface IdentityHit {
  /** `FCRDNS_MISSING`, `HELO_NO_DOT` … as in the X-Spam-Status field. */
  readonly test: string;
  readonly weight: number;
}

/** The outcome of FCrDNS for an address. */
export interface Fcrdns {
  /** PTR names that resolve back to the address (empty when none do). */
  readonly confirmed: readonly string[];
  /** `none`: no PTR; `mismatch`: names, none confirmed; `temperror`: could not tell. */
  readonly status: "pass" | "none" | "mismatch" | "temperror";
}

/** The most PTR names followed (RFC 7208 §5.5 uses 10 for the same reason). */
const MAX_PTR_NAMES = 10;

/**
 * Forward-confirmed reverse DNS of `ip`. With `timeoutMs`, each of the two rounds (the PTR
 * lookup, then the A/AAAA lookups of all its names together) waits at most that long, and a
 * round that does not end in time is a `temperror`: a slow name server of the client's cannot
 * hold the check past its bound.
 */
export async function fcrdns(
  resolver: Resolver,
  ip: string,
  timeoutMs = Infinity,
): Promise<Fcrdns> {
  const canonical = normalizeIp(ip);
  const ptr = canonical === null ? null : lookupPtr(resolver, canonical);
  if (ptr === null) return { confirmed: [], status: "none" };
  const answer = await withDeadline(ptr, timeoutMs, null);
  if (answer === null || answer.status === "temperror") {
    return { confirmed: [], status: "temperror" };
  }
  const names = answer.records.map((r) => r.target).slice(0, MAX_PTR_NAMES);
  if (names.length === 0) return { confirmed: [], status: "none" };
  const forward = await withDeadline(
    Promise.all(names.map((name) => lookupAddresses(resolver, name))),
    timeoutMs,
    null,
  );
  if (forward === null) return { confirmed: [], status: "temperror" };
  const confirmed = names.filter((_, i) =>
    forward[i]!.addresses.some((address) => normalizeIp(address) === canonical)
  );
  if (confirmed.length > 0) return { confirmed, status: "pass" };
  return { confirmed, status: forward.some((f) => f.temporaryError) ? "temperror" : "mismatch" };
}

/** What the FCrDNS outcome weighs. */
export function fcrdnsHits(result: Fcrdns, weights: IdentityWeights): IdentityHit[] {
  if (result.status === "none") return hit("FCRDNS_MISSING", weights.fcrdnsMissing);
  if (result.status === "mismatch") return hit("FCRDNS_MISMATCH", weights.fcrdnsMismatch);
  return [];
}

/**
 * The findings about a HELO/EHLO name given by a client at `ip`, when we are `ourName`. The
 * name's lookup waits at most `timeoutMs`; one that does not end in time finds nothing (as a
 * temporary error does).
 */
export async function heloHits(
  resolver: Resolver,
  helo: string,
  ip: string,
  ourName: string,
  weights: IdentityWeights,
  timeoutMs = Infinity,
): Promise<IdentityHit[]> {
  const name = helo.trim().toLowerCase();
  // RFC 5321 §4.1.3: an address literal, "[192.0.2.1]" or "[IPv6:2001:db8::1]".
  const literal = /^\[(?:ipv6:)?([^\]]+)\]$/.exec(name);
  if (literal !== null) {
    const given = normalizeIp(literal[1]!);
    return given !== null && given === normalizeIp(ip)
      ? []
      : hit("HELO_LITERAL_MISMATCH", weights.heloLiteralMismatch);
  }
  // RFC 5321 §4.1.1.1: a fully qualified domain name, so at least one dot.
  if (!name.replace(/\.$/, "").includes(".")) return hit("HELO_NO_DOT", weights.heloNoDot);
  if (name.replace(/\.$/, "") === ourName.toLowerCase()) return hit("HELO_OURS", weights.heloOurs);
  const host = hostName(name);
  if (host === null) return hit("HELO_UNRESOLVABLE", weights.heloUnresolvable);
  const addresses = await withDeadline(lookupAddresses(resolver, host), timeoutMs, null);
  return addresses?.nxdomain ? hit("HELO_UNRESOLVABLE", weights.heloUnresolvable) : [];
}

function hit(test: string, weight: number): IdentityHit[] {
  return weight === 0 ? [] : [{ test, weight }];
}
