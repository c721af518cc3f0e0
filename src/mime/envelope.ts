/**
 * The IMAP ENVELOPE of a message (RFC 3501 §7.4.2, RFC 9051 §7.5.2) and the short summary a
 * webmail message list shows. Both read an already parsed header section.
 *
 * @module
 */

import {
  type AddressItem,
  decodedName,
  isGroupEnd,
  isGroupStart,
  parseAddressList,
} from "./address_list.ts";
import { parseDate } from "./date.ts";
import { decodeEncodedWords } from "./encoded_words.ts";
import { getField, type HeaderBlock } from "./headers.ts";

/** The ten fields of an IMAP ENVELOPE. Strings are raw header values; null when absent. */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: AddressItem[] | null;
  sender: AddressItem[] | null;
  replyTo: AddressItem[] | null;
  to: AddressItem[] | null;
  cc: AddressItem[] | null;
  bcc: AddressItem[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

/** What a message list shows: decoded subject and sender, and the date. */
export interface MessageSummary {
  /** The Subject with RFC 2047 words decoded; "" when absent. Control characters become spaces. */
  subject: string;
  /** The From display names (or addresses) decoded and joined by ", "; "" when absent. */
  from: string;
  /** The Date header in milliseconds since the epoch, or null when absent or unparsable. */
  date: number | null;
}

/** The addresses of the first `name` field; null when absent or empty (IMAP NIL). */
function addresses(block: HeaderBlock, name: string): AddressItem[] | null {
  const value = getField(block, name);
  if (value === null) return null;
  const list = parseAddressList(value);
  return list.length > 0 ? list : null;
}

function copy(list: AddressItem[] | null): AddressItem[] | null {
  return list === null ? null : list.map((a) => ({ ...a }));
}

/**
 * Builds the IMAP ENVELOPE from a header section. The first field of each name counts.
 *
 * @example
 * ```ts
 * import { parseHeader } from "./headers.ts";
 *
 * const block = parseHeader(new TextEncoder().encode("From: a@example.com\r\n\r\n"));
 * buildEnvelope(block).sender; // [{ name: null, mailbox: "a", host: "example.com" }]
 * ```
 */
export function buildEnvelope(block: HeaderBlock): Envelope {
  const from = addresses(block, "from");
  return {
    date: getField(block, "date"),
    subject: getField(block, "subject"),
    from,
    // RFC 3501 §7.4.2: an absent or empty Sender or Reply-To takes the value of From.
    sender: addresses(block, "sender") ?? copy(from),
    replyTo: addresses(block, "reply-to") ?? copy(from),
    to: addresses(block, "to"),
    cc: addresses(block, "cc"),
    bcc: addresses(block, "bcc"),
    inReplyTo: getField(block, "in-reply-to"),
    messageId: getField(block, "message-id"),
  };
}

/** Replaces C0 controls and DEL with spaces so a list entry stays on one line. */
function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f]/g, " ");
}

/** How one address reads in a list: its decoded name, else `mailbox@host`. */
export function addressDisplay(item: AddressItem): string {
  const name = decodedName(item)?.trim();
  if (name !== undefined && name !== "") return name;
  if (item.mailbox === null) return "";
  return item.host === null || item.host === "" ? item.mailbox : `${item.mailbox}@${item.host}`;
}

/**
 * Summarises a header section for a message list.
 *
 * @example
 * ```ts
 * import { parseHeader } from "./headers.ts";
 *
 * const block = parseHeader(new TextEncoder().encode(
 *   "From: =?utf-8?q?J=C3=B6rg?= <j@example.org>\r\nSubject: Hi\r\n\r\n",
 * ));
 * summarize(block); // { subject: "Hi", from: "Jörg", date: null }
 * ```
 */
export function summarize(block: HeaderBlock): MessageSummary {
  const subject = getField(block, "subject");
  const date = getField(block, "date");
  const from = (addresses(block, "from") ?? [])
    .filter((a) => !isGroupStart(a) && !isGroupEnd(a))
    .map(addressDisplay)
    .filter((s) => s !== "");
  return {
    subject: subject === null ? "" : oneLine(decodeEncodedWords(subject)),
    from: oneLine(from.join(", ")),
    date: date === null ? null : parseDate(date),
  };
}
