/**
 * Content-Transfer-Encoding (RFC 2045 §6) removed from a body: base64 and quoted-printable
 * decoded, the identity encodings passed through. Pure, linear in the input, never throwing:
 * what cannot be decoded is skipped (base64) or kept as written (quoted-printable), as
 * RFC 2045 §6.7 note 1 and §6.8 advise.
 *
 * @module
 */

const B64 = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  B64["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".charCodeAt(i)] = i;
}
const EQUALS = 0x3d;
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;

/**
 * The content of a body with its transfer encoding (lowercased, as {@link BodyPart} keeps it)
 * removed. Unknown encodings and the identity ones (7bit, 8bit, binary) return `bytes` itself.
 *
 * @example
 * ```ts
 * decodeTransfer(new TextEncoder().encode("caf=C3=A9=\r\n!"), "quoted-printable"); // "café!" in UTF-8
 * ```
 */
export function decodeTransfer(bytes: Uint8Array, encoding: string): Uint8Array {
  if (encoding === "base64") return decodeBase64Body(bytes);
  if (encoding === "quoted-printable") return decodeQuotedPrintableBody(bytes);
  return bytes;
}

/**
 * The size of the decoded content without decoding it, for attachment lists: base64 is
 * counted (6 bits per alphabet character, RFC 2045 §6.8), quoted-printable decoded.
 */
export function decodedSize(bytes: Uint8Array, encoding: string): number {
  if (encoding === "quoted-printable") return decodeQuotedPrintableBody(bytes).length;
  if (encoding !== "base64") return bytes.length;
  let bits = 0;
  let total = 0;
  for (const c of bytes) {
    if (c === EQUALS) {
      bits = 0; // padding ends a quantum, as in decodeBase64Body
      continue;
    }
    if (B64[c]! < 0) continue;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      total++;
    }
  }
  return total;
}

/**
 * RFC 2045 §6.8: characters outside the alphabet (line breaks, garbage) are ignored; "="
 * ends a quantum and decoding goes on after it, so concatenated encoded chunks decode too.
 */
function decodeBase64Body(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((bytes.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (const c of bytes) {
    if (c === EQUALS) {
      acc = 0;
      bits = 0;
      continue;
    }
    const v = B64[c]!;
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

function hex(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/** The index after a line end at `i` (CRLF or bare LF), or -1 when there is none there. */
function lineEndAt(bytes: Uint8Array, i: number): number {
  if (bytes[i] === LF) return i + 1;
  if (bytes[i] === CR && bytes[i + 1] === LF) return i + 2;
  return -1;
}

/**
 * RFC 2045 §6.7: `=XX` is an octet (either case of hex digit), "=" ending a line is a soft
 * line break (rule 5), and white space ending a line is padding and removed (rule 3). A
 * malformed "=" is kept as written (note 1). Line ends are kept as they are.
 */
function decodeQuotedPrintableBody(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let n = 0;
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i]!;
    if (c === SP || c === TAB) {
      let j = i;
      while (bytes[j] === SP || bytes[j] === TAB) j++;
      if (j === bytes.length || lineEndAt(bytes, j) !== -1) { // rule 3: trailing padding
        i = j;
        continue;
      }
      while (i < j) out[n++] = bytes[i++]!;
      continue;
    }
    if (c !== EQUALS) {
      out[n++] = c;
      i++;
      continue;
    }
    const hi = hex(bytes[i + 1]);
    const lo = hex(bytes[i + 2]);
    if (hi >= 0 && lo >= 0) {
      out[n++] = (hi << 4) | lo;
      i += 3;
      continue;
    }
    let j = i + 1;
    while (bytes[j] === SP || bytes[j] === TAB) j++;
    const next = j === bytes.length ? j : lineEndAt(bytes, j);
    if (next !== -1) i = next; // rule 5: a soft line break
    else {
      out[n++] = c;
      i++;
    }
  }
  return out.subarray(0, n);
}
