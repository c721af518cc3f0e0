/**
 * The replies sessions send more than once, each with its enhanced status code (RFC 3463) and
 * the RFC that asks for it. Texts say what to do, never why internally.
 *
 * @module
 */

import { type DataProblem, type Reply, reply } from "../proto/mod.ts";

export const OK = reply(250, "2.0.0", "OK");
/** RFC 5321 §4.1.4: a transaction needs HELO/EHLO first. */
export const SEND_HELO_FIRST = reply(503, "5.5.1", "Send HELO or EHLO first");
export const BAD_SEQUENCE = reply(503, "5.5.1", "Bad sequence of commands");
/** RFC 5321 §3.3: DATA without any accepted recipient. */
export const NO_RECIPIENTS = reply(554, "5.5.1", "No valid recipients");
export const UNRECOGNIZED = reply(500, "5.5.2", "Command not recognized");
export const LINE_TOO_LONG = reply(500, "5.5.2", "Line too long");
/** RFC 5321 §2.3.8: lines end in CRLF. */
export const BARE_LF_COMMAND = reply(500, "5.5.2", "Command lines must end with CRLF");
/** RFC 4954 §6: submission requires authentication. */
export const AUTH_REQUIRED = reply(530, "5.7.0", "Authentication required");
/** RFC 3207 §4: no AUTH before TLS on this listener. */
export const TLS_FIRST = reply(530, "5.7.0", "Must issue a STARTTLS command first");
export const TOO_MANY_ERRORS = reply(421, "4.7.0", "Too many errors, closing connection");
export const TOO_MANY_JUNK = reply(
  421,
  "4.7.0",
  "Too many commands without progress, closing connection",
);
export const TIMEOUT = reply(421, "4.4.2", "Timeout, closing connection");
export const INTERNAL = reply(451, "4.3.0", "Internal error, please try again later");
/** RFC 5321 §4.5.3.1.10: too many recipients is temporary; the client sends the rest later. */
export const TOO_MANY_RECIPIENTS = reply(452, "4.5.3", "Too many recipients");
/** RFC 3463 X.2.2: mailbox full. */
export const MAILBOX_FULL = reply(452, "4.2.2", "Mailbox full, please try again later");
export const UNKNOWN_USER = reply(550, "5.1.1", "No such user here");
/** Relaying without authentication: never an open relay. */
export const RELAY_DENIED = reply(554, "5.7.1", "Relay access denied");
/** RFC 1870 §6. */
export const TOO_BIG = reply(552, "5.3.4", "Message too big for this server");
export const HEADER_TOO_BIG = reply(552, "5.3.4", "Message header too big");
/** RFC 5321 §4.5.3.1.6: text lines are at most 1000 octets with CRLF. */
export const DATA_LINE_TOO_LONG = reply(554, "5.6.0", "Message line longer than 998 characters");
/**
 * A bare LF or CR in message content: where the message ends would be ambiguous (SMTP
 * smuggling, CVE-2023-51764), so the session ends here (RFC 5321 §2.3.8, §4.1.1.4).
 */
export const BARE_LINE_ENDING = reply(
  554,
  "5.5.2",
  "Bare LF or CR in message content; lines must end with CRLF (RFC 5321)",
);
/** RFC 2920 §3.1: the client sent message content before the 354. */
export const SYNC_ERROR = reply(554, "5.5.0", "Protocol synchronization error, closing connection");
/** RFC 4954 §4. */
export const AUTH_OK = reply(235, "2.7.0", "Authentication successful");
export const AUTH_FAILED = reply(535, "5.7.8", "Authentication credentials invalid");
export const AUTH_CANCELLED = reply(501, "5.0.0", "Authentication cancelled");
export const AUTH_MALFORMED = reply(501, "5.5.2", "Cannot decode the authentication response");
export const ALREADY_AUTHENTICATED = reply(503, "5.5.1", "Already authenticated");
export const AUTH_UNAVAILABLE = reply(502, "5.5.1", "Authentication not available on this port");
export const MECHANISM_UNKNOWN = reply(504, "5.5.4", "Unrecognized authentication mechanism");
/** The submitting user does not own the sender address. */
export const SENDER_NOT_OWNED = reply(553, "5.7.1", "Sender address not owned by you");

/** A reply for a closing session (RFC 5321 §3.8). */
export function closing(hostname: string, why: string): Reply {
  return reply(421, "4.3.2", `${hostname} ${why}`);
}

/** The reply for message content that was refused as it streamed in. */
export function replyForProblem(problem: DataProblem): Reply {
  switch (problem) {
    case "too-big":
      return TOO_BIG;
    case "header-too-big":
      return HEADER_TOO_BIG;
    case "line-too-long":
      return DATA_LINE_TOO_LONG;
    case "bare-lf":
    case "bare-cr":
      return BARE_LINE_ENDING;
  }
}
