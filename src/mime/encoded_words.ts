/**
 * RFC 2047 encoded-words (`=?charset?B|Q?text?=`) in header text, and RFC 2231 parameter
 * values (continuations `name*0`, `name*1`, … and `charset'lang'%XX` extended values).
 * Decoding never throws: what cannot be decoded is left as written.
 *
 * @module
 */

import { bytesToText, decodeCharset, decoderFor, normalizeCharset, textToBytes } from "./_text.ts";

// RFC 2047 §2: charset is a token (no SPACE, CTLs or especials; `*` allowed for the RFC 2231
// §5 language suffix), encoding B or Q, encoded-text is printable ASCII except "?" and SPACE.
const ENCODED_WORD = /=\?([!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+)\?([BbQq])\?([!->@-~]*)\?=/g;
const ONLY_SPACE = /^[ \t\r\n]*$/;
/** New charset names tried per decoded text; real text names one or two. */
const MAX_CHARSET_PROBES = 16;

const B64 = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  B64["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".charCodeAt(i)] = i;
}

/** Decodes base64 leniently (RFC 2047 §4.1): skips characters outside the alphabet, stops at "=". */
export function decodeBase64(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d) break;
    const v = c < 128 ? B64[c]! : -1;
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

/** Decodes RFC 2047 §4.2 "Q" text: `_` is a space, `=XX` a byte; a stray `=` stays as is. */
export function decodeQ(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) & 0xff;
    if (c === 0x5f) out[n++] = 0x20;
    else if (c === 0x3d && i + 2 < text.length) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
      } else out[n++] = c;
    } else out[n++] = c;
  }
  return out.subarray(0, n);
}

function concatBytes(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Decodes every RFC 2047 encoded-word in `text`. White space between two adjacent
 * encoded-words is dropped (RFC 2047 §6.2), and adjacent words in the same charset are
 * decoded together so a character split across words survives. A word in a charset the
 * platform does not know is left as written (at most 16 new charset names are tried per
 * call, to bound the cost of hostile input). Words glued to other text are decoded too,
 * as common mail readers do.
 *
 * @example
 * ```ts
 * decodeEncodedWords("=?UTF-8?B?SGVsbG8=?= =?ISO-8859-1?Q?W=F6rld?="); // "HelloWörld"
 * ```
 */
export function decodeEncodedWords(text: string): string {
  if (!text.includes("=?")) return text;
  let out = "";
  let last = 0;
  let pendingCharset = "";
  let pending: Uint8Array[] = [];
  const budget = { probes: MAX_CHARSET_PROBES };
  const flush = (): void => {
    if (pending.length > 0) out += decodeCharset(concatBytes(pending), pendingCharset) ?? "";
    pending = [];
  };
  for (const m of text.matchAll(ENCODED_WORD)) {
    const charset = normalizeCharset(m[1]!);
    const between = text.slice(last, m.index);
    last = m.index + m[0].length;
    if (decoderFor(charset, budget) === null) { // unknown charset: leave the word as written
      flush();
      out += between + m[0];
      continue;
    }
    const payload = m[3]!;
    const bytes = m[2] === "B" || m[2] === "b" ? decodeBase64(payload) : decodeQ(payload);
    if (pending.length > 0 && ONLY_SPACE.test(between)) { // RFC 2047 §6.2
      if (charset !== pendingCharset) flush();
    } else {
      flush();
      out += between;
    }
    pendingCharset = charset;
    pending.push(bytes);
  }
  flush();
  return out + text.slice(last);
}

/** Percent-decodes RFC 2231 §4 extended text to bytes; a stray `%` stays as is. */
function percentDecode(text: string, out: number[]): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && i + 2 < text.length) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out.push((hi << 4) | lo);
        i += 2;
        continue;
      }
    }
    if (c < 0x80) out.push(c);
    else {
      const cp = text.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      for (const b of textToBytes(ch)) out.push(b);
      i += ch.length - 1;
    }
  }
}

