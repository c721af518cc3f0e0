/**
 * One delivery attempt of a message to the recipients it has at one domain (RFC 5321 §5.1):
 * the domain's mail hosts in order of preference (or its address when it has no MX), each of
 * their addresses in turn, until one takes the transaction; then that host's answer per
 * recipient stands (a 4xx or 5xx to RCPT is its decision, not a reason to ask another host).
 *
 * Invariants:
 * - Permanent only when the destination says so: a null MX (RFC 7505 §4.2: 556 5.1.10), a
 *   domain that does not exist or has no mail host (550 5.1.2), or a 5xx from the host that
 *   took the transaction. Every lookup or connection failure is temporary.
 * - TLS is opportunistic (RFC 7435): STARTTLS whenever offered, any certificate accepted; a
 *   host whose TLS handshake fails is tried once more in clear, as MTAs do at that level.
 * - A host that refuses the session (greeting or EHLO not 2xx) is passed over for the next.
 * - MTA-STS (RFC 8461 §5), when `mtaSts` is given: a domain whose policy is in mode enforce gets
 *   its mail only from MX hosts the policy names, each over STARTTLS with a certificate valid
 *   for the host's name, never in clear; when no host qualifies, the recipients fail for now
 *   (451 4.7.5) and the queue retries, as §5.1 asks. Mode testing delivers as without a policy
 *   and logs what enforce would have refused; mode none is no policy.
 * - DANE (RFC 7672), when `dane` is set: MX hosts from a validated MX RRset, with validated
 *   addresses, have their TLSA records looked up with DNSSEC. A host with usable records gets
 *   the mail only over STARTTLS with a certificate that matches one of them (§3.1), checked
 *   before MAIL; with records none usable, only over STARTTLS (§2.2); whose lookup failed, not
 *   at all for now (§2.2.1). When any host of the domain is under DANE, its MTA-STS policy is
 *   not consulted (RFC 8461 §2); hosts without TLSA records are tried as without DANE. No host
 *   took the mail and one failed DANE: 451 4.7.5 and a retry (§2.2).
 *
 * @module
 */

import { type DanePolicy, danePolicy, matchChain } from "../dane/mod.ts";
import { type MxHost, mxHosts, type MxResult } from "../dns/mod.ts";
import { mxAllowed, type Policy } from "../mtasts/mod.ts";
import type { OutboundMessage, Outcome } from "../smtp/client/mod.ts";
import type { Reply } from "../smtp/proto/mod.ts";
import {
  type AttemptDeps,
  type AttemptOutcome,
  failAll,
  session,
  tryHost,
} from "./host_session.ts";
import { requiringTls } from "./require_tls.ts";

export { type AttemptDeps, type AttemptOutcome, domainOf } from "./host_session.ts";

/** Tries to deliver `message` (whose recipients are all at `domain`). */
export async function deliverToDomain(
  deps: AttemptDeps,
  domain: string,
  message: OutboundMessage,
): Promise<AttemptOutcome[]> {
  const all = (outcome: Outcome, reply: Reply) => failAll(message, outcome, reply);
  // REQUIRETLS needs to know whether the MX RRset was validated (RFC 8689 §4.2.1), as DANE does.
  const requireTls = message.requireTls === true;
  const route = await mxHosts(
    deps.resolver,
    domain,
    deps.dane || requireTls ? { dnssec: true } : {},
  );
  switch (route.status) {
    case "null-mx":
      return all("permanent", {
        code: 556,
        enhanced: "5.1.10",
        lines: [`${domain} does not accept mail (null MX)`],
      });
    case "no-domain":
    case "no-mail-host":
      return all("permanent", { code: 550, enhanced: "5.1.2", lines: [route.reason] });
    case "temperror":
      return all("temporary", { code: 451, enhanced: "4.4.3", lines: [route.reason] });
  }
  if (message.requireTls === false) {
    // RFC 8689 §4.2.2 TLS-Required: No: the sender waives the domain's MTA-STS and DANE
    // policies; STARTTLS is still used whenever offered.
    return await anyHost(deps, domain, route.hosts, null, message);
  }
  const dane = await danePolicies(deps, route);
  const policy = await stsPolicy(deps, domain);
  if (requireTls) return await requiringTls(deps, domain, route, dane, policy, message);
  // RFC 8461 §2: MTA-STS does not override DANE, on the hosts DANE covers; the others keep
  // the domain's MTA-STS policy (a failed TLSA lookup must not switch enforce off).
  if (dane !== null) return await underDane(deps, domain, dane, policy, message);
  if (policy?.mode === "enforce") return await enforced(deps, domain, route.hosts, policy, message);
  return await anyHost(deps, domain, route.hosts, policy, message);
}

