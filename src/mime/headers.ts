/**
 * Header section parsing (RFC 5322 §2.2, §3.6): fields with unfolded values, and where the
 * body begins. Liberal for stored messages: CRLF or bare LF line ends, obsolete white space
 * before the colon, lines that are not fields skipped.
 *
 * @module
 */

import { bytesToText, latin1 } from "./_text.ts";

/** One header field: its name as written and its unfolded value. */
export interface HeaderField {
  /** The field name as written; compare it case-insensitively (RFC 5322 §1.2.2). */
  name: string;
  /** The unfolded value, leading white space removed; UTF-8 when valid, else Latin-1. */
  value: string;
}

/** A parsed header section. */
export interface HeaderBlock {
  /** The fields in order of appearance (at most {@link MAX_HEADER_FIELDS}). */
  fields: HeaderField[];
  /** Offset of the first body byte: after the empty line, or the end when there is none. */
  bodyStart: number;
}

/** Fields kept per header section; the rest are skipped (still scanned to find the body). */
export const MAX_HEADER_FIELDS = 1000;

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

/** Clamps an offset to `[lo, hi]`; non-finite values become `lo`. */
export function clampOffset(n: number, lo: number, hi: number): number {
  if (!Number.isFinite(n)) return n === Infinity ? hi : lo;
  const i = Math.trunc(n);
  return i < lo ? lo : i > hi ? hi : i;
}

/**
 * Parses the header section of `raw[start, end)`. Never throws; offsets are clamped to the
 * input and `start <= bodyStart <= end` holds.
 *
 * @example
 * ```ts
 * const block = parseHeader(new TextEncoder().encode("Subject: hi\r\n there\r\n\r\nbody"));
 * block.fields[0]; // { name: "Subject", value: "hi there" }
 * block.bodyStart; // 23
 * ```
 */
export function parseHeader(raw: Uint8Array, start = 0, end: number = raw.length): HeaderBlock {
  const limit = clampOffset(end, 0, raw.length);
  const view = raw.subarray(0, limit); // searches never run past `end`
  let pos = clampOffset(start, 0, limit);
  const fields: HeaderField[] = [];
  let name: string | null = null;
  let valueStart = 0; // the current field's value: [valueStart, valueEnd), line breaks inside
  let valueEnd = 0;

  const flush = (): void => {
    if (name !== null && fields.length < MAX_HEADER_FIELDS) {
      fields.push({ name, value: unfold(view, valueStart, valueEnd) });
    }
    name = null;
  };

  while (pos < limit) {
    const lf = view.indexOf(LF, pos);
    const lineEnd = lf === -1 ? limit : lf;
    const next = lf === -1 ? limit : lf + 1;
    const contentEnd = lineEnd > pos && view[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    if (contentEnd === pos) { // RFC 5322 §2.1: an empty line ends the header section
      flush();
      return { fields, bodyStart: next };
    }
    const first = view[pos]!;
    if (first === SP || first === TAB) {
      // RFC 5322 §2.2.3: a line starting with WSP continues the previous field (unfolding
      // removes only the line break). Without a field to continue, the line is skipped.
      if (name !== null) valueEnd = contentEnd;
    } else {
      flush();
      if (fields.length < MAX_HEADER_FIELDS) {
        const field = fieldStart(view, pos, contentEnd);
        if (field !== null) {
          name = field.name;
          valueStart = field.valueStart;
          valueEnd = contentEnd;
        }
      }
    }
    pos = next;
  }
  flush();
  return { fields, bodyStart: limit };
}

/** Reads `name ":"` at the start of a line; null when the line is not a field. */
function fieldStart(
  view: Uint8Array,
  pos: number,
  contentEnd: number,
): { name: string; valueStart: number } | null {
  let nameEnd = pos;
  while (nameEnd < contentEnd) { // RFC 5322 §3.6.8: ftext is %d33-57 / %d59-126
    const c = view[nameEnd]!;
    if (c === COLON || c < 33 || c > 126) break;
    nameEnd++;
  }
  let colon = nameEnd;
  while (colon < contentEnd && (view[colon] === SP || view[colon] === TAB)) {
    colon++; // RFC 5322 §4.5: obsolete WSP between the field name and the colon
  }
  if (nameEnd === pos || colon >= contentEnd || view[colon] !== COLON) return null;
  return { name: latin1(view, pos, nameEnd), valueStart: colon + 1 };
}

/**
 * Unfolds `view[from, to)` (RFC 5322 §2.2.3): every line break inside the range precedes a
 * continuation line, so all LFs go, with the CR just before each. Leading WSP and trailing
 * CRs are stripped.
 */
function unfold(view: Uint8Array, from: number, to: number): string {
  while (from < to && (view[from] === SP || view[from] === TAB)) from++;
  const firstLf = view.subarray(from, to).indexOf(LF);
  if (firstLf === -1) {
    while (to > from && view[to - 1] === CR) to--;
    return bytesToText(view, from, to);
  }
  const joined = new Uint8Array(to - from);
  let n = 0;
  for (let k = from; k < to; k++) {
    const c = view[k]!;
    if (c === LF || (c === CR && view[k + 1] === LF)) continue;
    joined[n++] = c;
  }
  let start = 0;
  while (start < n && (joined[start] === SP || joined[start] === TAB)) start++;
  while (n > start && joined[n - 1] === CR) n--;
  return bytesToText(joined, start, n);
}

/** The value of the first field called `name` (case-insensitive), or null when absent. */
export function getField(block: HeaderBlock, name: string): string | null {
  const wanted = name.toLowerCase();
  for (const field of block.fields) {
    if (field.name.toLowerCase() === wanted) return field.value;
  }
  return null;
}

/** The values of every field called `name` (case-insensitive), in order. */
export function getFields(block: HeaderBlock, name: string): string[] {
  const wanted = name.toLowerCase();
  return block.fields.filter((f) => f.name.toLowerCase() === wanted).map((f) => f.value);
}
