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
import { encodeBase64 } from "../util/base64.ts";
import { relaxedBody, relaxedHeader, type SplitMessage, splitMessage, toCrlf } from "./canon.ts";

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

/** Longest line of a DKIM-Signature field as written (RFC 5322 §2.1.1 recommends 78). */
const LINE = 78;

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
  const names = signedNames(split);
  const headerData = concat(selectFields(split, names).map(relaxedHeader));
  // RFC 6376 §3.7: the body hash over the canonical body.
  const bodyHash = await sha256(relaxedBody(raw.subarray(split.bodyStart)));
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
    const unsigned = foldTags(tags, names, encodeBase64(bodyHash));
    // RFC 6376 §3.7: the header hash covers the signature field itself with an empty b= and
    // no final CRLF, canonicalised like the other fields.
    const self = relaxedHeader(unsigned);
    const data = concat([headerData, self.subarray(0, self.length - 2)]);
    const signature = await signData(key, data);
    out.push(appendSignature(unsigned, encodeBase64(signature)) + "\r\n");
  }
  return out;
}

/**
 * The `h=` list: each signed field as often as it occurs, From once more (RFC 6376 §8.15).
 * Lower case, so the list reads the same whatever case the message uses.
 */
function signedNames(split: SplitMessage): string[] {
  const names: string[] = [];
  for (const field of SIGNED_FIELDS) {
    const lower = field.toLowerCase();
    let count = split.fields.filter((f) => f.name.toLowerCase() === lower).length;
    if (OVERSIGNED_FIELDS.includes(field)) count++;
    for (let i = 0; i < count; i++) names.push(lower);
  }
  return names;
}

/**
 * The fields `names` stand for, in `h=` order: the n-th mention of a name takes that name's
 * n-th field counted from the bottom (RFC 6376 §5.4.2); a mention beyond the last field takes
 * none (it signs the absence, §5.4).
 */
function selectFields(split: SplitMessage, names: readonly string[]): Uint8Array[] {
  const used = new Map<string, number>();
  const out: Uint8Array[] = [];
  for (const name of names) {
    const instances = split.fields.filter((f) => f.name.toLowerCase() === name);
    const n = used.get(name) ?? 0;
    used.set(name, n + 1);
    const field = instances[instances.length - 1 - n];
    if (field) out.push(field.raw);
  }
  return out;
}

/**
 * The field up to and including `b=`, folded at {@link LINE} columns between tags and after
 * colons of `h=` (FWS is allowed there, RFC 6376 §3.5).
 */
function foldTags(tags: readonly string[], names: readonly string[], bodyHash: string): string {
  const lines: string[] = ["DKIM-Signature:"];
  const add = (token: string, separator: string) => {
    const last = lines[lines.length - 1]!;
    if (last.length + separator.length + token.length <= LINE) {
      lines[lines.length - 1] = last + separator + token;
    } else {
      lines.push("\t" + token);
    }
  };
  for (const tag of tags) add(`${tag};`, " ");
  names.forEach((name, i) => {
    const token = `${i === 0 ? "h=" : ""}${name}${i === names.length - 1 ? ";" : ":"}`;
    add(token, i === 0 ? " " : "");
  });
  add(`bh=${bodyHash};`, " ");
  // "b=" where a few characters of the signature still fit after it (the verifier removes
  // b='s value, folding included, RFC 6376 §3.5; what is signed ends with "b=").
  const last = lines[lines.length - 1]!;
  if (last.length + " b=".length + 8 <= LINE) lines[lines.length - 1] = last + " b=";
  else lines.push("\tb=");
  return lines.join("\r\n");
}

/** Appends the signature to the field, folding it at {@link LINE} columns. */
function appendSignature(unsigned: string, signature: string): string {
  const lastBreak = unsigned.lastIndexOf("\r\n");
  let column = unsigned.length - (lastBreak < 0 ? 0 : lastBreak + 2);
  let out = unsigned;
  let rest = signature;
  while (rest.length > 0) {
    const room = LINE - column;
    if (room <= 0) {
      out += "\r\n\t";
      column = 1;
      continue;
    }
    out += rest.slice(0, room);
    rest = rest.slice(room);
    column += room;
  }
  return out;
}

async function signData(key: DkimSigningKey, data: Uint8Array): Promise<Uint8Array> {
  if (key.algorithm === "rsa-sha256") {
    // RSASSA-PKCS1-v1_5 with SHA-256 over the data (RFC 6376 §3.3.1, RFC 8017 §8.2).
    return new Uint8Array(
      await crypto.subtle.sign(
        "RSASSA-PKCS1-v1_5",
        key.privateKey,
        data as Uint8Array<ArrayBuffer>,
      ),
    );
  }
  // RFC 8463 §3: PureEdDSA Ed25519 over the SHA-256 hash of the data, not over the data.
  const hash = await sha256(data);
  return new Uint8Array(
    await crypto.subtle.sign("Ed25519", key.privateKey, hash as Uint8Array<ArrayBuffer>),
  );
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const part of parts) {
    out.set(part, o);
    o += part.length;
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
