/**
 * The text SEARCH matches strings against (RFC 9051 §6.4.4): header values with RFC 2047
 * words decoded, address lists as `Name <mailbox@host>`, and the bodies of text parts with
 * their transfer encoding and charset undone. Private to search.ts.
 *
 * Matching is a case-insensitive substring test (RFC 9051 §6.4.4) after full Unicode case
 * mapping both ways (upper, then lower), so "STRASSE" finds "Straße" and "ſ" finds "s".
 *
 * Bounded: a message is read at most once per key, and only its text/* parts (and the header
 * sections of encapsulated messages) are decoded; images and other attachments are skipped.
 *
 * @module
 */

import {
  type AddressItem,
  type BodyPart,
  decodedName,
  decodeEncodedWords,
  isGroupEnd,
  parseDate,
  parseHeader,
} from "../../mime/mod.ts";
import { decodeTransfer } from "./_transfer.ts";

/** `text` folded for a case-insensitive comparison. */
export function fold(text: string): string {
  return text.toUpperCase().toLowerCase();
}

/** True when `haystack` contains `needle` ignoring case; an empty needle is in everything. */
export function containsFolded(haystack: string, needle: string): boolean {
  return needle === "" || fold(haystack).includes(fold(needle));
}

/** An address list as text: `Name <mailbox@host>, …`, names decoded; groups by their name. */
export function addressText(list: readonly AddressItem[] | null): string {
  if (list === null) return "";
  const out: string[] = [];
  for (const item of list) {
    if (isGroupEnd(item)) continue;
    if (item.host === null) { // a group's start marker: the group's name
      out.push(`${item.mailbox ?? ""}:`);
      continue;
    }
    const address = item.host === "" ? item.mailbox ?? "" : `${item.mailbox}@${item.host}`;
    const name = decodedName(item);
    out.push(name === null || name === "" ? address : `${name} <${address}>`);
  }
  return out.join(", ");
}

/** The values of the top-level header's fields named `name` (any case), encoded words decoded. */
export function headerValues(raw: Uint8Array, name: string): string[] {
  const wanted = name.toLowerCase();
  return parseHeader(raw).fields
    .filter((f) => f.name.toLowerCase() === wanted)
    .map((f) => decodeEncodedWords(f.value));
}

/** A header section as text, one `Name: value` line per field, encoded words decoded. */
function headerText(raw: Uint8Array, start: number, end: number): string {
  return parseHeader(raw, start, end).fields
    .map((f) => `${f.name}: ${decodeEncodedWords(f.value)}`)
    .join("\r\n");
}

/** The top-level header section as text (TEXT searches it with the body). */
export function messageHeaderText(raw: Uint8Array, root: BodyPart): string {
  return headerText(raw, root.headerStart, root.bodyStart);
}

const decoders = new Map<string, TextDecoder | null>();
const MAX_DECODERS = 64;
const utf8 = new TextDecoder("utf-8");

/** A decoder for a MIME charset label; UTF-8 for none or one the platform does not know. */
function decoderFor(charset: string | undefined): TextDecoder {
  const label = (charset ?? "utf-8").trim().toLowerCase();
  if (label === "" || label === "us-ascii" || label === "utf-8") return utf8;
  let decoder = decoders.get(label);
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(label);
    } catch {
      // WHATWG Encoding §7.2: the constructor's RangeError is the only way to ask whether a
      // label is known; an unknown charset is read as UTF-8 (invalid octets become U+FFFD).
      decoder = null;
    }
    if (decoders.size >= MAX_DECODERS) decoders.clear(); // bounded however many labels come
    decoders.set(label, decoder);
  }
  return decoder ?? utf8;
}

function charsetOf(part: BodyPart): string | undefined {
  return part.params.find(([name]) => name === "charset")?.[1];
}

/**
 * The texts of a message's body (RFC 9051 §6.4.4 BODY): each text/* leaf decoded (transfer
 * encoding, then charset), and the header section of each encapsulated message, in order.
 * Parts with an unknown transfer encoding are searched as stored.
 */
export function* bodyTexts(raw: Uint8Array, root: BodyPart): Generator<string> {
  yield* partTexts(raw, root);
}

function* partTexts(raw: Uint8Array, part: BodyPart): Generator<string> {
  if (part.parts !== undefined) {
    for (const child of part.parts) yield* partTexts(raw, child);
    return;
  }
  if (part.message !== undefined) {
    const inner = part.message.body;
    yield headerText(raw, inner.headerStart, inner.bodyStart);
    yield* partTexts(raw, inner);
    return;
  }
  // Text, and message/* leaves such as message/delivery-status (RFC 3464), which are text
  // too; a body without Content-Type is text/plain (RFC 2045 §5.2, src/mime applies it).
  if (part.type !== "text" && part.type !== "message") return;
  const stored = raw.subarray(part.bodyStart, part.end);
  const decoded = decodeTransfer(stored, part.encoding) ?? stored;
  yield decoderFor(charsetOf(part)).decode(decoded);
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
// RFC 5322 §3.3: [day-of-week ","] day month year, with §4.3's obsolete forms.
const DAY_MONTH_YEAR =
  /^\s*(?:[A-Za-z]+\s*,?\s*)?(\d{1,2})[\s-]*([A-Za-z]{3})[A-Za-z]*[\s-]*(\d{2,4})\b/;

/**
 * The calendar day written in a Date header, as days since 1970-01-01, time and zone
 * disregarded (RFC 9051 §6.4.4 SENTBEFORE/SENTON/SENTSINCE); null when the header is absent
 * or not a date src/mime can read.
 */
export function sentDay(date: string | null): number | null {
  if (date === null || parseDate(date) === null) return null;
  const m = DAY_MONTH_YEAR.exec(date.replace(/\([^()]*\)/g, " ").slice(0, 200));
  if (m === null) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  const digits = m[3]!;
  let year = Number(digits);
  // RFC 5322 §4.3: a two-digit year below 50 is 20xx, otherwise 19xx; three digits add 1900.
  if (digits.length === 2) year += year < 50 ? 2000 : 1900;
  else if (digits.length === 3) year += 1900;
  if (month < 0) return null;
  return Date.UTC(year, month, Number(m[1])) / 86_400_000;
}
