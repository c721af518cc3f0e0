/**
 * The header fields an MTA adds or removes: trace fields (Received, Return-Path, Delivered-To),
 * what a submission server completes (Date, Message-ID) and Authentication-Results.
 *
 * Invariants:
 * - Pure: values in, text out; no I/O and no clock (dates come from the caller).
 * - Every field returned ends in CRLF and is folded at white space to at most 78 characters a
 *   line where the words allow it (RFC 5322 §2.1.1, §2.2.3).
 * - Text that comes from the client (HELO argument, user name, ids) never brings a CR, LF or
 *   other control character into a field: it is cleaned, cut to a bound, and quoted where it
 *   sits in a comment, so a client cannot start a field of its own.
 *
 * @module
 */

import { parseHeader } from "../mime/mod.ts";
import { formatAddress, type MailAddress } from "../util/address.ts";

/** The TLS session of a connection, as the Received field reports it. */
export interface TraceTls {
  /** "TLSv1.3" and the like; null when unknown. */
  readonly protocol: string | null;
  /** The cipher suite's name; null when unknown. */
  readonly cipher: string | null;
}

/** What a Received field records of one SMTP transaction (RFC 5321 §4.4). */
export interface ReceivedTrace {
  /** The client's HELO/EHLO argument, as received; null when it gave none. */
  readonly helo: string | null;
  /** The client's IP address (IPv4 dotted quad or IPv6 text). */
  readonly ip: string;
  /** The client's reverse DNS name when known (and confirmed); null otherwise. */
  readonly reverseName?: string | null;
  /** Our host name: the "by" clause. */
  readonly hostname: string;
  /** True after EHLO, false after HELO. */
  readonly esmtp: boolean;
  /** The TLS session, or null for a clear-text connection. */
  readonly tls: TraceTls | null;
  /** True when the client authenticated (RFC 3848 "A" protocols). */
  readonly authenticated: boolean;
  /** The authenticated user to name in the field; set only where revealing it is wanted. */
  readonly authUser?: string | null;
  /** True when MAIL FROM carried SMTPUTF8 (RFC 6531 §3.7.3 UTF8SMTP protocols). */
  readonly smtputf8: boolean;
  /** The transaction's id, as logged (letters, digits, ".", "-", "_"). */
  readonly id: string;
  /** The accepted recipients; named only when there is exactly one (RFC 5321 §7.2). */
  readonly recipients: readonly (MailAddress | "postmaster")[];
  /** When the message was received. */
  readonly date: Date;
}

/** Folded lines are kept to this many characters where possible (RFC 5322 §2.1.1). */
export const FOLD_AT = 78;
/** Bound on client-supplied text written into a field (the longest domain is 253 octets). */
const MAX_CLIENT_TEXT = 255;