/**
 * Delivery with opportunistic TLS to the first host that takes the transaction; `policy`, in
 * mode testing, only logs what enforce would have refused (RFC 8461 §5).
 */
async function anyHost(
  deps: AttemptDeps,
  domain: string,
  hosts: readonly MxHost[],
  policy: Policy | null,
  message: OutboundMessage,
): Promise<AttemptOutcome[]> {
  let lastProblem = `No mail host of ${domain} could be reached`;
  for (const host of hosts) {
    if (policy !== null && !mxAllowed(policy, host.host)) {
      // RFC 8461 §5 mode testing: deliver anyway; say what enforce would have done.
      deps.log.warn("MTA-STS testing: this mail host is not in the policy", {
        domain,
        host: host.host,
      });
    }
    if (host.addresses.length === 0) {
      lastProblem = host.temporaryError ?? `${host.host} has no address`;
      continue;
    }
    for (const address of host.addresses) {
      const outcome = await tryHost(deps, host.host, address, message);
      if (outcome.kind === "done") {
        if (policy !== null && outcome.tls?.verified !== true) {
          deps.log.warn("MTA-STS testing: delivered without a verified certificate", {
            domain,
            host: host.host,
            tls: outcome.tls === null ? "none" : outcome.tls.verifyError,
          });
        }
        return outcome.results;
      }
      lastProblem = `${host.host} [${address}]: ${outcome.problem}`;
      deps.log.info("mail host failed", { host: host.host, address, problem: outcome.problem });
    }
  }
  // RFC 3463: 4.4.1 no answer from host.
  return failAll(message, "temporary", { code: 451, enhanced: "4.4.1", lines: [lastProblem] });
}

/** The domain's policy in force, or null for none or mode none (RFC 8461 §5: as without). */
async function stsPolicy(deps: AttemptDeps, domain: string): Promise<Policy | null> {
  if (deps.mtaSts === undefined) return null;
  const found = await deps.mtaSts.policyFor(domain);
  if (found.problem !== null) {
    deps.log.info("MTA-STS policy lookup", {
      domain,
      source: found.source,
      problem: found.problem,
    });
  }
  return found.policy?.mode === "enforce" || found.policy?.mode === "testing" ? found.policy : null;
}

/**
 * Delivery under a policy in mode enforce (RFC 8461 §5, §5.1): only MX hosts the policy allows
 * (§4.1), each with a certificate valid for its name (§4.2), never in clear.
 */
async function enforced(
  deps: AttemptDeps,
  domain: string,
  hosts: readonly MxHost[],
  policy: Policy,
  message: OutboundMessage,
): Promise<AttemptOutcome[]> {
  const allowed = hosts.filter((h) => mxAllowed(policy, h.host));
  const refused = hosts.filter((h) => !allowed.includes(h)).map((h) => h.host);
  if (refused.length > 0) {
    deps.log.info("MTA-STS: mail hosts not in the policy passed over", { domain, refused });
  }
  // §5.1: a host that fails validation is passed over for the next; none left, the message is
  // held and retried (a new policy may have been published meanwhile).
  let policyProblem = allowed.length === 0
    ? `none of its MX hosts (${refused.join(", ")}) is in the policy (mx: ${policy.mx.join(", ")})`
    : null;
  let otherProblem: string | null = null;
  for (const host of allowed) {
    if (host.addresses.length === 0) {
      otherProblem = host.temporaryError ?? `${host.host} has no address`;
      continue;
    }
    for (const address of host.addresses) {
      const outcome = await session(deps, host.host, address, "verify", message);
      if (outcome.kind === "done") return outcome.results;
      const problem = `${host.host} [${address}]: ${outcome.problem}`;
      if (outcome.tlsRequired) policyProblem = problem;
      else otherProblem = problem;
      deps.log.info("mail host failed", { host: host.host, address, problem: outcome.problem });
    }
  }
  if (policyProblem === null) {
    return failAll(message, "temporary", {
      code: 451,
      enhanced: "4.4.1",
      lines: [otherProblem ?? `No mail host of ${domain} could be reached`],
    });
  }
  // RFC 3463 X.7.5: cryptographic failure; RFC 8461 §5.1: temporary, the message is retried.
  const text = `MTA-STS policy of ${domain}: ${policyProblem}` +
    (otherProblem === null ? "" : `; ${otherProblem}`);
  return failAll(message, "temporary", { code: 451, enhanced: "4.7.5", lines: [text] });
}

