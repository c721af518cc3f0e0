/**
 * Inbound reputation of the MX: DNS lists of client addresses (DNSBL, DNSWL allow-lists, RFC
 * 5782) and of domains (URIBL, DBL: the envelope sender's, the From field's, the body URLs'),
 * forward-confirmed reverse DNS and HELO, summed into one score; and greylisting (RFC 6647).
 * Everything here is a src/filter {@link Check}; src/server.ts adds them to the MX listener
 * only, never to submission.
 *
 * Invariants and security model:
 * - A list that cannot answer never blocks mail: timeouts and temporary DNS errors count as
 *   "not listed", logged as warnings, and each lookup is bounded by `lookupTimeoutMs`
 *   (query.ts); so are the identity lookups (PTR, the PTR names' addresses together, HELO:
 *   identity.ts), a timeout there being a temporary error. The checks' own time bounds are
 *   above the sum of their lookups' bounds, so slow DNS of the client's never times a whole
 *   check out (which would drop its list results).
 * - Client addresses of private networks are never sent to a list (lists.ts
 *   `listableAddress`); loopback is, for RFC 5782 test entries.
 * - A list that refuses us (127.255.255.x) is disabled for the process with an `error` line
 *   telling the administrator what to do; its refusal is never taken for a listing.
 * - Answers outside 127.0.0.0/8 are not listings (a resolver rewriting NXDOMAIN must not
 *   make every client listed).
 * - Work per message is bounded: at most `maxUriDomains` domains, at most 2 MiB of decoded
 *   body text scanned (uris.ts), at most 10 PTR names followed (identity.ts).
 * - Reply texts and header fields carry only configured names, codes and host names, with
 *   control characters removed; never message content beyond a listed host name.
 * - Greylisting runs after the recipient and relay checks (an unknown user gets 550, not 451)
 *   and fails open on a database error only, logged; an exemption that DNS cannot confirm in
 *   time is no exemption. Expired state is deleted by a timer (`startGreylistExpiry`, started
 *   by src/server.ts), never inside an SMTP command.
 * - Defaults are data (presets.ts), and `--dev` asks no list (it must work offline).
 *
 * @module
 */

import type { Resolver } from "../dns/mod.ts";
import type { Check } from "../filter/mod.ts";
import type { Logger } from "../ops/log.ts";
import { greylistCheck, type GreylistStore } from "./greylist.ts";
import { Reputation } from "./reputation.ts";
import type { ReputationSettings } from "./settings.ts";

export {
  clientNetwork,
  GREYLIST_EXPIRY_INTERVAL_MS,
  greylistCheck,
  type GreylistOptions,
  type GreylistOutcome,
  type GreylistStore,
  type GreylistTimings,
  startGreylistExpiry,
  type Triplet,
} from "./greylist.ts";
export {
  DEFAULT_IDENTITY_WEIGHTS,
  type Fcrdns,
  fcrdns,
  heloHits,
  type IdentityWeights,
} from "./identity.ts";
export {
  addressQuery,
  type DnsList,
  interpret,
  listableAddress,
  type ListAction,
  type ListHit,
  type ReturnCode,
} from "./lists.ts";
export { DEFAULT_DNSBL, DEFAULT_URIBL, DNSWL, SPAMHAUS_DBL, SPAMHAUS_ZEN } from "./presets.ts";
export { FAILURE_MEMO_MS, ListQuerier } from "./query.ts";
export { type Evaluation, Reputation, type ReputationOptions } from "./reputation.ts";
export { type ReputationSettings, reputationSettings, toList } from "./settings.ts";
export { messageDomains, registrableDomain } from "./uris.ts";

/** What {@link reputationChecks} needs besides the settings. */
export interface ReputationWorld {
  readonly resolver: Resolver;
  readonly log: Logger;
  /** Our host name (the HELO check). */
  readonly hostname: string;
  /** Greylisting state; needed only when greylisting is on. */
  readonly greylist?: GreylistStore;
  /** Clocks; tests pass their own. */
  readonly now?: () => Date;
}

/** The MX's reputation checks from resolved settings; none when reputation is off. */
export function reputationChecks(settings: ReputationSettings, world: ReputationWorld): Check[] {
  if (!settings.enabled) return [];
  const now = world.now;
  const reputation = new Reputation({
    resolver: world.resolver,
    log: world.log,
    hostname: world.hostname,
    dnsbl: settings.dnsbl,
    uribl: settings.uribl,
    maxUriDomains: settings.maxUriDomains,
    junkScore: settings.junkScore,
    rejectScore: settings.rejectScore,
    weights: settings.weights,
    lookupTimeoutMs: settings.lookupTimeoutMs,
    ...(now ? { now: () => now().getTime() } : {}),
  });
  const checks = reputation.checks();
  const grey = settings.greylisting;
  if (grey.enabled) {
    if (world.greylist === undefined) throw new Error("Greylisting is on but has no store");
    // After the client and sender checks (connect, mail), before the data stage's.
    checks.splice(
      2,
      0,
      greylistCheck({
        store: world.greylist,
        reputation,
        delayMs: grey.delayMs,
        windowMs: grey.windowMs,
        allowMs: grey.allowMs,
        exemptDomains: grey.exemptDomains,
        log: world.log,
        ...(now ? { now } : {}),
      }),
    );
  }
  return checks;
}