/** RFC 2045 §5.1 token (no space, controls or tspecials), whole and at the start of text. */
// deno-lint-ignore no-control-regex -- control characters are what a token excludes
const TOKEN = /^[^\x00-\x20\x7f()<>@,;:\\"/[\]?=]+$/;
// deno-lint-ignore no-control-regex -- as above
const LEADING_TOKEN = /^[^\x00-\x20\x7f()<>@,;:\\"/[\]?=]+/;

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * Formats a date as an RFC 5322 §3.3 date-time in UTC.
 *
 * @example
 * ```ts
 * formatDate(new Date("2026-11-27T12:00:00Z")); // "Fri, 27 Nov 2026 12:00:00 +0000"
 * ```
 */
export function formatDate(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${
    String(date.getUTCFullYear()).padStart(4, "0")
  } ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

/**
 * The "with" protocol of a Received field: RFC 5321 §4.4 SMTP/ESMTP, RFC 3848 ESMTPA, ESMTPS,
 * ESMTPSA, and with SMTPUTF8 RFC 6531 §3.7.3 UTF8SMTP, UTF8SMTPA, UTF8SMTPS, UTF8SMTPSA.
 */
export function receivedProtocol(
  trace: Pick<ReceivedTrace, "esmtp" | "tls" | "authenticated" | "authUser" | "smtputf8">,
): string {
  const authenticated = trace.authenticated || (trace.authUser ?? null) !== null;
  const suffix = `${trace.tls ? "S" : ""}${authenticated ? "A" : ""}`;
  if (trace.smtputf8) return `UTF8SMTP${suffix}`;
  // TLS and AUTH are service extensions, so only a plain HELO session is "SMTP".
  if (!trace.esmtp && suffix === "") return "SMTP";
  return `ESMTP${suffix}`;
}

/**
 * The Received field for a message (RFC 5321 §4.4 Time-stamp-line), folded:
 *
 * ```text
 * Received: from client.example (rdns.example [192.0.2.1])
 * 	(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256) by mx.example.org
 * 	with ESMTPS id 1a2b3c for <alice@example.org>;
 * 	Fri, 27 Nov 2026 12:00:00 +0000
 * ```
 */
export function receivedHeader(trace: ReceivedTrace): string {
  const utf8 = trace.smtputf8;
  const ip = addressLiteral(trace.ip);
  const reverseName = trace.reverseName ?? null;
  const reverse = reverseName !== null && isDomain(reverseName, utf8) ? reverseName : null;
  const clauses: string[] = [];
  // RFC 5321 §4.4: the FROM clause names the host as given in EHLO and, in TCP-info, its
  // address literal (and the name it resolves to).
  const tcpInfo = `(${reverse === null ? "" : `${reverse} `}${ip})`;
  if (trace.helo !== null && (isDomain(trace.helo, utf8) || isAddressLiteral(trace.helo))) {
    clauses.push(`from ${trace.helo}`, tcpInfo);
  } else {
    // Not a Domain: the literal stands in for it, and what the client said goes in a comment.
    const said = trace.helo === null ? "no helo" : `helo=${comment(trace.helo, utf8)}`;
    clauses.push(`from ${ip}`, `(${reverse === null ? "" : `${reverse} `}${said})`);
  }
  if (trace.tls) {
    const protocol = comment(trace.tls.protocol ?? "TLS", utf8);
    const cipher = trace.tls.cipher === null
      ? ""
      : ` with cipher ${comment(trace.tls.cipher, utf8)}`;
    clauses.push(`(using ${protocol}${cipher})`);
  }
  const authUser = trace.authUser ?? null;
  if (authUser !== null) clauses.push(`(Authenticated sender: ${comment(authUser, utf8)})`);
  clauses.push(`by ${isDomain(trace.hostname, utf8) ? trace.hostname : "localhost"}`);
  clauses.push(`with ${receivedProtocol(trace)}`);
  clauses.push(`id ${atom(trace.id)}`);
  // RFC 5321 §7.2: naming the recipient of a message sent to several would disclose the others.
  const [only] = trace.recipients;
  if (trace.recipients.length === 1 && only !== undefined) {
    clauses.push(`for <${only === "postmaster" ? "postmaster" : mailbox(only)}>`);
  }
  clauses[clauses.length - 1] += ";";
  clauses.push(formatDate(trace.date));
  return fold("Received:", clauses);
}

/** The Return-Path field of final delivery (RFC 5321 §4.4): the reverse-path, `<>` for null. */
export function returnPath(sender: MailAddress | null): string {
  return `Return-Path: <${sender === null ? "" : mailbox(sender)}>\r\n`;
}

/**
 * The Delivered-To field: the address a copy was delivered for (the recipient that led to the
 * mailbox). Not standardised, but what MTAs use to notice forwarding loops.
 */
export function deliveredTo(address: MailAddress | string): string {
  const text = typeof address === "string" ? clean(address, true) : mailbox(address);
  return `Delivered-To: ${text}\r\n`;
}

/**
 * The fields a message submission server adds when a message lacks them: Date
 * (RFC 6409 §8.2) and Message-ID (RFC 6409 §8.3), as lines to insert into the header; "" when
 * both are there. `header` is the message (or its header block).
 */
export function missingSubmissionHeaders(
  header: Uint8Array,
  options: { readonly hostname: string; readonly now: Date; readonly uniqueId?: string },
): string {
  const names = new Set(parseHeader(header).fields.map((f) => f.name.toLowerCase()));
  let lines = "";
  if (!names.has("date")) lines += `Date: ${formatDate(options.now)}\r\n`;
  if (!names.has("message-id")) {
    const unique = atom(options.uniqueId ?? crypto.randomUUID());
    const host = isDomain(options.hostname, false) ? options.hostname : "localhost";
    lines += `Message-ID: <${unique}@${host}>\r\n`; // RFC 5322 §3.6.4 msg-id
  }
  return lines;
}

/**
 * Removes the Authentication-Results fields whose authserv-id is ours (RFC 8601 §5): they
 * were not written by us, so a message must not arrive carrying them. Compares as a reader
 * would see the id: UTF-8, NFKC, without separators or invisible characters (a no-break
 * space before the ";"), without a trailing dot, case-insensitively; touches only the
 * header block; leaves every other byte as it was. Returns `message` itself when nothing is
 * removed.
 *
 * Each server strips its own `authservId` (its host name). Several MX hosts of one
 * installation with different host names do not strip each other's: a field forged for
 * another of them survives here. Give them one ADMD-wide authserv-id (RFC 8601 §2.5) to
 * strip them all.
 */
export function stripForgedAuthResults(message: Uint8Array, authservId: string): Uint8Array {
  const ours = visibleId(authservId);
  return removeFields(message, (name, value) => {
    if (name.toLowerCase() !== "authentication-results") return false;
    const id = authservIdOf(utf8(value));
    return id !== null && visibleId(id) === ours;
  });
}

/** An authserv-id as a reader sees it, for comparing: case-folded, nothing invisible. */
function visibleId(id: string): string {
  return id.normalize("NFKC").replace(/[\p{Z}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu, "")
    .replace(/\.+$/, "").toLowerCase();
}

/**
 * The bytes 0x80 to 0x9f by the character TextDecoder("latin1") gives them: the WHATWG label
 * "latin1" is windows-1252, which maps most of them elsewhere (0x80 is "€").
 */
const WINDOWS_1252 = new Map(
  [...new TextDecoder("latin1").decode(Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i))]
    .map((c, i) => [c.charCodeAt(0), 0x80 + i]),
);

/** A header value as {@link headerFields} decodes it, read as UTF-8 when it is valid. */
function utf8(latin1: string): string {
  if (!/\P{ASCII}/u.test(latin1)) return latin1; // ASCII: nothing to re-read
  const bytes = Uint8Array.from(latin1, (c) => {
    const code = c.charCodeAt(0);
    return WINDOWS_1252.get(code) ?? code;
  });
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return latin1;
  }
}

/**
 * The spam-verdict fields the MX writes (src/reputation: X-Spam-Score, X-Spam-Status) and
 * those other filters use for the same verdict, which mail readers and Sieve scripts trust.
 */
export const SPAM_VERDICT_FIELDS: readonly string[] = [
  "x-spam-status",
  "x-spam-score",
  "x-spam-flag",
  "x-spam-level",
];

/**
 * Removes the {@link SPAM_VERDICT_FIELDS} a message arrives with: on the MX they were written
 * by the sender (or a hop we do not trust), never by us, and must not reach a mailbox next to
 * our own verdict or instead of it. Like {@link stripForgedAuthResults}, touches only the
 * header block and returns `message` itself when nothing is removed.
 */
export function stripForgedSpamFields(message: Uint8Array): Uint8Array {
  return removeFields(message, (name) => SPAM_VERDICT_FIELDS.includes(name.toLowerCase()));
}

/**
 * Removes the header fields `remove` picks (by unfolded name and raw value), each with its
 * continuation lines; every other byte stays as it was. Returns `message` itself when nothing
 * is removed.
 */
function removeFields(
  message: Uint8Array,
  remove: (name: string, value: string) => boolean,
): Uint8Array {
  const picked = headerFields(message).filter((field) => remove(field.name, field.value));
  if (picked.length === 0) return message;
  const removed = picked.reduce((n, f) => n + f.end - f.start, 0);
  const out = new Uint8Array(message.length - removed);
  let at = 0;
  let from = 0;
  for (const field of picked) {
    out.set(message.subarray(from, field.start), at);
    at += field.start - from;
    from = field.end;
  }
  out.set(message.subarray(from), at);
  return out;
}

/**
 * Our Authentication-Results field (RFC 8601 §2.2). With no results it says `none` (§2.2:
 * no message authentication was performed); `results` are resinfo clauses such as
 * `spf=pass smtp.mailfrom=example.net`, each on a line of its own.
 */
export function authenticationResults(
  authservId: string,
  results: readonly string[] = [],
): string {
  const id = value(clean(authservId, false)) || "localhost";
  const clauses = results.map(cleanClause).filter((r) => r !== "");
  if (clauses.length === 0) return fold("Authentication-Results:", [`${id};`, "none"]);
  const lines = [`Authentication-Results: ${id};`];
  // A resinfo per line; a long one folded at its spaces (all of them CFWS or inside a
  // quoted-string, where RFC 5322 §3.2.4 allows FWS too).
  clauses.forEach((r, i) => {
    const text = `${r}${i < clauses.length - 1 ? ";" : ""}`;
    lines.push(fold("", text.split(" ")).replace(/\r\n$/, "").replace(/^ /, "\t"));
  });
  return lines.join("\r\n") + "\r\n";
}

/** A filter check's header field to add: name and unfolded value (src/filter `tag`). */
export type TagField = readonly [name: string, value: string];

/**
 * Splits the filter chain's tag fields into our Authentication-Results field and the rest.
 * A check that authenticated the message (src/mailauth) tags it with an
 * Authentication-Results value naming our authserv-id; the first such value becomes our one
 * field (RFC 8601 §2.2), folded a resinfo per line by {@link authenticationResults}. Further
 * ones claiming our id are dropped: there is one field per authserv-id. `field` is null when
 * no check gave one (the MX then writes `none`). Fields for another authserv-id stay in
 * `others`: a check may report what another server found, under that server's name.
 */
export function authResultsFromTags(
  authservId: string,
  tags: readonly TagField[],
): { readonly field: string | null; readonly others: readonly TagField[] } {
  const ours = authservId.toLowerCase();
  let field: string | null = null;
  const others: TagField[] = [];
  for (const tag of tags) {
    const [name, text] = tag;
    if (name.toLowerCase() !== "authentication-results") {
      others.push(tag);
      continue;
    }
    if (authservIdOf(text)?.toLowerCase() !== ours) {
      others.push(tag);
      continue;
    }
    if (field !== null) continue;
    const [, ...clauses] = splitResinfo(text);
    // RFC 8601 §2.2: the authserv-id may carry a version; ours is written without one.
    field = authenticationResults(authservId, clauses.filter((c) => c.trim() !== "none"));
  }
  return { field, others };
}

// --- helpers ---------------------------------------------------------------------------------

/** The longest resinfo written (RFC 5322 §2.1.1: lines of at most 998 characters). */
const MAX_RESINFO = 900;

/** A resinfo for our field: control characters and line breaks become spaces, bounded. */
function cleanClause(text: string): string {
  return text.replace(/[\p{C}\p{Zl}\p{Zp}\s]+/gu, " ").trim().slice(0, MAX_RESINFO);
}

/**
 * An Authentication-Results value split at its top-level ";" (RFC 8601 §2.2): the
 * authserv-id part, then each resinfo; ";" inside quoted-strings and comments stays.
 */
function splitResinfo(text: string): string[] {
  const parts: string[] = [];
  let current = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if ((quoted || depth > 0) && c === "\\") {
      current += c + (text[i + 1] ?? "");
      i++;
      continue;
    }
    if (quoted) {
      if (c === '"') quoted = false;
    } else if (c === '"' && depth === 0) {
      quoted = true;
    } else if (c === "(") {
      depth++;
    } else if (c === ")" && depth > 0) {
      depth--;
    } else if (c === ";" && depth === 0) {
      parts.push(current.trim());
      current = "";
      continue;
    }
    current += c;
  }
  parts.push(current.trim());
  return parts;
}

/** Folds `name` and its clauses: a clause moves to the next line when it does not fit. */
function fold(name: string, clauses: readonly string[]): string {
  const lines: string[] = [];
  let line = name;
  let empty = true; // nothing but the field name or the indent yet: never break here
  const add = (text: string) => {
    if (empty || line.length + 1 + text.length <= FOLD_AT) {
      line += ` ${text}`;
    } else {
      lines.push(line);
      line = `\t${text}`;
    }
    empty = false;
  };
  for (const clause of clauses) {
    if (empty || line.length + 1 + clause.length <= FOLD_AT || 1 + clause.length <= FOLD_AT) {
      add(clause);
    } else {
      // Longer than a line: fold inside it, at its spaces (all of them FWS).
      for (const word of clause.split(" ")) add(word);
    }
  }
  lines.push(line);
  return lines.join("\r\n") + "\r\n";
}

/**
 * Makes text safe for a field: control characters (CR and LF among them) and Unicode line or
 * format characters become spaces, runs of white space one space; non-ASCII becomes "?" unless
 * the message may carry UTF-8 (RFC 6532); cut to {@link MAX_CLIENT_TEXT} characters.
 */
function clean(text: string, utf8: boolean): string {
  let out = "";
  for (const ch of text.slice(0, MAX_CLIENT_TEXT * 2)) {
    if (/[\p{C}\p{Zl}\p{Zp}\s]/u.test(ch)) out += " ";
    else if (ch.charCodeAt(0) >= 0x80 && !utf8) out += "?";
    else out += ch;
  }
  return [...out.replace(/ +/g, " ").trim()].slice(0, MAX_CLIENT_TEXT).join("");
}

/** Text for inside a comment: cleaned, with "(", ")" and "\" quoted (RFC 5322 §3.2.2). */
function comment(text: string, utf8: boolean): string {
  return clean(text, utf8).replace(/[()\\]/g, "\\$&") || "?";
}

/** An atom for an id: only letters, digits, ".", "-" and "_". */
function atom(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, "").slice(0, 64) || "unknown";
}

