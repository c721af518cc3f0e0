/**
 * SMTP command lines (RFC 5321 §4.1): the verb and its arguments, the HELO/EHLO argument, and
 * the paths and parameters of MAIL and RCPT.
 *
 * Invariants:
 * - Every refusal is an {@link SmtpSyntaxError} carrying the exact reply to send (5xx with an
 *   enhanced code); nothing else is thrown for any input.
 * - A command line is valid UTF-8 (RFC 6531 §3.3) without control characters: a CR, LF or NUL
 *   inside a line never reaches a parser (the line reader ends lines at CRLF; anything else is
 *   refused here).
 * - Addresses come out of util/address.ts's parser, so their length limits, IDNA handling and
 *   canonical form are the same as everywhere else in Fumi.
 *
 * Replies used: 500 5.5.2 (unreadable line), 501 5.5.2 (command syntax), 501 5.5.4 (bad
 * argument or parameter value), 555 5.5.4 (unknown parameter, RFC 5321 §4.1.1.11), 501 and
 * 553 with 5.1.7 (sender) / 5.1.3 (recipient) for bad paths and addresses, 550 / 553 5.6.7 for
 * a non-ASCII address without SMTPUTF8 (RFC 6531 §3.5).
 *
 * @module
 */

import type { MailAddress } from "../../util/address.ts";
import { refuse } from "./_errors.ts";
import { normalizeAddressLiteral, normalizeHeloDomain } from "./_host.ts";
import { type MailParams, parseMailParams, parseRcptParams, type RcptParams } from "./_params.ts";
import { parseMailbox, splitPath } from "./_path.ts";

export { SmtpSyntaxError } from "./_errors.ts";
export type { MailParams, RcptParams } from "./_params.ts";

/** One command line split into its verb (upper-cased ASCII) and the rest (after one space). */
export interface CommandLine {
  /** The verb, ASCII letters in upper case (RFC 5321 §2.4: verbs are case-insensitive). */
  readonly verb: string;
  /** What follows the first space, trailing spaces removed; "" when there is nothing. */
  readonly args: string;
}

/** What {@link parseMailFrom} and {@link parseRcptTo} need to know of the session. */
export interface ParseOptions {
  /**
   * MAIL: whether the server offers SMTPUTF8 in this session. RCPT: whether this
   * transaction's MAIL FROM carried the SMTPUTF8 parameter (RFC 6531 §3.4).
   */
  readonly smtputf8: boolean;
  /** False when the session began with HELO rather than EHLO; default true. */
  readonly esmtp?: boolean;
  /** MAIL: whether the server offers REQUIRETLS now (RFC 8689 §4.1: under TLS); default false. */
  readonly requireTls?: boolean;
}

/** A parsed `MAIL FROM:`. */
export interface MailFrom {
  /** The sender; null for the null reverse-path `<>` (RFC 5321 §4.5.5, bounces). */
  readonly sender: MailAddress | null;
  readonly params: MailParams;
}

