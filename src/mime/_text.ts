/**
 * Byte and text helpers shared by the MIME parsers: strict UTF-8 validation, Latin-1,
 * and charset decoding through the platform's `TextDecoder`. Private to `src/mime/`.
 *
 * @module
 */

const utf8Decoder = new TextDecoder("utf-8");
const utf16Decoder = new TextDecoder("utf-16le");
const encoder = new TextEncoder();
/** Decoders by normalised label; only labels the platform accepted are stored, so it stays small. */
const decoders = new Map<string, TextDecoder>([["utf-8", utf8Decoder]]);
/** Labels the platform refused, so hostile input cannot make us probe the same one again. */
const unknown = new Set<string>();
const MAX_UNKNOWN = 256;

/** Returns true when `bytes[start, end)` is well-formed UTF-8 (RFC 3629 §4). */
export function isUtf8(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  let i = start;
  while (i < end) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // RFC 3629 §4: no overlong three-byte forms
      if (b === 0xed) hi = 0x9f; // RFC 3629 §4: no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f; // RFC 3629 §4: nothing above U+10FFFF
    } else return false;
    if (i + need >= end) return false;
    const second = bytes[i + 1]!;
    if (second < lo || second > hi) return false;
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return false;
    }
    i += need + 1;
  }
  return true;
}

/**
 * Decodes `bytes[start, end)` as ISO 8859-1 proper: each byte is the code point of that
 * value. (The "latin1" label of TextDecoder means windows-1252, so the bytes are widened to
 * UTF-16 code units instead, which decodes natively.)
 */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const wide = new Uint16Array(Math.max(0, end - start));
  wide.set(bytes.subarray(start, end));
  return utf16Decoder.decode(wide);
}

/**
 * Decodes header or parameter bytes: UTF-8 when the bytes are valid UTF-8 (RFC 6532 §3.2
 * allows UTF-8 in headers), otherwise Latin-1 so every byte still maps to one character.
 */
export function bytesToText(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii && !isUtf8(bytes, start, end)) return latin1(bytes, start, end);
  return utf8Decoder.decode(bytes.subarray(start, end));
}

/** Encodes text as UTF-8. */
export function textToBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Normalises a MIME charset name for lookup: trimmed, lowercased, and without an RFC 2231 §5
 * language suffix (`utf-8*en` is `utf-8`).
 */
export function normalizeCharset(charset: string): string {
  const star = charset.indexOf("*");
  return (star === -1 ? charset : charset.slice(0, star)).trim().toLowerCase();
}

/** A count of new charset labels a caller may still probe (each probe may cost an exception). */
export interface ProbeBudget {
  probes: number;
}

/**
 * Returns a decoder for the charset, or null when the platform does not know it. A label
 * not seen before is probed only while `budget` (when given) has probes left, so input
 * naming thousands of made-up charsets costs a bounded number of probes.
 */
export function decoderFor(charset: string, budget?: ProbeBudget): TextDecoder | null {
  const label = normalizeCharset(charset);
  const cached = decoders.get(label);
  if (cached !== undefined) return cached;
  if (label === "" || label.length > 64 || unknown.has(label)) return null;
  if (budget !== undefined && budget.probes-- <= 0) return null;
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label);
  } catch {
    // The constructor's RangeError is the only way to ask whether a label is known
    // (WHATWG Encoding §7.2); an unknown charset is a normal outcome, not a failure.
    if (unknown.size >= MAX_UNKNOWN) unknown.clear(); // stays bounded
    unknown.add(label);
    return null;
  }
  decoders.set(label, decoder);
  return decoder;
}

/**
 * Decodes bytes in the named charset (any label the WHATWG Encoding Standard knows:
 * utf-8, us-ascii, iso-8859-x, windows-125x, koi8-r, shift_jis, gb18030, …). Malformed
 * sequences become U+FFFD. Returns null when the charset is unknown.
 */
export function decodeCharset(bytes: Uint8Array, charset: string): string | null {
  const decoder = decoderFor(charset);
  return decoder === null ? null : decoder.decode(bytes);
}