/** RFC 2045 value: a token as it is, anything else as a quoted-string. */
function value(text: string): string {
  if (TOKEN.test(text)) return text;
  return text === "" ? "" : `"${text.replace(/["\\]/g, "\\$&")}"`;
}

/** An address for a field, domain in ASCII; a control character (none parses) becomes "?". */
function mailbox(address: MailAddress): string {
  return formatAddress(address).replace(/[\p{C}\p{Zl}\p{Zp}]/gu, "?");
}

/** RFC 5321 §4.1.3 address literal of an IP address. */
function addressLiteral(ip: string): string {
  const text = ip.replace(/[^0-9A-Fa-f.:]/g, "").slice(0, 45);
  return text.includes(":") ? `[IPv6:${text}]` : `[${text}]`;
}

/** True for a host name fit for a Domain (RFC 5321 §4.1.2); U-labels only with UTF-8. */
function isDomain(text: string, utf8: boolean): boolean {
  if (text.length === 0 || text.length > 253) return false;
  const label = utf8
    ? /^[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?$/u
    : /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  return text.split(".").every((l) => label.test(l));
}

/** True for an address literal: `[192.0.2.1]` or `[IPv6:2001:db8::1]` (RFC 5321 §4.1.3). */
function isAddressLiteral(text: string): boolean {
  return /^\[(?:\d{1,3}(?:\.\d{1,3}){3}|IPv6:[0-9A-Fa-f:.]{2,45})\]$/i.test(text);
}

/** A header field's place in the message: from its first byte to after its last line break. */
interface RawField {
  readonly name: string;
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

/** The fields of the header block with their byte ranges (CRLF or bare LF line ends). */
function headerFields(message: Uint8Array): RawField[] {
  const fields: RawField[] = [];
  const decoder = new TextDecoder("latin1");
  let current: { name: string; start: number; valueStart: number } | null = null;
  const close = (end: number) => {
    if (current) {
      const value = decoder.decode(message.subarray(current.valueStart, end));
      fields.push({ name: current.name, value, start: current.start, end });
    }
    current = null;
  };
  let pos = 0;
  while (pos < message.length) {
    const lf = message.indexOf(0x0a, pos);
    const next = lf === -1 ? message.length : lf + 1;
    const contentEnd = lf === -1
      ? message.length
      : lf > pos && message[lf - 1] === 0x0d
      ? lf - 1
      : lf;
    if (contentEnd === pos) break; // RFC 5322 §2.1: the empty line ends the header block
    const first = message[pos]!;
    if (first !== 0x20 && first !== 0x09) { // not a continuation line (RFC 5322 §2.2.3)
      close(pos);
      let colon = pos;
      while (colon < contentEnd && message[colon] !== 0x3a) colon++;
      const name = decoder.decode(message.subarray(pos, colon)).replace(/[ \t]+$/, "");
      if (colon < contentEnd && /^[\x21-\x39\x3b-\x7e]+$/.test(name)) {
        current = { name, start: pos, valueStart: colon + 1 };
      }
    }
    pos = next;
  }
  close(pos);
  return fields;
}

/** The authserv-id of an Authentication-Results value (RFC 8601 §2.2), or null. */
function authservIdOf(raw: string): string | null {
  const text = raw.replace(/\r?\n/g, "");
  let i = skipCfws(text, 0);
  if (text[i] === '"') { // RFC 2045 value: quoted-string
    let out = "";
    for (i++; i < text.length; i++) {
      if (text[i] === "\\") out += text[++i] ?? "";
      else if (text[i] === '"') return out;
      else out += text[i];
    }
    return null;
  }
  const token = LEADING_TOKEN.exec(text.slice(i));
  return token ? token[0] : null;
}

/** Skips white space and (nested) comments (RFC 5322 §3.2.2 CFWS). */
function skipCfws(text: string, from: number): number {
  let i = from;
  let depth = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (depth > 0 && c === "\\") {
      i += 2;
      continue;
    }
    if (c === "(") depth++;
    else if (c === ")" && depth > 0) depth--;
    else if (depth === 0 && c !== " " && c !== "\t") break;
    i++;
  }
  return i;
}
