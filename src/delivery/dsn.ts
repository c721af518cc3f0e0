/**
 * Delivery status notifications: the bounce (and delay warning) the outbound queue sends back to
 * a message's sender, as RFC 3464 describes them, wrapped in the multipart/report of RFC 6522.
 *
 * Invariants:
 * - Pure: values in, bytes out; no I/O and no clock (dates and the unique id come from the
 *   caller).
 * - Every header field and delivery-status field is 7-bit ASCII and at most 998 octets a line
 *   (RFC 5322 §2.1.1), whatever the remote server said or the sender wrote: text from outside
 *   (reply text, host names, addresses, ENVID, ORCPT) is cleaned of line breaks and controls,
 *   non-ASCII is replaced (or, in addresses, written as RFC 6533 §3 utf-8-addr-xtext), and long
 *   text is cut. A remote server cannot add a field of its own to our DSN.
 * - Only the returned message part may hold 8-bit octets: the original message as it was
 *   received (then the part says `Content-Transfer-Encoding: 8bit`, RFC 2046 §5.2.1, and the DSN
 *   must be sent with BODY=8BITMIME; see {@link dsnNeeds8Bit}).
 * - Never a DSN to the null reverse-path: {@link wantsDsn} says no for `<>` (RFC 5321 §4.5.5,
 *   RFC 3461 §5.2.1), because a DSN is itself sent from `<>` and two MTAs must not bounce
 *   bounces at each other forever.
 *
 * @module
 */

import { formatDate } from "./headers.ts";

/** RFC 3464 §2.3.3 Action. */
export type DsnAction = "failed" | "delayed" | "delivered" | "relayed" | "expanded";

/** What happened, for {@link wantsDsn}: the RFC 3461 §4.1 NOTIFY conditions. */
export type DsnEvent = "failure" | "delay" | "success";

/** One recipient a DSN reports on. */
export interface DsnRecipient {
  /** The recipient address we tried (RFC 3464 §2.3.2 Final-Recipient). */
  readonly address: string;
  readonly action: DsnAction;
  /**
   * The RFC 3463 enhanced status code ("5.1.1"). When null or absent it is taken from the
   * remote reply (its enhanced code, else its reply code's class: 550 → 5.0.0), else from
   * the action (failed → 5.0.0, delayed → 4.0.0, others → 2.0.0). A failure after retries
   * ran out on temporary errors may pass "4.4.7" (delivery time expired) with action failed.
   */
  readonly status?: string | null;
  /** The host that answered (RFC 3464 §2.3.5 Remote-MTA); null when none did. */
  readonly remoteHost?: string | null;
  /**
   * The remote server's reply as it came, code first ("550 5.1.1 No such user"); lines of a
   * multi-line reply may be joined with a space or a line break. Written as
   * `Diagnostic-Code: smtp; …` (RFC 3464 §2.3.6). Null when no server replied.
   */
  readonly diagnostic?: string | null;
  /**
   * Our own words for the human-readable part when no server replied ("no mail server for
   * remote.example answered", "the domain does not exist"). Optional.
   */
  readonly explanation?: string | null;
  /** RFC 3461 §4.2 ORCPT as stored: "addr-type;address", xtext decoded; null when not given. */
  readonly orcpt?: string | null;
  /** RFC 3464 §2.3.7 Last-Attempt-Date. */
  readonly lastAttemptAt?: Date | null;
  /** RFC 3464 §2.3.9 Will-Retry-Until: only written for action delayed. */
  readonly willRetryUntil?: Date | null;
}

/** What {@link buildDsn} needs. */
export interface DsnInput {
  /** Our host name: MAILER-DAEMON's domain, Reporting-MTA, the Message-ID's right side. */
  readonly hostname: string;
  /** The original message's reverse-path (the DSN's recipient); never "". */
  readonly sender: string;
  /** RFC 3461 §4.4 ENVID, decoded from xtext; null when not given. */
  readonly envid: string | null;
  /** RFC 3461 §4.3 RET; null when not given. */
  readonly ret: "FULL" | "HDRS" | null;
  /** When we received the original message (RFC 3464 §2.2.5 Arrival-Date). */
  readonly arrivalDate: Date;
  /** The original message as queued. */
  readonly message: Uint8Array;
  /** The recipients to report on: at least one. */
  readonly recipients: readonly DsnRecipient[];
  /** The DSN's Date. */
  readonly now: Date;
  /** The left side of the Message-ID and the MIME boundary's seed; a random UUID by default. */
  readonly uniqueId?: string;
  /** Messages larger than this are returned as headers only; {@link MAX_RETURNED_SIZE}. */
  readonly maxReturnedSize?: number;
}

