/**
 * Inbound mail authentication: SPF (RFC 7208) on MAIL FROM and HELO, DKIM (RFC 6376, RFC 8463
 * Ed25519) for every signature, ARC (RFC 8617) chain validation, DMARC (RFC 7489) with the
 * Organizational Domain from the Public Suffix List, and the one Authentication-Results
 * field (RFC 8601) that says what was found. As filter checks, run on the MX role only.
 *
 * SPF, DKIM and ARC are mailauth's (npm), given our resolver (src/dns) through an adapter;
 * DMARC and the reading of the From field are ours, so that the rules below hold exactly.
 *
 * Invariants and security model:
 * - Only this folder imports mailauth (tests/layering_test.ts).
 * - Every DNS question goes through our resolver (configured by `[dns]`), at most
 *   `DEFAULT_QUERY_BUDGET` per message, and stops when the evaluation's time is up: a slow or
 *   hostile name server costs a message at most the time bound, and a DNS failure is a
 *   `temperror` that delivers the message, never a refusal and never lost mail.
 * - DMARC never passes for a domain other than the one a reader may see: every domain that
 *   appears address-like anywhere in the From field (display names, comments, encoded words)
 *   is an Author Domain and must pass; several From fields, or one without a single usable
 *   mailbox, are refused (RFC 7489 §6.6.1).
 * - A policy is applied only as published: `reject` refuses with 550 5.7.1 at the end of DATA,
 *   `quarantine` files to Junk, with `sp` for inherited records and `pct` sampling; an ARC
 *   chain overrides a failure only when its newest sealer is a domain the administrator trusts.
 * - What the message or the client supplied reaches the Authentication-Results field only as
 *   tokens, addr-specs, quoted-strings or escaped comments: no sender can forge a resinfo.
 *   Fields claiming our authserv-id are removed before the checks run
 *   (src/delivery/headers.ts `stripForgedAuthResults`).
 *
 * @module
 */

export {
  type ArcOutcome,
  authenticate,
  type AuthenticateInput,
  type AuthResults,
  type Disposition,
  type DkimOutcome,
  type DmarcSummary,
  type SpfOutcome,
} from "./authenticate.ts";
export { type AuthorDomains, authorDomains, MAX_AUTHOR_DOMAINS } from "./author.ts";
export { DEFAULT_MAILAUTH_TIMEOUT_MS, type MailauthCheckOptions, mailauthChecks } from "./check.ts";
export {
  aligns,
  discoverPolicy,
  type DmarcOutcome,
  type DmarcRecord,
  evaluateDmarc,
  organizationalDomain,
  parseDmarcRecord,
  type Policy,
} from "./dmarc.ts";
export {
  abortable,
  DEFAULT_QUERY_BUDGET,
  DnsLookupError,
  type MailauthResolver,
  mailauthResolver,
} from "./resolver.ts";
export { authResultsValue, resultClauses, type SealingResults, sealingResults } from "./results.ts";
