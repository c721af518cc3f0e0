/**
 * STATUS (RFC 9051 §6.3.11) and its status items, which LIST-STATUS (RFC 5819) uses too.
 *
 * @module
 */

import { quote } from "./_errors.ts";
import type { Reader } from "./_lexer.ts";

/** The status items a client may ask for. */
export const STATUS_ITEMS = [
  // RFC 9051 §9: status-att = "MESSAGES" / "UIDNEXT" / "UIDVALIDITY" / "UNSEEN" / "DELETED" /
  // "SIZE"
  "MESSAGES",
  "UIDNEXT",
  "UIDVALIDITY",
  "UNSEEN",
  "DELETED",
  "SIZE",
  // RFC 3501 §6.3.10 (IMAP4rev1 only)
  "RECENT",
  // RFC 7162 §7 (CONDSTORE)
  "HIGHESTMODSEQ",
  // RFC 7889 §4 (APPENDLIMIT)
  "APPENDLIMIT",
] as const;

/** One of {@link STATUS_ITEMS}. */
export type StatusItem = typeof STATUS_ITEMS[number];

/** `STATUS mailbox (items)`. */
export interface StatusCommand {
  readonly name: "STATUS";
  readonly mailbox: string;
  /** The items asked for, without duplicates, in the order first given (at least one). */
  readonly items: readonly StatusItem[];
}

const KNOWN: ReadonlySet<string> = new Set(STATUS_ITEMS);

/** Reads `"(" status-att *(SP status-att) ")"`. */
export function parseStatusItems(r: Reader): StatusItem[] {
  const items = r.list("status items", () => {
    const item = r.keyword("status item");
    if (!KNOWN.has(item)) r.fail(`Unknown status item ${quote(item)}`);
    return item as StatusItem;
  }, false);
  return [...new Set(items)];
}

/** Parses STATUS's arguments. */
export function parseStatus(r: Reader): StatusCommand {
  // RFC 9051 §9: status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"
  r.sp("mailbox name");
  const mailbox = r.mailbox();
  r.sp("status items");
  return { name: "STATUS", mailbox, items: parseStatusItems(r) };
}
