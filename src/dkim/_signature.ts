/**
 * The signing core shared by DKIM-Signature (sign.ts) and the ARC header fields (arc.ts): which
 * fields an `h=` list stands for, the body hash, the tag list folded into a field, and the
 * signature over the canonical header data followed by the field itself with an empty `b=`.
 *
 * ARC's ARC-Message-Signature is a DKIM-Signature under another name with `i=` for `v=`, and
 * its ARC-Seal is signed the same way over other header data (RFC 8617 §4.1.2, §4.1.3), so one
 * core serves all three and they cannot drift apart.
 *
 * @module
 */

import type { DkimSigningKey } from "../crypto/dkim_keys.ts";
import { encodeBase64 } from "../util/base64.ts";
import { relaxedBody, relaxedHeader, type SplitMessage } from "./canon.ts";

/** Longest line of a signature field as written (RFC 5322 §2.1.1 recommends 78). */
export const LINE = 78;

/** A signature field to write: its name and tags; `b=` comes last and is computed. */
export interface SignatureSpec {
  /** "DKIM-Signature", "ARC-Message-Signature" or "ARC-Seal". */
  readonly field: string;
  /** The tags before `h=`, each as `name=value`, in order. */
  readonly tags: readonly string[];
  /** The `h=` list (lower case), when the field has one. */
  readonly headers?: readonly string[];
  /** The `bh=` value (base64), when the field has one. */
  readonly bodyHash?: string;
}

/**
 * The field of `spec` with its signature, folded and ending with CRLF. `headerData` is the
 * canonical form of the signed fields, in order; the field itself follows it with an empty
 * `b=` and without its final CRLF, canonicalised the same way (relaxed): RFC 6376 §3.7 for
 * DKIM and the AMS, RFC 8617 §5.1.1 for the ARC-Seal.
 */
export async function signedField(
  spec: SignatureSpec,
  key: DkimSigningKey,
  headerData: Uint8Array,
): Promise<string> {
  const unsigned = foldTags(spec);
  const self = relaxedHeader(unsigned);
  const data = concat([headerData, self.subarray(0, self.length - 2)]);
  const signature = await signData(key, data);
  return appendSignature(unsigned, encodeBase64(signature)) + "\r\n";
}

/**
 * The `h=` list for `fields` (in that order): each field as often as the message has it,
 * those of `oversigned` once more (RFC 6376 §8.15). Lower case, so the list reads the same
 * whatever case the message uses.
 */
export function signedNames(
  split: SplitMessage,
  fields: readonly string[],
  oversigned: readonly string[],
): string[] {
  const names: string[] = [];
  for (const field of fields) {
    const lower = field.toLowerCase();
    let count = split.fields.filter((f) => f.name.toLowerCase() === lower).length;
    if (oversigned.some((o) => o.toLowerCase() === lower)) count++;
    for (let i = 0; i < count; i++) names.push(lower);
  }
  return names;
}

/**
 * The canonical (relaxed) header data for an `h=` list: the n-th mention of a name takes that
 * name's n-th field counted from the bottom (RFC 6376 §5.4.2); a mention beyond the last field
 * takes none (it signs the absence, §5.4).
 */
export function headerData(split: SplitMessage, names: readonly string[]): Uint8Array {
  const used = new Map<string, number>();
  const out: Uint8Array[] = [];
  for (const name of names) {
    const instances = split.fields.filter((f) => f.name.toLowerCase() === name);
    const n = used.get(name) ?? 0;
    used.set(name, n + 1);
    const field = instances[instances.length - 1 - n];
    if (field) out.push(relaxedHeader(field.raw));
  }
  return concat(out);
}

/** RFC 6376 §3.7: the body hash (base64 SHA-256) over the relaxed body (§3.4.4), whole. */
export async function bodyHash(raw: Uint8Array, split: SplitMessage): Promise<string> {
  return encodeBase64(await sha256(relaxedBody(raw.subarray(split.bodyStart))));
}

/**
 * The field up to and including `b=`, folded at {@link LINE} columns between tags and after
 * colons of `h=` (FWS is allowed there, RFC 6376 §3.5).
 */
function foldTags(spec: SignatureSpec): string {
  const lines: string[] = [`${spec.field}:`];
  const add = (token: string, separator: string) => {
    const last = lines[lines.length - 1]!;
    if (last.length + separator.length + token.length <= LINE) {
      lines[lines.length - 1] = last + separator + token;
    } else {
      lines.push("\t" + token);
    }
  };
  for (const tag of spec.tags) add(`${tag};`, " ");
  const names = spec.headers ?? [];
  names.forEach((name, i) => {
    const token = `${i === 0 ? "h=" : ""}${name}${i === names.length - 1 ? ";" : ":"}`;
    add(token, i === 0 ? " " : "");
  });
  if (spec.bodyHash !== undefined) add(`bh=${spec.bodyHash};`, " ");
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

/** The parts one after another. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const part of parts) {
    out.set(part, o);
    o += part.length;
  }
  return out;
}
