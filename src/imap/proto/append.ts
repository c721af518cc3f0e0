/**
 * APPEND (RFC 9051 §6.3.12): a message with optional flags and internal date, as a literal,
 * a binary literal `~{n}` (RFC 3516 §4.4, the only place one is allowed) or `UTF8 (~{n})`
 * (RFC 6855 §4). One message per command: MULTIAPPEND (RFC 3502) and CATENATE are not parsed.
 *
 * @module
 */

import { DQUOTE, LPAREN, type Reader, RPAREN } from "./_lexer.ts";
import { parseDateTime } from "./_datetime.ts";

/** `APPEND mailbox [flags] [date-time] message`. */
export interface AppendCommand {
  readonly name: "APPEND";
  readonly mailbox: string;
  /** Flags to set, system flags in canonical case; empty when none were given. */
  readonly flags: readonly string[];
  /** The internal date asked for, or null for "now". */
  readonly date: Date | null;
  /**
   * The message as sent, a view into the command's bytes (not a copy). May be empty
   * (`{0}`); whether an empty or over-large message is accepted is the server's decision.
   */
  readonly message: Uint8Array;
  /** Sent as a binary literal `~{n}` (RFC 3516): may hold NUL and unencoded binary. */
  readonly binary: boolean;
  /** Sent as `UTF8 (~{n})` (RFC 6855 §4): the message may have UTF-8 headers. */
  readonly utf8: boolean;
}

/** Parses APPEND's arguments. */
export function parseAppend(r: Reader): AppendCommand {
  // RFC 9051 §9: append = "APPEND" SP mailbox 1*append-message
  // append-message = append-opts SP append-data; append-opts = [SP flag-list] [SP date-time]
  r.sp("mailbox name");
  const mailbox = r.mailbox();
  r.sp("message");
  let flags: string[] = [];
  if (r.peek() === LPAREN) {
    flags = r.flagList();
    r.sp("message");
  }
  let date: Date | null = null;
  if (r.peek() === DQUOTE) {
    const text = r.text(r.quoted(), "date-time");
    date = parseDateTime(text);
    if (date === null) r.fail('Invalid date-time, expected "dd-Mon-yyyy hh:mm:ss +zzzz"');
    r.sp("message");
  }
  let utf8 = false;
  if (r.peekKeyword() === "UTF8") {
    // RFC 6855 §4: append-data =/ "UTF8" SP "(" literal8 ")"
    r.atom("UTF8");
    r.sp("UTF8 message");
    r.char(LPAREN, '"(" before the UTF8 message');
    if (r.peek() !== 0x7e) r.fail("The UTF8 message must be a binary literal ~{n}");
    utf8 = true;
  }
  // RFC 9051 §9: append-data = literal / literal8 / append-data-ext
  const { bytes, binary } = r.literal(true);
  if (utf8) r.char(RPAREN, '")" after the UTF8 message');
  return { name: "APPEND", mailbox, flags, date, message: bytes, binary, utf8 };
}
