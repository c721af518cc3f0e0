/**
 * DANE for SMTP (RFC 7672): an MX host's TLSA records, looked up with DNSSEC, and whether the
 * certificate chain a server sent matches them.
 *
 * Invariants and security model:
 * - Records count only when the resolver set the AD bit (`authenticated`), which is only as
 *   trustworthy as the path to it: a validating resolver on loopback or a trusted link
 *   (RFC 7672 §1.3, src/dns/mod.ts). Asking only for hosts from a secure MX RRset is the
 *   caller's part (src/outbound).
 * - Only DANE-TA (2) and DANE-EE (3) are used (RFC 7672 §3.1.3); PKIX usages are ignored.
 * - DANE-EE ignores names and dates (§3.1.1); DANE-TA checks signatures, dates and the name up
 *   to the matching anchor (§3.1.2), never the system's roots.
 * - A failed TLSA lookup makes the host unusable for now; it is never read as "no records"
 *   (§2.2.1), or an attacker who can make lookups fail could strip TLS.
 *
 * @module
 */

export {
  type DaneMatch,
  matchChain,
  MATCHING,
  type MatchOptions,
  SELECTOR,
  usable,
  USAGE,
} from "./match.ts";
export { type DanePolicy, danePolicy, tlsaName } from "./tlsa.ts";
