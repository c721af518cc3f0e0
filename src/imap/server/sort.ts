/**
 * SORT's ordering (RFC 5256 §3, DISPLAYFROM and DISPLAYTO of RFC 5957) and the base subject
 * (RFC 5256 §2.1) that SORT and THREAD share. Pure: messages come in as their store row, their
 * sequence number and the envelope and summary cached at delivery; no database, no socket.
 *
 * Choices and invariants:
 * - Strings compare with "i;ascii-casemap" (RFC 5256 §2.1, RFC 4790 §9.2): a-z fold to A-Z,
 *   then code point order, which is the octet order of their UTF-8.
 * - The subject is the summary's, already RFC 2047 decoded with control characters made spaces
 *   (src/mime/envelope.ts); the base subject is extracted from it (RFC 5256 §2.1 step 1).
 * - Messages that compare equal on every criterion keep mailbox order: ties go to the lower
 *   sequence number, whatever REVERSE says (RFC 5256 §3).
 *
 * @module
 */

import { addressDisplay, type AddressItem, isGroupEnd, isGroupStart } from "../../mime/mod.ts";
import type { MessageCache, MessageInfo } from "../../store/mod.ts";
import type { SortCriterion, SortKey } from "../proto/mod.ts";

/** One message as SORT and THREAD see it. */
export interface SortItem {
  /** The message sequence number in the session. */
  readonly seq: number;
  readonly info: MessageInfo;
  /** The cached envelope and summary; only the ARRIVAL and SIZE keys do without it. */
  readonly cache: Pick<MessageCache, "envelope" | "summary"> | null;
}

/** The base subject and whether the subject marked a reply or forward (RFC 5256 §2.1). */
export interface BaseSubject {
  readonly base: string;
  /** A subj-refwd, a "(fwd)" trailer or a "[fwd: …]" wrapper was removed (§2.1 step 2, 6). */
  readonly replyOrForward: boolean;
}

// RFC 5256 §5: subj-trailer = "(fwd)" / WSP
const TRAILER = /(?:[ \t]|\(fwd\))+$/i;
// subj-leader = (*subj-blob subj-refwd) / WSP; subj-refwd = ("re" / ("fw" ["d"])) *WSP
//   [subj-blob] ":"; subj-blob = "[" *BLOBCHAR "]" *WSP
const REFWD = /^(?:\[[^[\]]*\][ \t]*)*(?:re|fwd?)[ \t]*(?:\[[^[\]]*\][ \t]*)?:/i;
const LEADING_WSP = /^[ \t]+/;
const BLOB = /^\[[^[\]]*\][ \t]*/;

/**
 * The base subject of a (decoded) Subject (RFC 5256 §2.1).
 *
 * @example
 * ```ts
 * baseSubject("Re: [list] Fwd: Hello (fwd)"); // { base: "Hello", replyOrForward: true }
 * baseSubject("[fwd: Re: Lunch]").base; // "Lunch"
 * ```
 */
export function baseSubject(subject: string): BaseSubject {
  // Step 1: encoded words are decoded already; tabs and continuations become one space.
  let s = subject.replace(/[ \t\r\n]+/g, " ");
  let replyOrForward = false;
  for (;;) {
    // Step 2: remove trailing "(fwd)" and whitespace, repeatedly.
    const trailer = TRAILER.exec(s);
    if (trailer !== null) {
      if (/\(fwd\)/i.test(trailer[0])) replyOrForward = true;
      s = s.slice(0, trailer.index);
    }
    // Steps 3 to 5: remove subj-leaders and subj-blobs until neither is left.
    for (let changed = true; changed;) {
      changed = false;
      for (let m; (m = LEADING_WSP.exec(s) ?? REFWD.exec(s)) !== null;) {
        if (m[0].trim() !== "") replyOrForward = true; // a subj-refwd, not whitespace
        s = s.slice(m[0].length);
        changed = true;
      }
      // Step 4: a leading subj-blob goes only if a non-empty subj-base remains.
      const blob = BLOB.exec(s);
      if (blob !== null && /[^ \t]/.test(s.slice(blob[0].length))) {
        s = s.slice(blob[0].length);
        changed = true;
      }
    }
    // Step 6: "[fwd:" … "]" is removed and the extraction starts again at step 2.
    if (s.length >= 6 && s.slice(0, 5).toLowerCase() === "[fwd:" && s.endsWith("]")) {
      s = s.slice(5, -1);
      replyOrForward = true;
      continue;
    }
    return { base: s, replyOrForward };
  }
}

