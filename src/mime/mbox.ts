/**
 * mbox in the mboxrd variant: writing a message with its From_ line and reading a file back
 * into messages, incrementally (bytes in, messages out) and bounded.
 *
 * The format (no RFC; the convention of qmail's mbox(5) and of RFC 4155, which registers
 * application/mbox without fixing a variant):
 * - Each message starts with a From_ line, `From SENDER DATE` (DATE in asctime form, UTC here),
 *   and ends with an empty line. Lines end in LF: the message's CRLFs become LFs on export and
 *   LFs become CRLFs on import (IMAP's line ending).
 * - mboxrd quoting: a line of the message that matches `>*From ` gets one more `>` on export,
 *   and a line matching `>+From ` loses one on import, so every message survives, including
 *   lines that begin with "From " or ">From ".
 * - A line starting "From " begins a message only at the start of the file or after an empty
 *   line (as Dovecot and mutt read), so an unquoted From in a foreign mboxo file is kept.
 * - Flags travel as Dovecot and mutt write them, in the message's header: `Status: RO` (R seen,
 *   O old), `X-Status: AFTD` (answered, flagged, draft, deleted) and `X-Keywords:` (keywords
 *   separated by spaces). Fumi adds `X-Fumi-Mailbox: NAME` when one file holds several mailboxes.
 *   On import these fields (and X-UID, X-IMAP, X-IMAPbase, which Dovecot and UW-IMAP keep) are
 *   read and removed from the header, so a message exported and imported again is the same
 *   bytes (unless it carried such a field of its own, or had bare LFs).
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const LF = 0x0a;
const CR = 0x0d;
const FROM = encoder.encode("From ");

/** What an mbox message says about itself, besides its bytes. */
export interface MboxMeta {
  readonly flags: readonly string[];
  /** From `X-Fumi-Mailbox`, or null. */
  readonly mailbox: string | null;
}

/** A message read from an mbox. */
export interface MboxMessage extends MboxMeta {
  /** The From_ line, without its LF. */
  readonly fromLine: string;
  /** The date of the From_ line, or null when it has none that parses. */
  readonly date: Date | null;
  /** The message with CRLF line ends, unquoted, mbox fields removed; empty when too large. */
  readonly raw: Uint8Array;
  /** Octets of the message as found in the file (with LF line ends). */
  readonly size: number;
  /** True when the message exceeded the reader's limit; `raw` is then empty. */
  readonly tooLarge: boolean;
}

