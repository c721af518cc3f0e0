/**
 * The DNS TXT records that publish DKIM public keys (RFC 6376 §3.6.1, §3.6.2.1; RFC 8463 §4.2).
 *
 * @module
 */

import type { DkimAlgorithm } from "../crypto/dkim_keys.ts";
import { encodeBase64 } from "../util/base64.ts";

/** Where a selector's key is published: `<selector>._domainkey.<domain>` (RFC 6376 §3.6.2.1). */
export function dkimRecordName(selector: string, domain: string): string {
  return `${selector}._domainkey.${domain}`;
}

/**
 * The record's text: `v=DKIM1; k=rsa; p=<SPKI, base64>` or `v=DKIM1; k=ed25519; p=<the raw
 * 32-byte key, base64>` (RFC 6376 §3.6.1; RFC 8463 §4.2). An empty key (`p=`) revokes the
 * selector (RFC 6376 §3.6.1).
 */
export function dkimRecordText(algorithm: DkimAlgorithm, publicKey: Uint8Array | null): string {
  const k = algorithm === "rsa-sha256" ? "rsa" : "ed25519";
  return `v=DKIM1; k=${k}; p=${publicKey === null ? "" : encodeBase64(publicKey)}`;
}

/** Longest character-string in a TXT record (RFC 1035 §3.3.14: one length octet). */
export const MAX_TXT_STRING = 255;

/**
 * The text as a zone file writes it: quoted character-strings of at most 255 octets each,
 * separated by spaces (`"v=DKIM1; k=rsa; p=MIIB…" "…AQAB"`). Verifiers join them with nothing
 * between (RFC 6376 §3.6.2.2). The text is ASCII without quotes or backslashes.
 */
export function zoneStrings(text: string): string {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += MAX_TXT_STRING) {
    parts.push(`"${text.slice(i, i + MAX_TXT_STRING)}"`);
  }
  return parts.join(" ");
}
