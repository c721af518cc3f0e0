/**
 * BODY[section]<partial> (RFC 9051 §6.4.5): which bytes of a stored message a section names,
 * found from the offsets src/mime keeps in the {@link BodyPart} tree, so a session reads (and
 * decrypts) only that range. Private to `src/imap/proto/`; the public surface is
 * `serialize.ts`.
 *
 * Part numbering (RFC 9051 §6.4.5): the parts of a multipart are numbered from 1; a message
 * that is not multipart — the top-level message or one encapsulated in a message/rfc822 or
 * message/global part — has exactly one part, 1, which is its body. A leaf part inside a
 * multipart has no sub-parts ("2.1" of an image does not exist).
 *
 * @module
 */

import type { BodyPart } from "../../mime/mod.ts";
import type { ResponseWriter } from "./_writer.ts";

/** A section-spec's text part (RFC 9051 §9 section-msgtext / section-text). */
export type SectionText = "HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME";

/** A parsed section-spec (RFC 9051 §9 section): `1.2.HEADER.FIELDS (From To)` and the like. */
export interface Section {
  /** Part numbers, outermost first, each 1 or more; empty for the message itself. */
  readonly part: readonly number[];
  /** The text specifier after the part numbers, if any. */
  readonly text?: SectionText | null;
  /** Field names of HEADER.FIELDS and HEADER.FIELDS.NOT, as the client wrote them. */
  readonly fields?: readonly string[];
}

/** Where a section's bytes are in the message, and whether they are to be filtered. */
export interface SectionRange {
  /** Offset of the first byte of the section in the message. */
  start: number;
  /** Offset after its last byte. */
  end: number;
  /**
   * For HEADER.FIELDS (`not` false) and HEADER.FIELDS.NOT (`not` true): `[start, end)` is
   * the whole header, to be passed through {@link filterHeaderFields}.
   */
  fields?: { names: readonly string[]; not: boolean };
}

/**
 * The part a list of part numbers names (RFC 9051 §6.4.5), or null when there is none.
 * An empty list names the message itself (the root).
 *
 * @example
 * ```ts
 * import { parseStructure } from "../../mime/mod.ts";
 *
 * const root = parseStructure(new TextEncoder().encode("Subject: x\r\n\r\nhi"));
 * findPart(root, [1]) === root; // true: part 1 of a single-part message is its body
 * findPart(root, [2]); // null
 * ```
 */
export function findPart(root: BodyPart, part: readonly number[]): BodyPart | null {
  let current = root;
  let isMessage = true; // `current` is the root part of a (top-level or encapsulated) message
  for (const n of part) {
    if (!Number.isSafeInteger(n) || n < 1) return null;
    if (!isMessage && current.message !== undefined) {
      current = current.message.body; // a message/rfc822 part's sub-parts are its message's
      isMessage = true;
    }
    let next: BodyPart | null = null;
    if (current.parts !== undefined) next = current.parts[n - 1] ?? null;
    else if (isMessage && n === 1) next = current; // RFC 9051 §6.4.5: "only have a part 1"
    if (next === null) return null;
    current = next;
    isMessage = false;
  }
  return current;
}

/**
 * The byte range of a section in the message `root` describes, or null when the section
 * does not exist: a part number beyond the tree, HEADER / TEXT / HEADER.FIELDS on a part
 * that is not a message/rfc822 or message/global, or MIME without a part number.
 *
 * RFC 9051 §6.4.5 has the server return an empty string for a part that does not exist;
 * which reply to give (an empty literal, NIL, or NO) is the session's choice.
 */
export function sectionRange(root: BodyPart, section: Section): SectionRange | null {
  const target = findPart(root, section.part);
  if (target === null) return null;
  const text = section.text ?? null;
  const whole = section.part.length === 0;
  if (text === null) {
    // BODY[] is the whole message; BODY[1.2] a part's body (for message/rfc822, the message).
    return whole
      ? { start: root.headerStart, end: root.end }
      : { start: target.bodyStart, end: target.end };
  }
  if (text === "MIME") {
    // RFC 9051 §6.4.5: MIME is the part's MIME header and must follow part numbers.
    return whole ? null : { start: target.headerStart, end: target.bodyStart };
  }
  // HEADER, HEADER.FIELDS[.NOT] and TEXT name the top-level message or, after part numbers,
  // a message/rfc822 (or message/global) part's encapsulated message.
  const message = whole ? root : target.message?.body ?? null;
  if (message === null) return null;
  if (text === "TEXT") return { start: message.bodyStart, end: message.end };
  const header = { start: message.headerStart, end: message.bodyStart };
  if (text === "HEADER") return header;
  return { ...header, fields: { names: section.fields ?? [], not: text === "HEADER.FIELDS.NOT" } };
}

