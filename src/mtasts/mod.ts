/**
 * MTA-STS, SMTP MTA Strict Transport Security (RFC 8461), for outbound delivery: which MX hosts
 * of a domain may receive its mail, and that they must do so over TLS with a valid certificate.
 *
 * - parse.ts: the TXT record (§3.1), the policy (§3.2) and the MX match (§4.1) — pure.
 * - discover.ts: the `_mta-sts.<domain>` TXT lookup over our resolver (§3.1).
 * - fetch.ts: the policy over HTTPS (§3.3), resolved by our resolver, bounded in size and time.
 * - cache.ts: {@link MtaStsPolicies}, the policy in force per domain (§3.3, §5.1).
 * - publish.ts: our own policy for the domains we host, its id and its HTTPS response (§3).
 *
 * Applying a policy (§5) is the queue's job: src/outbound/attempt.ts tries only matching MX
 * hosts with a verified certificate in mode enforce, and logs in mode testing.
 *
 * Security model: a policy is trusted on first use. DNS is not authenticated here, so an
 * attacker on the path at the first fetch can hide the policy; once fetched, a policy holds
 * until its max_age even if DNS or HTTPS later fail, which is what defeats a downgrade.
 * The cache lives in memory (cache.ts), so a restart starts over. TLS-RPT (RFC 8460) is not
 * sent.
 *
 * @example
 * ```ts
 * const policies = new MtaStsPolicies({ resolver, fetch: httpsPolicyFetcher({ resolver }) });
 * const { policy } = await policies.policyFor("example.net");
 * if (policy?.mode === "enforce" && !mxAllowed(policy, "mx.example.net")) {
 *   // do not deliver to that host
 * }
 * ```
 *
 * @module
 */

export {
  FETCH_BACKOFF_MS,
  MtaStsPolicies,
  type PoliciesOptions,
  type PolicyLookup,
} from "./cache.ts";
export { discover, type Discovery } from "./discover.ts";
export {
  FETCH_DEFAULTS,
  type FetchResult,
  type HttpsFetchOptions,
  httpsPolicyFetcher,
  POLICY_PATH,
  type PolicyFetcher,
} from "./fetch.ts";
export {
  isStsRecord,
  MAX_AGE_LIMIT,
  mxAllowed,
  type Parsed,
  parsePolicy,
  parseRecord,
  type Policy,
  type PolicyMode,
} from "./parse.ts";
export {
  type OwnPolicy,
  ownPolicyText,
  policyId,
  policyRecord,
  policyResponse,
  policyText,
} from "./publish.ts";