/** A parsed `RCPT TO:`. */
export interface RcptTo {
  /** The recipient, or "postmaster" for the bare `<Postmaster>` (RFC 5321 §4.1.1.3). */
  readonly recipient: MailAddress | "postmaster";
  readonly params: RcptParams;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const VERB = /^[A-Za-z]+$/;
// C0 controls, DEL and C1 controls. RFC 5321 §4.1.2 has no place for any of them in a
// command (not even HT: SP is the only separator); a NUL or bare CR/LF is how commands are
// smuggled past filters that read lines differently.
const CONTROL = /\p{Cc}/u;

/**
 * Decodes a command line (bytes without CRLF) into its verb and arguments. Trailing spaces
 * are dropped from the arguments (clients send them; RFC 5321 §4.1.1 has none).
 *
 * @example
 * ```ts
 * parseCommandLine(new TextEncoder().encode("mail FROM:<a@example.org>"));
 * // { verb: "MAIL", args: "FROM:<a@example.org>" }
 * ```
 * @throws {SmtpSyntaxError} 500 5.5.2 for invalid UTF-8 (RFC 6531 §3.3), a control
 *   character, or a verb that is not ASCII letters (RFC 5321 §4.1.1).
 */
export function parseCommandLine(line: Uint8Array): CommandLine {
  let text: string;
  try {
    text = decoder.decode(line);
  } catch {
    refuse(500, "5.5.2", "Syntax error: the command is not valid UTF-8");
  }
  if (CONTROL.test(text)) refuse(500, "5.5.2", "Syntax error: control character in command");
  const space = text.indexOf(" ");
  const verb = space < 0 ? text : text.slice(0, space);
  if (!VERB.test(verb)) refuse(500, "5.5.2", "Syntax error, command unrecognized");
  const args = space < 0 ? "" : text.slice(space + 1).replace(/ +$/, "");
  return { verb: verb.toUpperCase(), args };
}

/**
 * Checks and normalises the HELO/EHLO argument: a domain (RFC 5321 §4.1.2 Domain, U-labels
 * too, RFC 6531 §3.3) in lower case with A-labels and without a trailing dot, or an address
 * literal (RFC 5321 §4.1.3) in canonical form: `[192.0.2.1]`, `[IPv6:2001:db8::1]`. Bare host
 * names without a dot ("localhost", "mybox") are accepted: many clients send them.
 *
 * @example
 * ```ts
 * parseHeloArgument("Mail.Example.ORG."); // "mail.example.org"
 * parseHeloArgument("[IPv6:2001:DB8:0::1]"); // "[IPv6:2001:db8::1]"
 * ```
 * @throws {SmtpSyntaxError} 501 5.5.4 for anything else (empty, spaces inside, `<…>`, …).
 */
export function parseHeloArgument(args: string): string {
  const text = args.replace(/^ +| +$/g, "");
  const normalized = text.startsWith("[")
    ? normalizeAddressLiteral(text)
    : normalizeHeloDomain(text);
  if (normalized === null) {
    refuse(501, "5.5.4", "Syntax: HELO or EHLO followed by a domain name or an address literal");
  }
  return normalized;
}

/**
 * Parses `MAIL FROM:<path> params` (`args` is what follows "MAIL "). "FROM:" is matched
 * case-insensitively and spaces before "<" are tolerated ("FROM: <a@b>", as Postfix does).
 * A source route is accepted and dropped.
 *
 * SMTPUTF8: `options.smtputf8` says whether the server offers the extension in this session
 * (if not, the SMTPUTF8 parameter is unknown: 555). A non-ASCII reverse-path needs the
 * SMTPUTF8 parameter on this very command (RFC 6531 §3.4), else 550 5.6.7 (RFC 6531 §3.5).
 *
 * `options.esmtp` (default true) is false when the session began with HELO: then every
 * parameter is refused with 555 5.5.4, as HELO offers no extensions. Parameters of extensions
 * an EHLO session does not offer (SIZE, DSN's RET and ENVID, AUTH) are parsed all the same;
 * refusing them is the session's business.
 *
 * @example
 * ```ts
 * parseMailFrom("FROM:<> SIZE=1024", { smtputf8: true });
 * // { sender: null, params: { size: 1024, body: null, smtputf8: false, ... } }
 * ```
 * @throws {SmtpSyntaxError} 501 5.5.2 (no `FROM:<…>`), 501 5.1.7 (path over 256 octets),
 *   501 5.5.4 (bad parameter), 555 5.5.4 (unknown parameter), 553 5.1.7 (bad address),
 *   550 5.6.7 (non-ASCII without SMTPUTF8).
 */
export function parseMailFrom(args: string, options: ParseOptions): MailFrom {
  // RFC 5321 §4.1.1.2: mail = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
  const path = splitPath(args, "FROM:", "sender", "Syntax: MAIL FROM:<address> [parameters]");
  const params = parseMailParams(
    path.params,
    options.smtputf8,
    options.esmtp ?? true,
    options.requireTls ?? false,
  );
  // RFC 5321 §4.1.1.2: Reverse-path = Path / "<>"
  const sender = path.inner === "" ? null : parseMailbox(path.inner, "sender", params.smtputf8);
  return { sender, params };
}

/**
 * Parses `RCPT TO:<path> params` (`args` is what follows "RCPT "). `<Postmaster>` without a
 * domain, in any case, gives "postmaster" (RFC 5321 §4.1.1.3). Source routes
 * (`<@a,@b:user@c>`) are accepted and ignored (RFC 5321 §4.1.1.3, Appendix C); the percent
 * hack is not interpreted ("user%other" is just a local part).
 *
 * SMTPUTF8: `options.smtputf8` says whether this transaction's MAIL FROM carried the SMTPUTF8
 * parameter; only then may the address be non-ASCII (else 553 5.6.7, RFC 6531 §3.5).
 * `options.esmtp` as for {@link parseMailFrom}.
 *
 * @example
 * ```ts
 * parseRcptTo("TO:<Postmaster> NOTIFY=NEVER", { smtputf8: false });
 * // { recipient: "postmaster", params: { notify: "NEVER", orcpt: null } }
 * ```
 * @throws {SmtpSyntaxError} 501 5.5.2 (no `TO:<…>`), 501 5.1.3 (empty or over-long path),
 *   501 5.5.4 (bad parameter), 555 5.5.4 (unknown parameter), 553 5.1.3 (bad address),
 *   553 5.6.7 (non-ASCII without SMTPUTF8).
 */
export function parseRcptTo(args: string, options: ParseOptions): RcptTo {
  // RFC 5321 §4.1.1.3: rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" /
  // Forward-path ) [SP Rcpt-parameters] CRLF
  const path = splitPath(args, "TO:", "recipient", "Syntax: RCPT TO:<address> [parameters]");
  const params = parseRcptParams(path.params, options.esmtp ?? true);
  if (path.inner === "") refuse(501, "5.1.3", "The null path <> is not a recipient");
  // RFC 5321 §4.1.1.3: "<Postmaster>" is case-insensitive (§2.4: the local part "Postmaster"
  // is a special case that must be treated as case-insensitive).
  if (path.inner.toLowerCase() === "postmaster") return { recipient: "postmaster", params };
  return { recipient: parseMailbox(path.inner, "recipient", options.smtputf8), params };
}