/**
 * The exact bytes of a section of a message (RFC 9051 §6.4.5), or null when it does not
 * exist (see {@link sectionRange}). `raw` is the whole message `root` was parsed from. The
 * result shares memory with `raw` except after header filtering.
 *
 * @example
 * ```ts
 * import { parseStructure } from "../../mime/mod.ts";
 *
 * const raw = new TextEncoder().encode("From: a@x\r\nTo: b@y\r\n\r\nhi");
 * const root = parseStructure(raw);
 * sectionBytes(raw, root, { part: [], text: "HEADER.FIELDS", fields: ["to"] });
 * // the bytes of "To: b@y\r\n\r\n"
 * ```
 */
export function sectionBytes(
  raw: Uint8Array,
  root: BodyPart,
  section: Section,
): Uint8Array | null {
  const range = sectionRange(root, section);
  if (range === null) return null;
  const bytes = raw.subarray(range.start, range.end);
  return range.fields === undefined
    ? bytes
    : filterHeaderFields(bytes, range.fields.names, range.fields.not);
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;
const CRLF = new Uint8Array([CR, LF]);

/**
 * The field name at the start of `header[pos, end)` lower-cased, or null when the line is
 * not a field (RFC 5322 §3.6.8 ftext, with the obsolete WSP before the colon of §4.5).
 */
function fieldName(header: Uint8Array, pos: number, end: number): string | null {
  let i = pos;
  let name = "";
  for (; i < end; i++) {
    const c = header[i]!;
    if (c === COLON || c < 33 || c > 126) break;
    name += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  }
  while (i < end && (header[i] === SP || header[i] === TAB)) i++;
  return name !== "" && header[i] === COLON ? name : null;
}

/**
 * The fields of a header section named in `names` (or, with `not`, those not named),
 * compared case-insensitively, each with its original lines (folded lines included), and
 * the blank line that ends a header (RFC 9051 §6.4.5 HEADER.FIELDS, HEADER.FIELDS.NOT).
 * Lines that are not fields are left out. The blank line is CRLF.
 */
export function filterHeaderFields(
  header: Uint8Array,
  names: readonly string[],
  not: boolean,
): Uint8Array {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const ranges: number[] = []; // [from, to) pairs, adjacent ones merged
  let keep = false;
  let pos = 0;
  while (pos < header.length) {
    const lf = header.indexOf(LF, pos);
    const next = lf === -1 ? header.length : lf + 1;
    const first = header[pos]!;
    if (first === LF || (first === CR && header[pos + 1] === LF)) break; // the blank line
    if (first !== SP && first !== TAB) { // RFC 5322 §2.2.3: WSP starts a continuation line
      const name = fieldName(header, pos, next);
      keep = name !== null && wanted.has(name) !== not;
    }
    if (keep) {
      if (ranges.length > 0 && ranges[ranges.length - 1] === pos) ranges[ranges.length - 1] = next;
      else ranges.push(pos, next);
    }
    pos = next;
  }
  let size = CRLF.length;
  for (let k = 0; k < ranges.length; k += 2) size += ranges[k + 1]! - ranges[k]!;
  const unterminated = ranges.length > 0 && header[ranges[ranges.length - 1]! - 1] !== LF;
  if (unterminated) size += CRLF.length; // a last field without a line end gets one
  const out = new Uint8Array(size);
  let at = 0;
  for (let k = 0; k < ranges.length; k += 2) {
    out.set(header.subarray(ranges[k]!, ranges[k + 1]!), at);
    at += ranges[k + 1]! - ranges[k]!;
  }
  if (unterminated) {
    out.set(CRLF, at);
    at += CRLF.length;
  }
  out.set(CRLF, at);
  return out;
}

/**
 * Applies `<origin.count>` (RFC 9051 §6.4.5): the octets from `origin`, at most `count` of
 * them; empty when `origin` is beyond the end. Shares memory with `bytes`.
 */
export function partial(bytes: Uint8Array, origin: number, count = Infinity): Uint8Array {
  const from = Math.min(Math.max(0, origin), bytes.length);
  return bytes.subarray(from, Math.min(bytes.length, from + Math.max(0, count)));
}

/**
 * Writes a section as a FETCH response names it (RFC 9051 §7.5.2): `[1.2.HEADER.FIELDS
 * (From To)]`. Field names are astrings, written back as the client sent them.
 */
export function writeSection(w: ResponseWriter, section: Section): void {
  let spec = section.part.join(".");
  const text = section.text ?? null;
  if (text !== null) spec += (spec === "" ? "" : ".") + text;
  w.text(`[${spec}`);
  if (text === "HEADER.FIELDS" || text === "HEADER.FIELDS.NOT") {
    w.sp().list(section.fields ?? [], (x, name) => x.astring(name));
  }
  w.text("]");
}