/**
 * Above this size a failure DSN returns only the original header (text/rfc822-headers), even
 * with RET=FULL: RET is the sender's request (RFC 3461 §4.3), and returning only the header of
 * a large message is common practice (Postfix returns 50 000 octets at most, its
 * bounce_size_limit). 256 KiB keeps any text message and small attachments whole, so the
 * sender can see what failed, while a bounce of a 25 MiB message does not cost 25 MiB again,
 * travel to a sender who has the message in its Sent folder anyway, or be refused by the
 * sender's server for its size.
 */
export const MAX_RETURNED_SIZE = 256 * 1024;

/** Reply text in a Diagnostic-Code is cut to this many characters (a line stays < 998). */
const MAX_DIAGNOSTIC = 800;
/** Other text from outside (addresses, host names, ids) is cut to this many characters. */
const MAX_TEXT = 400;
/** Folded lines are kept to this many characters where possible (RFC 5322 §2.1.1). */
const FOLD_AT = 78;

/**
 * Whether the sender of a message wants a DSN for `event` on a recipient whose RCPT carried
 * `notify` (as stored: "NEVER", a comma-separated list, or null when absent).
 *
 * - Never for the null reverse-path `<>` (`sender` ""): RFC 5321 §4.5.5, RFC 3461 §5.2.1.
 * - NOTIFY=NEVER: never; a list: only the events it names (RFC 3461 §4.1).
 * - No NOTIFY: failures, and delays unless `delayWithoutNotify` is false ("the MTA MAY send
 *   delay notifications", RFC 3461 §4.1); never success.
 *
 * @example
 * ```ts
 * wantsDsn("alice@example.org", null, "failure"); // true
 * wantsDsn("", "FAILURE", "failure"); // false: never bounce to <>
 * wantsDsn("alice@example.org", "SUCCESS", "failure"); // false
 * ```
 */
export function wantsDsn(
  sender: string,
  notify: string | null,
  event: DsnEvent,
  options: { readonly delayWithoutNotify?: boolean } = {},
): boolean {
  if (sender === "" || sender === "<>") return false; // RFC 5321 §4.5.5
  if (notify === null || notify.trim() === "") {
    if (event === "failure") return true;
    if (event === "delay") return options.delayWithoutNotify ?? true;
    return false;
  }
  const words = notify.toUpperCase().split(",").map((w) => w.trim());
  if (words.includes("NEVER")) return false;
  return words.includes(event.toUpperCase());
}

/** True when the DSN holds 8-bit octets (the returned message), so BODY=8BITMIME is needed. */
export function dsnNeeds8Bit(dsn: Uint8Array): boolean {
  return dsn.some((b) => b >= 0x80);
}

/**
 * A complete DSN message (RFC 5322, CRLF line ends): multipart/report;
 * report-type=delivery-status (RFC 6522 §3) holding a text/plain explanation, the
 * message/delivery-status fields (RFC 3464 §2) and the original message
 * (message/rfc822) or its header (text/rfc822-headers, RFC 6522 §4).
 *
 * The original is returned whole only when a recipient failed, RET is not HDRS and the
 * message is at most {@link MAX_RETURNED_SIZE}; delay and success reports carry the header only
 * (RFC 3461 §4.3: RET concerns failures).
 */