/** `text` under "i;ascii-casemap": only a-z change (RFC 4790 §9.2.1). */
export function casemap(text: string): string {
  return text.replace(/[a-z]+/g, (s) => s.toUpperCase());
}

/** Code point (so UTF-8 octet) order of two strings. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/** Surrogates (code points from U+10000) rank above U+E000–U+FFFF, as in UTF-8. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}

/** The first real address of a list (group markers skipped), or null. */
function firstAddress(list: readonly AddressItem[] | null): AddressItem | null {
  for (const item of list ?? []) if (!isGroupStart(item) && !isGroupEnd(item)) return item;
  return null;
}

/** RFC 5256 §3: the addr-mailbox (local part) of the first address; "" when there is none. */
function mailboxKey(list: readonly AddressItem[] | null): string {
  return firstAddress(list)?.mailbox ?? "";
}

/**
 * RFC 5957 §3: the decoded display name of the first address, else its addr-mailbox "@"
 * addr-host; "" when there is none.
 */
function displayKey(list: readonly AddressItem[] | null): string {
  const first = firstAddress(list);
  return first === null ? "" : addressDisplay(first);
}

/**
 * The sent date (RFC 5256 §2.2): the Date header's instant, or the internal date when the
 * header is absent or unreadable.
 */
export function sentDate(item: SortItem): number {
  return item.cache?.summary.date ?? item.info.internalDate.getTime();
}

/** True when the key reads the cached envelope or summary. */
export function sortNeedsCache(key: SortKey): boolean {
  return key !== "ARRIVAL" && key !== "SIZE";
}

/** The value of one sort key: a number, or a casemapped string. */
export function sortValue(item: SortItem, key: SortKey): number | string {
  const envelope = item.cache?.envelope ?? null;
  switch (key) {
    case "ARRIVAL":
      return item.info.internalDate.getTime(); // RFC 5256 §3: INTERNALDATE
    case "DATE":
      return sentDate(item);
    case "SIZE":
      return item.info.size; // RFC822.SIZE
    case "SUBJECT":
      return casemap(baseSubject(item.cache?.summary.subject ?? "").base);
    case "FROM":
      return casemap(mailboxKey(envelope?.from ?? null));
    case "TO":
      return casemap(mailboxKey(envelope?.to ?? null));
    case "CC":
      return casemap(mailboxKey(envelope?.cc ?? null));
    case "DISPLAYFROM":
      return casemap(displayKey(envelope?.from ?? null));
    case "DISPLAYTO":
      return casemap(displayKey(envelope?.to ?? null));
  }
}

function compareValues(a: number | string, b: number | string): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return compareCodePoints(String(a), String(b));
}

/**
 * The messages in SORT order (RFC 5256 §3): by each criterion in turn, REVERSE reversing that
 * criterion only, then by sequence number.
 *
 * @example
 * ```ts
 * sortItems(items, [{ key: "SIZE", reverse: true }]).map((m) => m.seq);
 * ```
 */
export function sortItems(
  items: readonly SortItem[],
  criteria: readonly SortCriterion[],
): SortItem[] {
  const keyed = items.map((item) => ({
    item,
    values: criteria.map((c) => sortValue(item, c.key)),
  }));
  keyed.sort((a, b) => {
    for (const [i, c] of criteria.entries()) {
      const order = compareValues(a.values[i]!, b.values[i]!);
      if (order !== 0) return c.reverse ? -order : order;
    }
    return a.item.seq - b.item.seq;
  });
  return keyed.map((k) => k.item);
}

/**
 * The untagged SORT response with its CRLF (RFC 5256 §4): `* SORT 2 3 1`, with
 * ` (MODSEQ n)` after a MODSEQ search that found something (RFC 7162 §3.1.5).
 */
export function sortResponse(numbers: readonly number[], highestModseq: number | null): string {
  const tail = highestModseq !== null && numbers.length > 0 ? ` (MODSEQ ${highestModseq})` : "";
  return `* SORT${numbers.map((n) => ` ${n}`).join("")}${tail}\r\n`;
}
