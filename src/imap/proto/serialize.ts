/**
 * IMAP data encoding for the server's responses (RFC 9051 §4, §7.5, §9; RFC 3501 for
 * IMAP4rev1 clients): strings, flags, dates, number sets, ENVELOPE, BODY and BODYSTRUCTURE,
 * and the bytes of BODY[section]<partial>. Responses are built as bytes with a
 * {@link ResponseWriter}, so literal content (message sections) is written without being
 * decoded or copied on the way.
 *
 * Invariants:
 * - Pure: values in, bytes out. No `Deno.*`, no `node:*`, no timers (tests/layering_test.ts).
 * - No value can break the framing: strings are quoted only when they hold no CR, LF or NUL
 *   (and no 8-bit text unless the client accepts UTF-8); otherwise they are literals with
 *   exact lengths. Flags that are not atoms are never written.
 * - Work is linear in the output; the BodyPart tree's depth is bounded by src/mime.
 * - Section helpers only slice: offsets come from the cached {@link BodyPart} tree, which
 *   src/mime keeps within the message, so a session can read and decrypt only the range.
 *
 * Standards:
 * | standard | status | where |
 * | --- | --- | --- |
 * | RFC 9051 §4.3 strings (quoted, literal, literal8), §4.5 NIL, §9 astring | yes | _writer.ts |
 * | RFC 9051 §9 date-time, flag, sequence-set | yes | serialize.ts |
 * | RFC 9051 §7.5.2 ENVELOPE, BODY, BODYSTRUCTURE (RFC 3501 §7.4.2) | yes | _body.ts |
 * | RFC 9051 §6.4.5 BODY[section]<partial>, part numbering | yes; BINARY decoding elsewhere | _section.ts |
 * | RFC 6855 UTF8=ACCEPT (UTF-8 quoted strings) | yes (`utf8` option) | _writer.ts |
 * | RFC 6532 §3.5 message/global | envelope form for UTF-8 clients, basic form otherwise | _body.ts |
 * | RFC 2231 §4 parameter values for 7-bit clients | yes | _body.ts |
 *
 * @module
 */

import type { BodyPart, Envelope } from "../../mime/mod.ts";
import { writeBody, writeEnvelope } from "./_body.ts";
import { isAtom, ResponseWriter, type StringOptions } from "./_writer.ts";

export {
  isAtom,
  MAX_QUOTED_OCTETS,
  quoted,
  ResponseWriter,
  type StringOptions,
} from "./_writer.ts";
export { extendedValue, writeBody, writeEnvelope } from "./_body.ts";
export {
  filterHeaderFields,
  findPart,
  partial,
  type Section,
  sectionBytes,
  type SectionRange,
  sectionRange,
  type SectionText,
  writeSection,
} from "./_section.ts";

/**
 * An IMAP string (RFC 9051 §4.3) as bytes: quoted when the value is at most
 * {@link MAX_QUOTED_OCTETS} octets without CR, LF or NUL and is ASCII (or `utf8` is set);
 * otherwise a literal `{n}\r\n…`. A NUL becomes U+FFFD.
 *
 * @example
 * ```ts
 * const text = (b: Uint8Array) => new TextDecoder().decode(b);
 * text(imapString('say "hi"')); // '"say \\"hi\\""'
 * text(imapString("Café")); // "{5}\r\nCafé"
 * text(imapString("Café", { utf8: true })); // '"Café"'
 * ```
 */
export function imapString(value: string | Uint8Array, options: StringOptions = {}): Uint8Array {
  return new ResponseWriter(options).string(value).toBytes();
}

/** An nstring (RFC 9051 §4.5): NIL for null, else {@link imapString}. */
export function nstring(
  value: string | Uint8Array | null,
  options: StringOptions = {},
): Uint8Array {
  return new ResponseWriter(options).nstring(value).toBytes();
}

/**
 * An astring (RFC 9051 §9), as mailbox names are sent: an atom when every character is an
 * ASTRING-CHAR (and the name is not "NIL"), else {@link imapString}. Converting a name to
 * modified UTF-7 for clients without UTF-8 is the caller's job.
 */
export function astring(value: string, options: StringOptions = {}): Uint8Array {
  return new ResponseWriter(options).astring(value).toBytes();
}

/** True for `\*`, a system flag or extension (`\` atom), or a keyword (atom): RFC 9051 §9. */
export function isFlag(flag: string): boolean {
  if (flag === "\\*") return true; // flag-perm, for PERMANENTFLAGS
  return isAtom(flag.startsWith("\\") ? flag.slice(1) : flag);
}

/**
 * A flag list (RFC 9051 §9 flag-list, flag-fetch, flag-perm): `(\Seen $Forwarded)`.
 * Flags are written as given; one that is not a flag by {@link isFlag} is left out, since a
 * client could not read it back (the command parser never accepts one).
 *
 * @example
 * ```ts
 * formatFlags(["\\Seen", "$Forwarded"]); // "(\\Seen $Forwarded)"
 * formatFlags([]); // "()"
 * ```
 */