export function buildDsn(input: DsnInput): Uint8Array {
  if (input.recipients.length === 0) throw new Error("A DSN reports on at least one recipient");
  if (input.sender === "") throw new Error("A DSN is never sent to the null reverse-path");
  const host = clean(input.hostname, MAX_TEXT);
  const unique = (input.uniqueId ?? crypto.randomUUID()).replace(/[^A-Za-z0-9.\-_]/g, "");
  const failed = input.recipients.some((r) => r.action === "failed");
  const delayed = !failed && input.recipients.some((r) => r.action === "delayed");
  const limit = input.maxReturnedSize ?? MAX_RETURNED_SIZE;
  const full = failed && input.ret !== "HDRS" && input.message.length <= limit;
  const returned = full ? input.message : headerOf(input.message);
  const boundary = boundaryFor(unique, returned);

  const subject = failed
    ? "Undelivered Mail Returned to Sender"
    : delayed
    ? "Delayed Mail (still being retried)"
    : "Successful Mail Delivery Report";
  const top = [
    `From: Mail Delivery System <MAILER-DAEMON@${host}>`,
    field("To", `<${addressText(input.sender)}>`),
    `Subject: ${subject}`,
    `Date: ${formatDate(input.now)}`,
    `Message-ID: <${unique}@${host}>`, // RFC 5322 §3.6.4
    "Auto-Submitted: auto-replied", // RFC 3834 §5: never answered by other robots
    "MIME-Version: 1.0",
    // RFC 6522 §3: report-type names the machine-readable part.
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"`,
    "",
    "This is a MIME-encapsulated message.",
    "",
  ];
  const explanation = [
    `--${boundary}`,
    "Content-Type: text/plain; charset=us-ascii",
    "Content-Description: Notification",
    "",
    ...humanText(input, host, { failed, delayed, full }),
    "",
  ];
  const status = [
    `--${boundary}`,
    "Content-Type: message/delivery-status", // RFC 3464 §2.1
    "Content-Description: Delivery report",
    "",
    ...deliveryStatus(input, host),
  ];
  const returnedHead = [
    `--${boundary}`,
    // RFC 6522 §4 text/rfc822-headers; RFC 3464 §2: the third part returns the message.
    `Content-Type: ${full ? "message/rfc822" : "text/rfc822-headers"}`,
    `Content-Description: ${full ? "Undelivered message" : "Message headers"}`,
    // RFC 2046 §5.2.1: message/rfc822 allows only 7bit, 8bit and binary.
    ...(returned.some((b) => b >= 0x80) ? ["Content-Transfer-Encoding: 8bit"] : []),
    "",
    "",
  ];
  const encoder = new TextEncoder();
  const head = encoder.encode(
    [...top, ...explanation, ...status, ...returnedHead].join("\r\n"),
  );
  const endsInLine = returned.length === 0 || returned[returned.length - 1] === 0x0a;
  const tail = encoder.encode(`${endsInLine ? "" : "\r\n"}\r\n--${boundary}--\r\n`);
  const out = new Uint8Array(head.length + returned.length + tail.length);
  out.set(head, 0);
  out.set(returned, head.length);
  out.set(tail, head.length + returned.length);
  return out;
}

/** The message/delivery-status fields: per-message, an empty line, then per-recipient groups. */
function deliveryStatus(input: DsnInput, host: string): string[] {
  const lines = [`Reporting-MTA: dns; ${host}`]; // RFC 3464 §2.2.2
  if (input.envid !== null) {
    lines.push(field("Original-Envelope-Id", clean(input.envid, MAX_TEXT))); // RFC 3464 §2.2.1
  }
  lines.push(`Arrival-Date: ${formatDate(input.arrivalDate)}`); // RFC 3464 §2.2.5
  lines.push("");
  for (const r of input.recipients) {
    const orcpt = originalRecipient(r.orcpt ?? null);
    if (orcpt !== null) lines.push(field("Original-Recipient", orcpt)); // RFC 3464 §2.3.1
    lines.push(field("Final-Recipient", typedAddress(r.address))); // RFC 3464 §2.3.2
    lines.push(`Action: ${r.action}`); // RFC 3464 §2.3.3
    lines.push(`Status: ${statusOf(r)}`); // RFC 3464 §2.3.4
    if (r.remoteHost) lines.push(field("Remote-MTA", `dns; ${clean(r.remoteHost, MAX_TEXT)}`));
    if (r.diagnostic) {
      // RFC 3464 §2.3.6: the remote reply, diagnostic-type smtp.
      lines.push(field("Diagnostic-Code", `smtp; ${clean(r.diagnostic, MAX_DIAGNOSTIC)}`));
    }
    if (r.lastAttemptAt) lines.push(`Last-Attempt-Date: ${formatDate(r.lastAttemptAt)}`);
    if (r.action === "delayed" && r.willRetryUntil) {
      lines.push(`Will-Retry-Until: ${formatDate(r.willRetryUntil)}`); // RFC 3464 §2.3.9
    }
    lines.push("");
  }
  return lines;
}