/**
 * Each host's DANE policy, in the route's order, or null when DANE does not apply to the domain:
 * off, an MX RRset that is not validated (RFC 7672 §2.2.1), or no host with secure TLSA
 * records or a failed TLSA lookup.
 */
async function danePolicies(
  deps: AttemptDeps,
  route: Extract<MxResult, { status: "ok" }>,
): Promise<[MxHost, DanePolicy][] | null> {
  if (!deps.dane || route.authenticated !== true) return null;
  const policies = await Promise.all(route.hosts.map(async (host): Promise<[MxHost, DanePolicy]> =>
    // RFC 7672 §2.2.2: insecure addresses, no TLSA lookup (its name could be an attacker's).
    host.authenticated === true && host.addresses.length > 0
      ? [host, await danePolicy(deps.resolver, host.host)]
      : [host, { kind: "none" }]
  ));
  return policies.some(([, p]) => p.kind !== "none") ? policies : null;
}

/** Delivery to a domain where DANE applies to some of its hosts (RFC 7672 §2.2). */
async function underDane(
  deps: AttemptDeps,
  domain: string,
  hosts: readonly [MxHost, DanePolicy][],
  sts: Policy | null,
  message: OutboundMessage,
): Promise<AttemptOutcome[]> {
  let daneProblem: string | null = null;
  let otherProblem: string | null = null;
  const enforce = sts?.mode === "enforce" ? sts : null;
  for (const [host, dane] of hosts) {
    if (dane.kind === "none" && enforce !== null && !mxAllowed(enforce, host.host)) {
      // RFC 8461 §4.1: not a host the domain's enforced policy names.
      daneProblem = `${host.host} is not in the MTA-STS policy`;
      continue;
    }
    if (dane.kind === "temperror") {
      daneProblem = `${host.host}: ${dane.reason}`;
      deps.log.info("DANE: mail host passed over", { host: host.host, problem: dane.reason });
      continue;
    }
    if (host.addresses.length === 0) {
      otherProblem = host.temporaryError ?? `${host.host} has no address`;
      continue;
    }
    for (const address of host.addresses) {
      const outcome = dane.kind === "none"
        ? enforce !== null
          // RFC 8461 §5: a verified certificate, no fallback to clear text.
          ? await session(deps, host.host, address, "verify", message)
          : await tryHost(deps, host.host, address, message)
        : await session(deps, host.host, address, "required", message, async (tls) => {
          if (dane.kind === "encrypt") return null;
          // RFC 7672 §3.2.2: the MX host's name, and the next-hop domain, for DANE-TA.
          const names = [host.host, domain];
          const match = await matchChain(dane.records, tls.peerCertificates, { names });
          return match.ok ? null : `DANE: ${match.problem}`;
        });
      if (outcome.kind === "done") return outcome.results;
      const problem = `${host.host} [${address}]: ${outcome.problem}`;
      // A host that cannot be reached is no DANE failure; one that cannot be authenticated is.
      if ((dane.kind !== "none" || enforce !== null) && outcome.tlsRequired) daneProblem = problem;
      else otherProblem = problem;
      deps.log.info("mail host failed", { host: host.host, address, problem: outcome.problem });
    }
  }
  if (daneProblem === null) {
    return failAll(message, "temporary", {
      code: 451,
      enhanced: "4.4.1",
      lines: [otherProblem ?? `No mail host of ${domain} could be reached`],
    });
  }
  // RFC 7672 §2.2: no secure delivery possible now; RFC 3463 X.7.5: cryptographic failure.
  const text = `DANE for ${domain}: ${daneProblem}` +
    (otherProblem === null ? "" : `; ${otherProblem}`);
  return failAll(message, "temporary", { code: 451, enhanced: "4.7.5", lines: [text] });
}