/** Decodes bytes in `charset`, falling back to UTF-8-or-Latin-1 when it is unknown or empty. */
function decodeOrFallback(bytes: Uint8Array, charset: string): string {
  return (charset === "" ? null : decodeCharset(bytes, charset)) ?? bytesToText(bytes);
}

/** Splits `charset'lang'text` (RFC 2231 §4); without two apostrophes all of it is text. */
function splitExtended(value: string): { charset: string; text: string } {
  const a = value.indexOf("'");
  const b = a === -1 ? -1 : value.indexOf("'", a + 1);
  if (b === -1) return { charset: "", text: value };
  return { charset: value.slice(0, a), text: value.slice(b + 1) };
}

/**
 * Decodes an RFC 2231 §4 extended parameter value, `charset'language'percent-encoded`.
 * An unknown or empty charset decodes as UTF-8 when valid, else Latin-1.
 *
 * @example
 * ```ts
 * decodeExtendedValue("utf-8'en'%E2%82%AC%20rates"); // "€ rates"
 * ```
 */
export function decodeExtendedValue(value: string): string {
  const { charset, text } = splitExtended(value);
  const bytes: number[] = [];
  percentDecode(text, bytes);
  return decodeOrFallback(Uint8Array.from(bytes), charset);
}

interface Sections {
  plain: string | null;
  extended: string | null;
  sections: Map<number, { value: string; extended: boolean }>;
}

// RFC 2231 §3 and §4: `name*` (extended), `name*N` (section), `name*N*` (extended section).
const PARAM_NAME = /^([^*]+)\*(?:(\d{1,3})(\*)?)?$/;

/**
 * Combines RFC 2231 parameters: joins continuations (`name*0`, `name*1*`, … in numeric
 * order, RFC 2231 §3), decodes extended values (§4; the charset comes from section 0, §4.1),
 * and prefers them over a plain `name` given alongside for old readers. Names are
 * lowercased; the result keeps the order in which each name first appeared.
 */
export function combineRfc2231Params(
  params: readonly (readonly [string, string])[],
): [string, string][] {
  const byName = new Map<string, Sections>();
  const entry = (name: string): Sections => {
    let e = byName.get(name);
    if (e === undefined) {
      e = { plain: null, extended: null, sections: new Map() };
      byName.set(name, e);
    }
    return e;
  };
  for (const [rawName, value] of params) {
    const lower = rawName.toLowerCase();
    const m = PARAM_NAME.exec(lower);
    if (m === null) {
      const e = entry(lower);
      e.plain ??= value;
      continue;
    }
    const e = entry(m[1]!);
    if (m[2] === undefined) e.extended ??= value;
    else {
      const n = Number(m[2]);
      if (!e.sections.has(n)) e.sections.set(n, { value, extended: m[3] !== undefined });
    }
  }
  const out: [string, string][] = [];
  for (const [name, e] of byName) {
    if (e.sections.size > 0) out.push([name, joinSections(e.sections)]);
    else if (e.extended !== null) out.push([name, decodeExtendedValue(e.extended)]);
    else out.push([name, e.plain ?? ""]);
  }
  return out;
}

function joinSections(sections: Map<number, { value: string; extended: boolean }>): string {
  const ordered = [...sections.entries()].sort((a, b) => a[0] - b[0]);
  let charset = "";
  let out = "";
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length > 0) out += decodeOrFallback(Uint8Array.from(bytes), charset);
    bytes = [];
  };
  for (const [n, { value, extended }] of ordered) {
    if (!extended) {
      flush();
      out += value;
    } else if (n === 0) { // RFC 2231 §4.1: only the first section carries charset'lang'
      const split = splitExtended(value);
      charset = split.charset;
      percentDecode(split.text, bytes);
    } else percentDecode(value, bytes); // consecutive encoded sections decode as one run
  }
  flush();
  return out;
}