const STATUS_FIELDS = new Set([
  "status",
  "x-status",
  "x-keywords",
  "x-uid",
  "x-imap",
  "x-imapbase",
]);
const MAILBOX_FIELD = "x-fumi-mailbox";
const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `Sat Nov 28 06:17:46 2026`: C's asctime, in UTC. */
export function asctime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${
    String(date.getUTCDate()).padStart(2, " ")
  } ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${
    pad(date.getUTCSeconds())
  } ${date.getUTCFullYear()}`;
}

/** Parses the date of a From_ line (`From sender Www Mmm dd hh:mm:ss yyyy`); null if none. */
export function fromLineDate(line: string): Date | null {
  const match =
    /(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) +(\d{2}):(\d{2})(?::(\d{2}))? +(?:[A-Z]{3,4} +)?(\d{4})/
      .exec(line);
  if (!match) return null;
  const [, month, day, hours, minutes, seconds, year] = match;
  const date = new Date(Date.UTC(
    Number(year),
    MONTHS.indexOf(month!),
    Number(day),
    Number(hours),
    Number(minutes),
    Number(seconds ?? 0),
  ));
  return Number.isNaN(date.getTime()) ? null : date;
}

/**
 * One message as mboxrd: the From_ line, the message with LF line ends, the flag fields added
 * at the end of its header, quoted From lines, and the empty line that ends it.
 */
export function writeMboxrd(
  raw: Uint8Array,
  meta: { sender: string; date: Date; flags: readonly string[]; mailbox?: string | null },
): Uint8Array {
  const lines = splitLf(raw);
  const headerEnd = lines.findIndex((l) => l.length === 0);
  const fields = flagFields(meta.flags);
  if (meta.mailbox) fields.push(`X-Fumi-Mailbox: ${meta.mailbox}`);
  const added = fields.map((f) => encoder.encode(f));
  const body = headerEnd === -1
    ? [...lines, ...added]
    : [...lines.slice(0, headerEnd), ...added, ...lines.slice(headerEnd)];
  const sender = meta.sender.replace(/\s/g, "") || "MAILER-DAEMON";
  const parts: Uint8Array[] = [encoder.encode(`From ${sender} ${asctime(meta.date)}\n`)];
  for (const line of body) {
    if (isQuotedFrom(line, 0)) parts.push(encoder.encode(">")); // mboxrd
    parts.push(line, encoder.encode("\n"));
  }
  parts.push(encoder.encode("\n"));
  return concat(parts);
}

/** The Status, X-Status and X-Keywords fields for IMAP flags (as Dovecot writes them). */
export function flagFields(flags: readonly string[]): string[] {
  const has = (f: string) => flags.includes(f);
  const fields = [`Status: ${has("\\Seen") ? "RO" : "O"}`];
  const x = (has("\\Answered") ? "A" : "") + (has("\\Flagged") ? "F" : "") +
    (has("\\Draft") ? "T" : "") + (has("\\Deleted") ? "D" : "");
  if (x) fields.push(`X-Status: ${x}`);
  const keywords = flags.filter((f) => !f.startsWith("\\"));
  if (keywords.length) fields.push(`X-Keywords: ${keywords.join(" ")}`);
  return fields;
}

/**
 * Reads an mbox incrementally: {@link push} bytes as they come and take the messages that are
 * complete; {@link end} at the end of the file. Holds at most one message (up to `maxMessage`
 * octets) and one line.
 */
export class MboxReader {
  #partial: Uint8Array[] = [];
  #partialLength = 0;
  #current: { fromLine: string; lines: Uint8Array[]; size: number; tooLarge: boolean } | null =
    null;
  #previousEmpty = true;
  /** Lines before the first From_ line (a file that is not an mbox has only these). */
  junkLines = 0;

  constructor(private readonly maxMessage: number) {}

  /** Feeds bytes; returns the messages completed by them. */
  push(bytes: Uint8Array): MboxMessage[] {
    const out: MboxMessage[] = [];
    let start = 0;
    for (;;) {
      const at = bytes.indexOf(LF, start);
      if (at === -1) break;
      const piece = bytes.subarray(start, at);
      if (this.#partialLength === 0) this.#line(piece, out, 0);
      else this.#completePartial(piece, out);
      start = at + 1;
    }
    if (start < bytes.length) {
      const rest = bytes.slice(start);
      // A line longer than any message may be is not held, only counted (the message is then
      // too large anyway).
      if (this.#partialLength + rest.length <= this.maxMessage + 1) this.#partial.push(rest);
      else this.#partial = [];
      this.#partialLength += rest.length;
    }
    return out;
  }

  /** Ends the input; returns the last message, if any. */
  end(): MboxMessage[] {
    const out: MboxMessage[] = [];
    if (this.#partialLength > 0) this.#completePartial(new Uint8Array(), out);
    if (this.#current) out.push(finish(this.#current));
    this.#current = null;
    return out;
  }

  #completePartial(tail: Uint8Array, out: MboxMessage[]): void {
    const length = this.#partialLength + tail.length;
    const held = this.#partial.length > 0 || this.#partialLength === 0;
    const line = held ? concat([...this.#partial, tail]) : new Uint8Array();
    this.#partial = [];
    this.#partialLength = 0;
    this.#line(line, out, length - line.length);
  }

  /** One line without its LF; `dropped` octets of it were not held (an over-long line). */
  #line(line: Uint8Array, out: MboxMessage[], dropped: number): void {
    const startsMessage = dropped === 0 && (this.#previousEmpty || this.#current === null) &&
      startsWith(line, FROM);
    this.#previousEmpty = line.length === 0 || (line.length === 1 && line[0] === CR);
    if (startsMessage) {
      if (this.#current) out.push(finish(this.#current));
      this.#current = {
        fromLine: decoder.decode(stripCr(line)),
        lines: [],
        size: 0,
        tooLarge: false,
      };
      return;
    }
    const current = this.#current;
    if (!current) {
      if (line.length > 0) this.junkLines++;
      return;
    }
    current.size += line.length + dropped + 1;
    if (dropped > 0 || current.size > this.maxMessage + 1) current.tooLarge = true;
    if (current.tooLarge) {
      current.lines = [];
      return;
    }
    current.lines.push(line.slice());
  }
}

function finish(
  message: { fromLine: string; lines: Uint8Array[]; size: number; tooLarge: boolean },
): MboxMessage {
  const lines = message.lines;
  // The empty line before the next From_ line (or the end) separates; it is not the message's.
  if (lines.length > 0 && stripCr(lines[lines.length - 1]!).length === 0) lines.pop();
  const date = fromLineDate(message.fromLine);
  if (message.tooLarge) {
    return {
      fromLine: message.fromLine,
      date,
      raw: new Uint8Array(),
      size: message.size,
      tooLarge: true,
      flags: [],
      mailbox: null,
    };
  }
  const flags = new Set<string>();
  let mailbox: string | null = null;
  const kept: Uint8Array[] = [];
  let inHeader = true;
  let dropping = false;
  for (const raw of lines) {
    let line = stripCr(raw);
    if (isQuotedFrom(line, 1)) line = line.subarray(1); // mboxrd: one ">" less
    if (inHeader) {
      if (line.length === 0) {
        inHeader = false;
      } else if ((line[0] === 0x20 || line[0] === 0x09) && dropping) {
        continue; // continuation of a removed field
      } else {
        const text = decoder.decode(line);
        const colon = text.indexOf(":");
        const name = colon > 0 ? text.slice(0, colon).trim().toLowerCase() : "";
        dropping = STATUS_FIELDS.has(name) || name === MAILBOX_FIELD;
        if (dropping) {
          const value = text.slice(colon + 1).trim();
          if (name === MAILBOX_FIELD) mailbox = value || null;
          else readFlagField(name, value, flags);
          continue;
        }
      }
    }
    kept.push(line);
  }
  const parts: Uint8Array[] = [];
  const crlf = encoder.encode("\r\n");
  for (const line of kept) parts.push(line, crlf);
  return {
    fromLine: message.fromLine,
    date,
    raw: concat(parts),
    size: message.size,
    tooLarge: false,
    flags: [...flags].sort(),
    mailbox,
  };
}

function readFlagField(name: string, value: string, flags: Set<string>): void {
  if (name === "status") {
    if (value.includes("R")) flags.add("\\Seen");
  } else if (name === "x-status") {
    if (value.includes("A")) flags.add("\\Answered");
    if (value.includes("F")) flags.add("\\Flagged");
    if (value.includes("T")) flags.add("\\Draft");
    if (value.includes("D")) flags.add("\\Deleted");
  } else if (name === "x-keywords") {
    for (const keyword of value.split(/[\s,]+/)) if (keyword) flags.add(keyword);
  }
}

/** True when `line` is `>`×n `From ` with n ≥ `minQuotes`. */
function isQuotedFrom(line: Uint8Array, minQuotes: number): boolean {
  let i = 0;
  while (i < line.length && line[i] === 0x3e) i++;
  return i >= minQuotes && startsWith(line.subarray(i), FROM);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

function stripCr(line: Uint8Array): Uint8Array {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, -1) : line;
}

/** Lines of a message without their line ends (CRLF or LF); no empty last line for a final end. */
function splitLf(raw: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (;;) {
    const at = raw.indexOf(LF, start);
    if (at === -1) break;
    lines.push(stripCr(raw.subarray(start, at)));
    start = at + 1;
  }
  if (start < raw.length) lines.push(raw.subarray(start));
  return lines;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