export function formatFlags(flags: Iterable<string>): string {
  const out: string[] = [];
  for (const flag of flags) if (isFlag(flag)) out.push(flag);
  return `(${out.join(" ")})`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/**
 * An RFC 9051 §9 date-time, quotes included: `"27-Nov-2026 12:00:00 +0000"`, the day padded
 * with a space (date-day-fixed). `offsetMinutes` is the zone to show (east of UTC positive).
 *
 * @example
 * ```ts
 * formatDateTime(new Date(Date.UTC(2026, 10, 7, 12, 0, 0))); // '" 7-Nov-2026 12:00:00 +0000"'
 * formatDateTime(Date.UTC(2026, 10, 27, 12, 0, 0), 120); // '"27-Nov-2026 14:00:00 +0200"'
 * ```
 * @throws {RangeError} for an invalid date, a year outside 0–9999 or an offset beyond ±23:59.
 */
export function formatDateTime(date: Date | number, offsetMinutes = 0): string {
  const ms = typeof date === "number" ? date : date.getTime();
  if (!Number.isInteger(offsetMinutes) || Math.abs(offsetMinutes) > 23 * 60 + 59) {
    throw new RangeError(`Cannot write a zone offset of ${offsetMinutes} minutes`);
  }
  const local = new Date(ms + offsetMinutes * 60_000);
  const year = local.getUTCFullYear();
  if (!Number.isFinite(ms) || Number.isNaN(year) || year < 0 || year > 9999) {
    throw new RangeError(`Cannot write date ${ms} as an IMAP date-time`);
  }
  const day = String(local.getUTCDate()).padStart(2, " ");
  const time = `${pad(local.getUTCHours(), 2)}:${pad(local.getUTCMinutes(), 2)}:${
    pad(local.getUTCSeconds(), 2)
  }`;
  const abs = Math.abs(offsetMinutes);
  const zone = `${offsetMinutes < 0 ? "-" : "+"}${pad(Math.floor(abs / 60), 2)}${pad(abs % 60, 2)}`;
  return `"${day}-${MONTHS[local.getUTCMonth()]}-${pad(year, 4)} ${time} ${zone}"`;
}

/** The largest nz-number (RFC 9051 §9: 1 to 4,294,967,295), for UIDs and message numbers. */
export const MAX_NZ_NUMBER = 4_294_967_295;

/**
 * A sequence-set or uid-set (RFC 9051 §9) of the numbers in the order given: runs of
 * consecutive ascending numbers become ranges, nothing is sorted, so COPYUID's source and
 * destination sets still pair up (RFC 4315 §3).
 *
 * @example
 * ```ts
 * formatNumberSet([1, 2, 3, 5, 9, 10]); // "1:3,5,9:10"
 * formatNumberSet([7, 3]); // "7,3"
 * ```
 * @throws {RangeError} for an empty set or a number outside 1–4,294,967,295.
 */
export function formatNumberSet(numbers: Iterable<number>): string {
  const out: string[] = [];
  let start = -1;
  let last = -1;
  const close = () => out.push(start === last ? String(start) : `${start}:${last}`);
  for (const n of numbers) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_NZ_NUMBER) {
      throw new RangeError(`Cannot write ${n} in a sequence set`);
    }
    if (start !== -1 && n === last + 1) last = n;
    else {
      if (start !== -1) close();
      start = last = n;
    }
  }
  if (start === -1) throw new RangeError("Cannot write an empty sequence set");
  close();
  return out.join(",");
}

/**
 * ENVELOPE data (RFC 9051 §7.5.2) as bytes: `("date" "subject" from sender reply-to to cc
 * bcc "in-reply-to" "message-id")`. Sender and Reply-To default to From when absent.
 */
export function formatEnvelope(envelope: Envelope, options: StringOptions = {}): Uint8Array {
  const w = new ResponseWriter(options);
  writeEnvelope(w, envelope);
  return w.toBytes();
}

/**
 * BODY (`extensible` false) or BODYSTRUCTURE (`extensible` true) data (RFC 9051 §7.5.2) for
 * a message's MIME tree, as bytes.
 *
 * @example
 * ```ts
 * import { parseStructure } from "../../mime/mod.ts";
 *
 * const root = parseStructure(new TextEncoder().encode("Subject: x\r\n\r\nhello\r\n"));
 * new TextDecoder().decode(formatBodyStructure(root, false));
 * // '("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 7 1)'
 * ```
 */
export function formatBodyStructure(
  part: BodyPart,
  extensible: boolean,
  options: StringOptions = {},
): Uint8Array {
  const w = new ResponseWriter(options);
  writeBody(w, part, extensible);
  return w.toBytes();
}
