/**
 * The domains a message names, for URIBL/DBL lookups: the envelope sender's, those of the
 * From field, and the hosts of the URLs in its text and HTML parts, after the transfer
 * encoding (RFC 2045 §6.7 quoted-printable, §6.8 base64) and the charset are decoded, and in
 * HTML after character references (`&#46;`, `&period;`) are.
 *
 * Bounded: at most `maxDomains` distinct domains (the first found, sender and From first); at
 * most {@link MAX_SCAN} decoded characters of body text are scanned, and no more of a part's
 * encoded octets are decoded than can give them; at most {@link CANDIDATES_PER_DOMAIN} ×
 * `maxDomains` distinct URL hosts (as written) are examined, each once however often it occurs.
 *
 * @module
 */

import { getDomain } from "tldts";
import {
  type BodyPart,
  decodeBase64,
  getFields,
  getParam,
  latin1,
  parseAddressList,
  parseHeader,
  parseStructure,
} from "../mime/mod.ts";
import { normalizeDomain } from "../util/address.ts";

/** The most body text scanned for URLs, in characters. */
export const MAX_SCAN = 2 * 1024 * 1024;
/** Distinct URL hosts (as written) examined per domain wanted, at most. */
export const CANDIDATES_PER_DOMAIN = 10;
/** The longest host name (RFC 1035 §2.3.4); longer candidates are not names. */
const MAX_HOST = 253;

/** A domain found in a message, and where. */
export interface FoundDomain {
  /** The host name as found (ASCII, lower case, A-labels). */
  readonly host: string;
  /** Its registrable domain (public suffix plus one label), or the host when it has none. */
  readonly registrable: string;
  readonly source: "sender" | "from" | "body";
}

/**
 * A host name as found (in an address or a URL) in canonical ASCII form; null when it is not
 * a domain name with a dot (IP literals, `localhost`, garbage).
 */
export function hostName(text: string): string | null {
  const trimmed = text.trim().replace(/\.$/, "");
  if (trimmed === "" || !trimmed.includes(".") || /^[\d.]+$/.test(trimmed)) return null;
  if (trimmed.startsWith("[")) return null;
  try {
    const { ascii } = normalizeDomain(trimmed);
    return ascii.includes(".") ? ascii : null;
  } catch {
    // Not a domain name (normalizeDomain's InvalidInputError): nothing to look up.
    return null;
  }
}

/** The registrable domain of a host (its public suffix plus one label), else the host. */
export function registrableDomain(host: string): string {
  return getDomain(host, { allowPrivateDomains: false }) ?? host;
}

/**
 * The domains of a message, in the order they are to be checked: the envelope sender's, the
 * From field's, then the URLs' in the body; distinct by host; at most `maxDomains`.
 */
export function messageDomains(
  raw: Uint8Array,
  sender: string | null,
  maxDomains: number,
): FoundDomain[] {
  const found: FoundDomain[] = [];
  const seen = new Set<string>();
  const add = (text: string, source: FoundDomain["source"]): boolean => {
    if (found.length >= maxDomains) return false;
    const host = hostName(text);
    if (host !== null && !seen.has(host)) {
      seen.add(host);
      found.push({ host, registrable: registrableDomain(host), source });
    }
    return found.length < maxDomains;
  };
  if (sender !== null) add(sender, "sender");
  const header = parseHeader(raw);
  for (const value of getFields(header, "From")) {
    for (const item of parseAddressList(value)) {
      if (item.host !== null) add(item.host, "from");
    }
  }
  if (found.length >= maxDomains) return found;
  let budget = MAX_SCAN;
  // Each distinct host as written is normalised once: a body repeating one URL costs one
  // normalisation, and a body of many junk hosts at most CANDIDATES_PER_DOMAIN × maxDomains.
  const examined = new Set<string>();
  const maxCandidates = CANDIDATES_PER_DOMAIN * maxDomains;
  for (const text of bodyTexts(raw, parseStructure(raw), () => budget)) {
    const scanned = text.length > budget ? text.slice(0, budget) : text;
    budget -= scanned.length;
    for (const candidate of urlHosts(scanned)) {
      if (candidate.length > MAX_HOST) continue;
      const key = candidate.toLowerCase();
      if (examined.has(key)) continue;
      if (examined.size >= maxCandidates) return found;
      examined.add(key);
      if (!add(candidate, "body")) return found;
    }
    if (budget <= 0) break;
  }
  return found;
}

