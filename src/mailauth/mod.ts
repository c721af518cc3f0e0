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
 *   hostile name server costs a message at most the time bound. DMARC policy discovery starts
 *   at once, beside SPF and DKIM, so time the sender's own DNS uses up is not the policy's.
 * - A DNS failure never delivers a message its policy would refuse and never refuses genuine
 *   mail: when DMARC cannot be decided (the policy could not be fetched, or nothing aligned
 *   passed while an aligned identifier hit a DNS error, RFC 7489 §6.6.2) and the policy is or
 *   may be stricter than `none`, the answer is 451 4.7.1 and the sender retries; otherwise
 *   the `temperror` is recorded and the message delivered. `dmarc-policy` fails closed (451).
 * - DMARC never passes for a domain other than the one a reader may see: the From mailboxes'
 *   domains are the Author Domains (RFC 7489 §3.1) and must pass; every other domain that
 *   appears address-like in the field (display names, comments, encoded words, read as
 *   displayed: NFKC, no invisible characters) is evaluated too, and its failure files the
 *   message to Junk (never a refusal: help desks put the author's address in the name).
 *   Several From fields, one without a single usable mailbox, or a header or From field
 *   longer than the parser keeps, are refused (RFC 7489 §6.6.1).
 * - Bounded work: at most `MAX_AUTHOR_DOMAINS` domains, `MAX_DKIM_SIGNATURES` signatures
 *   verified (the rest one `dkim=policy`), linear reading of the From field.
 * - A DKIM pass counts for DMARC only when it authenticates what is shown: rsa-sha1 is not
 *   accepted (RFC 8301 §3.1), nor an l= signature with content after the signed length
 *   (RFC 6376 §8.2); both are `dkim=policy`.
 * - A policy is applied only as published: `reject` refuses with 550 5.7.1 at the end of DATA,
 *   `quarantine` files to Junk, with `sp` for inherited records and `pct` sampling; an ARC
 *   chain overrides a failure only when its newest ARC-Seal's d= is a domain the
 *   administrator trusts and that sealer's own ARC-Authentication-Results say the Author
 *   Domain passed DMARC there (or had an aligned SPF or DKIM pass).
 * - What the message or the client supplied reaches the Authentication-Results field only as
 *   tokens, addr-specs, quoted-strings or escaped comments: no sender can forge a resinfo.
 *   Identities are never cut: one too long or not printable is left out.
 *   Fields claiming our authserv-id (also disguised: no-break spaces, a trailing dot) are
 *   removed before the checks run (src/delivery/headers.ts `stripForgedAuthResults`).
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
  applyPolicy,
  discoverPolicy,
  type Discovery,
  type DmarcOutcome,
  type DmarcRecord,
  evaluateDmarc,
  organizationalDomain,
  parseDmarcRecord,
  type Policy,
} from "./dmarc.ts";
export { type LimitedSignatures, limitSignatures, MAX_DKIM_SIGNATURES } from "./signatures.ts";
export {
  abortable,
  DEFAULT_QUERY_BUDGET,
  DnsLookupError,
  type MailauthResolver,
  mailauthResolver,
} from "./resolver.ts";
export { authResultsValue, resultClauses, type SealingResults, sealingResults } from "./results.ts";
