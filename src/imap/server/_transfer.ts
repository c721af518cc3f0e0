/**
 * Content-Transfer-Encoding decoding (RFC 2045 §6) for FETCH BINARY (RFC 9051 §6.4.5,
 * RFC 3516) and for SEARCH BODY/TEXT (RFC 9051 §6.4.4). Pure: bytes in, bytes out, linear in
 * the input, never throwing on malformed content (what cannot be decoded is skipped or kept
 * as written, as RFC 2045 §6.7 and §6.8 advise).
 *
 * @module
 */

/** Encodings whose content is the octets as stored (RFC 2045 §6.2). */
const IDENTITY: ReadonlySet<string> = new Set(["7bit", "8bit", "binary"]);

/** True when {@link decodeTransfer} knows `encoding` (lower case, as src/mime keeps it). */
export function isKnownEncoding(encoding: string): boolean {
  return IDENTITY.has(encoding) || encoding === "base64" || encoding === "quoted-printable";
}

/** True when the encoding leaves the octets unchanged, so decoded size = stored size. */
export function isIdentityEncoding(encoding: string): boolean {
  return IDENTITY.has(encoding);
}

/**
 * The content of `bytes` with its transfer encoding removed, or null when the encoding is
 * not one of RFC 2045's (the caller answers `NO [UNKNOWN-CTE]`, RFC 9051 §6.4.5). For
 * 7bit, 8bit and binary the result is `bytes` itself.
 */
export function decodeTransfer(bytes: Uint8Array, encoding: string): Uint8Array | null {
  if (IDENTITY.has(encoding)) return bytes;
  if (encoding === "base64") return decodeBase64Bytes(bytes);
  if (encoding === "quoted-printable") return decodeQuotedPrintable(bytes);
  return null;
}

const B64 = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  B64["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".charCodeAt(i)] = i;
}
const EQUALS = 0x3d;

/**
 * Decodes base64 content (RFC 2045 §6.8): characters outside the alphabet (line breaks,
 * garbage) are ignored; "=" ends a quantum, and decoding goes on after it, so bodies made of
 * concatenated encoded chunks still decode.
 */
export function decodeBase64Bytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((bytes.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (const c of bytes) {
    if (c === EQUALS) { // RFC 2045 §6.8: padding; drop the partial quantum's spare bits
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

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;

/**
 * Decodes quoted-printable content (RFC 2045 §6.7): `=XX` is an octet (either case of hex
 * digit accepted), `=` at the end of a line is a soft line break, and white space at the end
 * of a line is transport padding and removed (rule 3). An `=` followed by anything else is
 * kept as written (the robustness advice of §6.7 note 1). Line ends are kept as they are.
 */
export function decodeQuotedPrintable(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let n = 0;
  let i = 0;
  const length = bytes.length;
  while (i < length) {
    const c = bytes[i]!;
    if (c === SP || c === TAB) {
      // Trailing white space before a line end (or the end) is padding: drop it.
      let j = i;
      while (j < length && (bytes[j] === SP || bytes[j] === TAB)) j++;
      if (j === length || bytes[j] === LF || (bytes[j] === CR && bytes[j + 1] === LF)) {
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
    const hi = i + 1 < length ? hexValue(bytes[i + 1]!) : -1;
    const lo = i + 2 < length ? hexValue(bytes[i + 2]!) : -1;
    if (hi >= 0 && lo >= 0) {
      out[n++] = (hi << 4) | lo;
      i += 3;
      continue;
    }
    // A soft line break: "=" then optional white space, then CRLF, LF or the end.
    let j = i + 1;
    while (j < length && (bytes[j] === SP || bytes[j] === TAB)) j++;
    if (j === length) {
      i = j;
    } else if (bytes[j] === LF) {
      i = j + 1;
    } else if (bytes[j] === CR && bytes[j + 1] === LF) {
      i = j + 2;
    } else {
      out[n++] = c; // not an escape: keep "=" as written
      i++;
    }
  }
  return out.subarray(0, n);
}
