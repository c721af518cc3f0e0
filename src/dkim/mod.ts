/**
 * DKIM signing (RFC 6376) with RSA-SHA256 and Ed25519-SHA256 (RFC 8463), ARC sealing (RFC 8617),
 * and the DNS records that publish the keys.
 *
 * Invariants and security model:
 * - Pure: no database, no DNS, no clock. Keys arrive as non-extractable CryptoKeys (the store
 *   unseals them, src/store/dkim_keys.ts); the signing time is an argument.
 * - Every signature is relaxed/relaxed, covers the whole body (no `l=`, RFC 6376 §8.2) and
 *   oversigns From (§8.15), so neither a body appended to nor a From added above a signed
 *   message verifies.
 * - A message must have exactly one From (RFC 5322 §3.6); otherwise signing is refused rather
 *   than producing a signature DMARC would judge on the wrong author.
 * - ARC sets (RFC 8617, `arc.ts`) are sealed with RSA-SHA256 only, by the same signing core as
 *   DKIM (`_signature.ts`); a chain of 50 sets, or one whose newest seal says `cv=fail`, gets
 *   no further set.
 *
 * Use: `signMessage(raw, await store.dkimKeys.signingKeys(authorDomain(raw)), { now })`;
 * `arcSeal(raw, { authResults, chain, key, now })` for a message this server forwards.
 *
 * @module
 */

export {
  AMS_SIGNED_FIELDS,
  type ArcPosition,
  arcPosition,
  arcSeal,
  ArcSealError,
  type ArcSealOptions,
  type ArcSealResult,
  type ChainStatus,
  MAX_ARC_INSTANCE,
} from "./arc.ts";
export { relaxedBody, relaxedHeader, splitMessage, toCrlf } from "./canon.ts";
export { dkimRecordName, dkimRecordText, MAX_TXT_STRING, zoneStrings } from "./record.ts";
export {
  authorDomain,
  dkimSignatureFields,
  DkimSignError,
  OVERSIGNED_FIELDS,
  SIGNED_FIELDS,
  signMessage,
  type SignOptions,
} from "./sign.ts";
export type { DkimAlgorithm, DkimSigningKey } from "../crypto/dkim_keys.ts";
