/**
 * Delivery of a message whose sender asked for REQUIRETLS (RFC 8689 §4.2.1): it travels only
 * over TLS to a mail host whose name is authenticated and whose certificate verifies, and only
 * to a host that offers REQUIRETLS itself, so that every later hop is bound the same way.
 *
 * Invariants:
 * - A host's name is authenticated when the MX RRset was validated by DNSSEC, or the domain's
 *   MTA-STS policy (mode enforce or testing) names it (RFC 8461 §4.1), or there is no MX and
 *   the host is the domain itself (§4.2.1: the requirement is on names found through MX).
 * - Its certificate verifies through DANE (RFC 7672) where the host has usable TLSA records,
 *   else through PKIX for the host's name; never "any certificate", never clear text.
 * - Permanent (550 5.7.30, the sender gets a report) only when the domain cannot take such a
 *   message as it is published: no host with an authenticated name, or every host reached
 *   does not offer REQUIRETLS. A host that cannot be reached or authenticated now (TLS, DANE,
 *   a DNS failure) leaves the message queued, as MTA-STS and DANE failures do.
 *
 * @module
 */

import { type DanePolicy, matchChain } from "../dane/mod.ts";
import type { MxHost, MxResult } from "../dns/mod.ts";
import { mxAllowed, type Policy } from "../mtasts/mod.ts";
import type { OutboundMessage } from "../smtp/client/mod.ts";
import {
  type AttemptDeps,
  type AttemptOutcome,
  failAll,
  type HostOutcome,
  session,
} from "./host_session.ts";

/**
 * Delivers a REQUIRETLS message to `domain`'s hosts. `dane` is each host's DANE policy, or
 * null when DANE does not apply to the domain; `sts` the domain's MTA-STS policy, or null.
 */
export async function requiringTls(
  deps: AttemptDeps,
  domain: string,
  route: Extract<MxResult, { status: "ok" }>,
  dane: readonly [MxHost, DanePolicy][] | null,
  sts: Policy | null,
  message: OutboundMessage,
): Promise<AttemptOutcome[]> {
  const daneOf = new Map(dane ?? []);
  /** Why no host could be used at all, as the domain publishes itself: permanent. */
  let unfit: string | null = null;
  /** Why a host could not be used now: temporary. */
  let now: string | null = null;
  for (const host of route.hosts) {
    const named = route.implicit || route.authenticated === true ||
      (sts !== null && mxAllowed(sts, host.host));
    if (!named) {
      unfit ??= `${host.host} is neither DNSSEC-validated nor named by an MTA-STS policy`;
      continue;
    }
    const policy = daneOf.get(host) ?? { kind: "none" };
    if (policy.kind === "temperror") {
      now = `${host.host}: ${policy.reason}`;
      continue;
    }
    if (host.addresses.length === 0) {
      now = host.temporaryError ?? `${host.host} has no address`;
      continue;
    }
    for (const address of host.addresses) {
      const outcome = await verifiedSession(deps, domain, host.host, address, policy, message);
      if (outcome.kind === "done") return outcome.results;
      const problem = `${host.host} [${address}]: ${outcome.problem}`;
      if (outcome.noRequireTls) unfit = problem;
      else now = problem;
      deps.log.info("mail host failed", { host: host.host, address, problem: outcome.problem });
    }
  }
  if (now !== null || unfit === null) {
    // RFC 3463 X.7.5 cryptographic failure (or, with nothing learnt, X.4.1 no answer).
    const text = `REQUIRETLS to ${domain}: ${now ?? "no mail host could be reached"}`;
    return failAll(message, "temporary", { code: 451, enhanced: "4.7.5", lines: [text] });
  }
  // RFC 8689 §7: X.7.30 "REQUIRETLS support required".
  return failAll(message, "permanent", {
    code: 550,
    enhanced: "5.7.30",
    lines: [`REQUIRETLS support required: ${unfit}`],
  });
}

/** A session whose certificate is checked by DANE where the host has usable TLSA, else PKIX. */
async function verifiedSession(
  deps: AttemptDeps,
  domain: string,
  host: string,
  address: string,
  policy: DanePolicy,
  message: OutboundMessage,
): Promise<HostOutcome> {
  if (policy.kind !== "authenticate") return await session(deps, host, address, "verify", message);
  return await session(deps, host, address, "required", message, async (tls) => {
    // RFC 7672 §3.2.2: the MX host's name, and the next-hop domain, for DANE-TA.
    const match = await matchChain(policy.records, tls.peerCertificates, {
      names: [host, domain],
    });
    return match.ok ? null : `DANE: ${match.problem}`;
  });
}