/** The explanation for people: which recipients, what went wrong, in plain words. */
function humanText(
  input: DsnInput,
  host: string,
  what: { failed: boolean; delayed: boolean; full: boolean },
): string[] {
  const lines = [`This is the mail system at host ${host}.`, ""];
  const attached = what.full
    ? "Your message is attached below."
    : "The header of your message is attached below.";
  if (what.failed) {
    lines.push(
      ...wrap(
        `Your message could not be delivered to one or more recipients. ${attached} ` +
          "The mail system gave up on the recipients listed as failed; do not expect it to " +
          "try again.",
      ),
    );
  } else if (what.delayed) {
    lines.push(
      ...wrap(
        "Your message has not yet been delivered to one or more recipients. The mail system " +
          "will keep trying; you do not need to send it again. " + attached,
      ),
    );
  } else {
    lines.push(...wrap(`Your message was delivered as requested. ${attached}`));
  }
  for (const r of input.recipients) {
    lines.push("");
    const status = statusOf(r);
    const words = r.explanation ? clean(r.explanation, MAX_TEXT) : statusWords(status);
    lines.push(...wrap(`<${addressText(r.address)}>: ${r.action}: ${words} (${status})`));
    if (r.diagnostic) {
      const who = r.remoteHost ? `The mail server ${clean(r.remoteHost, MAX_TEXT)}` : "The server";
      lines.push(...wrap(`${who} said: ${clean(r.diagnostic, MAX_DIAGNOSTIC)}`, "    "));
    }
    if (r.action === "delayed" && r.willRetryUntil) {
      lines.push(`    Trying until ${formatDate(r.willRetryUntil)}.`);
    }
  }
  return lines;
}

/** RFC 3463 codes in plain words; the class alone when the detail is not listed. */
const STATUS_WORDS: Record<string, string> = {
  "1.1": "the mailbox does not exist",
  "1.2": "the recipient's domain does not exist or has no mail server",
  "1.3": "the recipient address is not valid",
  "1.6": "the mailbox has moved",
  "1.10": "the recipient's domain accepts no mail", // RFC 7505 null MX
  "2.1": "the mailbox is disabled",
  "2.2": "the mailbox is full",
  "2.3": "the message is larger than the mailbox accepts",
  "3.4": "the message is too large for the receiving system",
  "4.1": "no mail server of the recipient's domain answered",
  "4.2": "the connection to the mail server was lost",
  "4.4": "the recipient's domain could not be routed",
  "4.7": "the message could not be delivered in time",
  "5.3": "the message had too many recipients",
  "6.0": "the receiving server did not accept the message's content",
  "7.1": "the receiving server refused the message by its policy",
  "7.2": "the recipient's mailing list refused the message",
  "7.26": "the message failed the receiving server's authentication checks",
};

function statusWords(status: string): string {
  const [cls, ...detail] = status.split(".");
  const known = STATUS_WORDS[detail.join(".")];
  if (known) return known;
  if (cls === "2") return "delivered";
  if (cls === "4") return "a temporary problem";
  return "the receiving server refused it";
}

/** RFC 3463 §2 status-code. */
const STATUS = /^[245]\.\d{1,3}\.\d{1,3}$/;
/** An SMTP reply: its code, then perhaps an RFC 2034 enhanced code. */
const REPLY = /^([245])\d\d(?:[ -]([245]\.\d{1,3}\.\d{1,3}))?(?:\s|$)/;

function statusOf(r: DsnRecipient): string {
  if (r.status && STATUS.test(r.status)) return r.status;
  const reply = r.diagnostic ? REPLY.exec(r.diagnostic.trim()) : null;
  if (reply) {
    // RFC 3463 §2: the enhanced code's class agrees with the reply code's; trust it only then.
    if (reply[2] && reply[2][0] === reply[1]) return reply[2];
    return `${reply[1]}.0.0`;
  }
  return r.action === "failed" ? "5.0.0" : r.action === "delayed" ? "4.0.0" : "2.0.0";
}