/** URL schemes followed by a host: `http://`, `https://`, and bare `www.` names. */
const URL_HOST = /\b(?:https?:\/\/(?:[^\s\/?#@"'<>]*@)?|(?=www\.))([^\s\/?#:"'<>()\[\]\\]+)/gi;

/** The hosts of the URLs in a text, in order, found as they are asked for. */
export function* urlHosts(text: string): Generator<string> {
  for (const match of text.matchAll(URL_HOST)) yield match[1]!;
}

/**
 * The decoded texts of a message's text/plain and text/html parts, forwarded ones included.
 * `budget` says how many more characters the caller will read: of each part, no more encoded
 * octets are decoded than can give that many (a base64 part of 30 MB is not decoded whole to
 * scan its first 2 MiB).
 */
export function* bodyTexts(
  raw: Uint8Array,
  root: BodyPart,
  budget: () => number = () => Infinity,
): Generator<string> {
  const stack: BodyPart[] = [root];
  while (stack.length > 0) {
    const part = stack.pop()!;
    if (part.parts !== undefined) {
      stack.push(...[...part.parts].reverse());
      continue;
    }
    if (part.message !== undefined) {
      stack.push(part.message.body);
      continue;
    }
    if (part.type !== "text" || (part.subtype !== "plain" && part.subtype !== "html")) continue;
    const left = budget();
    if (left <= 0) return;
    const encoded = raw.subarray(part.bodyStart, part.end);
    const needed = encodedOctets(left, part.encoding);
    const bytes = transferDecode(
      encoded.length > needed ? encoded.subarray(0, needed) : encoded,
      part.encoding,
    );
    const text = charsetDecode(bytes, getParam(part.params, "charset") ?? "us-ascii");
    yield part.subtype === "html" ? decodeHtmlReferences(text) : text;
  }
}

/**
 * The most encoded octets that can decode to `chars` characters (a character is at least one
 * octet): base64 (RFC 2045 §6.8) gives 3 octets per 4 characters, plus its line breaks (76
 * characters and CRLF); quoted-printable (§6.7) at worst 1 octet per `=XX`; anything else 1:1.
 */
function encodedOctets(chars: number, encoding: string): number {
  if (!Number.isFinite(chars)) return Infinity;
  if (encoding === "base64") return Math.ceil((chars * 4) / 3 * (78 / 76)) + 4;
  if (encoding === "quoted-printable") return chars * 3;
  return chars;
}

/** The octets of a body with its transfer encoding removed (RFC 2045 §6). */
export function transferDecode(bytes: Uint8Array, encoding: string): Uint8Array {
  if (encoding === "base64") return decodeBase64(latin1(bytes));
  if (encoding === "quoted-printable") return decodeQuotedPrintable(bytes);
  return bytes;
}

const EQUALS = 0x3d;
const CR = 0x0d;
const LF = 0x0a;

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/**
 * RFC 2045 §6.7: `=XX` is an octet, `=` at a line's end is a soft line break (trailing white
 * space before it allowed, rule 3); anything malformed is kept as written.
 */
export function decodeQuotedPrintable(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c !== EQUALS) {
      out[n++] = c;
      continue;
    }
    let j = i + 1;
    while (j < bytes.length && (bytes[j] === 0x20 || bytes[j] === 0x09)) j++;
    if (j >= bytes.length) {
      i = j; // "=" ending the body: a soft break
      continue;
    }
    if (bytes[j] === CR || bytes[j] === LF) {
      // Rule 5: a soft line break joins the lines.
      i = bytes[j] === CR && bytes[j + 1] === LF ? j + 1 : j;
      continue;
    }
    const hi = hexDigit(bytes[i + 1] ?? 0);
    const lo = hexDigit(bytes[i + 2] ?? 0);
    if (hi >= 0 && lo >= 0) {
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else {
      out[n++] = c; // malformed: kept (RFC 2045 §6.7, note 1)
    }
  }
  return out.subarray(0, n);
}

/** Decodes text in its declared charset; unknown charsets are read as Latin-1. */
function charsetDecode(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase()).decode(bytes);
  } catch {
    // An unknown label (TextDecoder's RangeError): every octet still maps to a character.
    return latin1(bytes);
  }
}

const NAMED: Readonly<Record<string, string>> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  period: ".",
  sol: "/",
  colon: ":",
  nbsp: " ",
};

/** Decodes HTML character references, so `www&#46;example&period;com` is seen as a host. */
export function decodeHtmlReferences(text: string): string {
  return text.replace(
    /&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|([a-z]{2,8}));?/gi,
    (all, dec, hex, name) => {
      if (dec !== undefined || hex !== undefined) {
        const code = dec !== undefined ? Number(dec) : parseInt(hex, 16);
        return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
      }
      return NAMED[String(name).toLowerCase()] ?? all;
    },
  );
}
