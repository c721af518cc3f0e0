/**
 * DKIM signing (RFC 6376 §5) with RSA-SHA256 and Ed25519-SHA256 (RFC 8463), relaxed/relaxed.
 *
 * Pure: the keys and the time come in as arguments; nothing here reads a database, the clock
 * or DNS. `signMessage` returns the message with one DKIM-Signature field per key prepended
 * (RFC 6376 §5.6), so a message signed with an RSA and an Ed25519 key carries both side by
 * side and a verifier that knows only RSA still finds one it can check (RFC 8463 §1).
 *
 * What is signed (RFC 6376 §5.4, §8.15):
 * - the fields of {@link SIGNED_FIELDS} that the message has, each instance listed once in
 *   `h=` (instances are taken from the bottom up, §5.4.2);
 * - From, which must occur exactly once, listed once more than it occurs ("oversigned"): the
 *   extra entry signs the absence of a second From, so none can be added (§8.15);
 * - the whole body (no `l=`, §8.2).
 *
 * @module
 */

import type { DkimSigningKey } from "../crypto/dkim_keys.ts";
import { parseAddressList } from "../mime/address_list.ts";
import { FumiError } from "../util/errors.ts";
import { normalizeDomain } from "../util/address.ts";
import { splitMessage, toCrlf } from "./canon.ts";
import { bodyHash, headerData, signedField, signedNames } from "./_signature.ts";

/**
 * The fields signed when present, in the order they are listed in `h=`: those RFC 6376 §5.4.1
 * recommends, as common signers (OpenDKIM, rspamd, Gmail) choose them.
 */
export const SIGNED_FIELDS: readonly string[] = [
  "From",
  "Reply-To",
  "Subject",
  "Date",
  "To",
  "Cc",
  "Message-ID",
  "In-Reply-To",
  "References",
  "MIME-Version",
  "Content-Type",
  "Content-Transfer-Encoding",
  "List-Id",
  "List-Help",
  "List-Unsubscribe",
  "List-Unsubscribe-Post",
  "List-Subscribe",
  "List-Post",
  "List-Owner",
  "List-Archive",
];

/** Fields listed once more than they occur (RFC 6376 §8.15). */
export const OVERSIGNED_FIELDS: readonly string[] = ["From"];

/** How to sign. */
export interface SignOptions {
  /** The signing time (`t=`, RFC 6376 §3.5), in milliseconds since the epoch. */
  readonly now: number;
  /** When set, signatures expire this many seconds after `now` (`x=`). */
  readonly expiresInSeconds?: number;
}

/** The message cannot be signed (no From, or more than one). */
export class DkimSignError extends FumiError {}

/**
 * Signs `raw` with each key and returns the message, its line ends made CRLF, with one
 * DKIM-Signature field per key prepended in the order of `keys`.
 *
 * @example
 * ```ts
 * const keys = await store.dkimKeys.signingKeys(authorDomain(raw));
 * const signed = await signMessage(raw, keys, { now: Date.now() });
 * ```
 */
export async function signMessage(
  raw: Uint8Array,
  keys: readonly DkimSigningKey[],
  options: SignOptions,
): Promise<Uint8Array> {
  const message = toCrlf(raw);
  const fields = await dkimSignatureFields(message, keys, options);
  const head = new TextEncoder().encode(fields.join(""));
  const out = new Uint8Array(head.length + message.length);
  out.set(head);
  out.set(message, head.length);
  return out;
}

/**
 * The DKIM-Signature fields for `raw` (CRLF line ends), one per key, each folded and ending
 * with CRLF.
 */
export async function dkimSignatureFields(
  raw: Uint8Array,
  keys: readonly DkimSigningKey[],
  options: SignOptions,
): Promise<string[]> {
  const split = splitMessage(raw);
  const froms = split.fields.filter((f) => f.name.toLowerCase() === "from").length;
  if (froms !== 1) {
    // RFC 5322 §3.6 allows exactly one; RFC 6376 §5.4 requires From to be signed.
    throw new DkimSignError(
      froms === 0
        ? "Cannot sign a message without a From field"
        : `Cannot sign a message with ${froms} From fields`,
    );
  }
  // RFC 6376 §8.15: each signed field as often as it occurs, From once more.
  const names = signedNames(split, SIGNED_FIELDS, OVERSIGNED_FIELDS);
  const data = headerData(split, names);
  const hash = await bodyHash(raw, split);
  const t = Math.floor(options.now / 1000);
  const out: string[] = [];
  for (const key of keys) {
    const tags = [
      "v=1",
      `a=${key.algorithm}`,
      "c=relaxed/relaxed",
      `d=${key.domain}`,
      `s=${key.selector}`,
      `t=${t}`,
      ...(options.expiresInSeconds === undefined ? [] : [`x=${t + options.expiresInSeconds}`]),
    ];
    // RFC 6376 §3.7: the header hash covers the signature field itself with an empty b= and
    // no final CRLF, canonicalised like the other fields.
    out.push(
      await signedField(
        { field: "DKIM-Signature", tags, headers: names, bodyHash: hash },
        key,
        data,
      ),
    );
  }
  return out;
}

/**
 * The domain of the message's From address (RFC 5322 §3.6.2), in ASCII: the domain whose keys
 * sign it (RFC 6376 §1.2; DMARC alignment, RFC 7489 §3.1.1). Exactly one From with exactly
 * one address is required.
 */
export function authorDomain(raw: Uint8Array): string {
  const froms = splitMessage(toCrlf(raw)).fields.filter((f) => f.name.toLowerCase() === "from");
  if (froms.length !== 1) {
    throw new DkimSignError(
      froms.length === 0
        ? "Cannot sign a message without a From field"
        : `Cannot sign a message with ${froms.length} From fields`,
    );
  }
  const text = new TextDecoder().decode(froms[0]!.raw);
  const value = text.slice(text.indexOf(":") + 1).replace(/\r\n(?=[ \t])/g, "").trim();
  const addresses = parseAddressList(value).filter((a) => a.host !== null);
  if (addresses.length !== 1 || !addresses[0]!.host) {
    throw new DkimSignError(`Cannot tell the author's domain from the From field "${value}"`);
  }
  return normalizeDomain(addresses[0]!.host).ascii;
}