/** The Original-Recipient value from a stored ORCPT ("rfc822;bob@example.org"), cleaned. */
function originalRecipient(orcpt: string | null): string | null {
  if (orcpt === null) return null;
  const semi = orcpt.indexOf(";");
  if (semi <= 0) return null;
  const type = orcpt.slice(0, semi).trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(type)) return null; // RFC 3464 §2.3.1 atom
  const address = orcpt.slice(semi + 1).trim();
  if (/^[\x21-\x7e]*$/.test(address)) return `${type}; ${clean(address, MAX_TEXT)}`;
  // RFC 6533 §3: a UTF-8 address in an ASCII DSN is typed utf-8 and written as xtext.
  return `utf-8; ${utf8AddrXtext(address)}`;
}

/** Final-Recipient: rfc822 for ASCII addresses, utf-8 with RFC 6533 §3 escapes otherwise. */
function typedAddress(address: string): string {
  if (/^[\x21-\x7e]*$/.test(address)) return `rfc822; ${clean(address, MAX_TEXT)}`;
  return `utf-8; ${utf8AddrXtext(address)}`;
}

/** An address for text and the To field: ASCII as is, other characters RFC 6533-escaped. */
function addressText(address: string): string {
  return /^[\x21-\x7e]*$/.test(address) ? clean(address, MAX_TEXT) : utf8AddrXtext(address);
}

/**
 * RFC 6533 §3 utf-8-addr-xtext: printable ASCII except "+", "=" and "\" as is, every other
 * character as `\x{HEX}`.
 */
function utf8AddrXtext(address: string): string {
  let out = "";
  for (const ch of address.slice(0, MAX_TEXT)) {
    const code = ch.codePointAt(0)!;
    const plain = code >= 0x21 && code <= 0x7e && ch !== "+" && ch !== "=" && ch !== "\\";
    out += plain ? ch : `\\x{${code.toString(16).toUpperCase()}}`;
  }
  return out;
}

/**
 * Text from outside made safe for a field: line breaks and tabs become spaces, other
 * controls and non-ASCII become "?", runs of spaces collapse, and it is cut to `max`.
 */
function clean(text: string, max: number): string {
  let out = text.replace(/[\r\n\t]+/g, " ").replace(/[^\x20-\x7e]/gu, "?")
    .replace(/ {2,}/g, " ").trim();
  if (out.length > max) out = out.slice(0, max - 3) + "...";
  return out;
}

/** A field folded at spaces to about {@link FOLD_AT} characters a line (RFC 5322 §2.2.3). */
function field(name: string, value: string): string {
  const words = value.split(" ");
  let line = `${name}:`;
  const lines: string[] = [];
  for (const word of words) {
    if (line.length + 1 + word.length > FOLD_AT && line.trim().length > name.length + 1) {
      lines.push(line);
      line = "\t" + word;
    } else {
      line += " " + word;
    }
  }
  lines.push(line);
  return lines.join("\r\n");
}

/** Plain text wrapped at {@link FOLD_AT} characters, each line after `indent`. */
function wrap(text: string, indent = ""): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(" ")) {
    if (line.length > indent.length && line.length + 1 + word.length > FOLD_AT) {
      lines.push(line);
      line = indent + word;
    } else {
      line += (line.length > indent.length ? " " : "") + word;
    }
  }
  lines.push(line);
  return lines;
}

/** The header block of a message, through the empty line that ends it (CRLF or bare LF). */
function headerOf(message: Uint8Array): Uint8Array {
  for (let i = 0; i < message.length; i++) {
    if (message[i] !== 0x0a) continue;
    if (message[i + 1] === 0x0a) return message.subarray(0, i + 1);
    if (message[i + 1] === 0x0d && message[i + 2] === 0x0a) return message.subarray(0, i + 1);
  }
  return message;
}

/** A boundary that occurs nowhere in `content` (RFC 2046 §5.1.1). */
function boundaryFor(unique: string, content: Uint8Array): string {
  const text = new TextDecoder("latin1").decode(content);
  for (let n = 0;; n++) {
    const boundary = `=_fumi-dsn-${unique.slice(0, 40)}${n === 0 ? "" : `-${n}`}`;
    if (!text.includes(`--${boundary}`)) return boundary;
  }
}
