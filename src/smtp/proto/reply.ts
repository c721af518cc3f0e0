/**
 * SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 3463, RFC 2034): building them
 * and writing them to the wire.
 *
 * Invariants:
 * - {@link reply} refuses a code outside RFC 5321's grammar and an enhanced code whose class is
 *   not the reply's first digit; those are programming errors (a `RangeError`, never shown to a
 *   client).
 * - {@link formatReply} always produces well-formed reply lines: text that came from anywhere
 *   (an address a client sent, an error message) cannot break a line, because every control
 *   character but HT becomes a space, and no line is longer than 512 octets.
 *
 * @module
 */

/** An SMTP reply (RFC 5321 §4.2) with its enhanced status code (RFC 3463, RFC 2034). */
export interface Reply {
  /** The three-digit reply code. */
  readonly code: number;
  /** `class.subject.detail` (RFC 3463 §2), or null (3xx replies, and before EHLO). */
  readonly enhanced: string | null;
  /** The text lines; a multiline reply has several (RFC 5321 §4.2.1). */
  readonly lines: readonly string[];
}

/** RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets, code and CRLF included. */
export const MAX_REPLY_LINE_OCTETS = 512;

// RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39
const REPLY_CODE = /^[2-5][0-5][0-9]$/;
// RFC 3463 §2: class "." subject "." detail; class = "2" / "4" / "5"; subject and detail
// are 1*3digit.
const ENHANCED_CODE = /^([245])\.[0-9]{1,3}\.[0-9]{1,3}$/;

/**
 * Builds a reply.
 *
 * @example
 * ```ts
 * reply(250, "2.1.0", "Sender OK");
 * reply(354, null, "End data with <CR><LF>.<CR><LF>");
 * ```
 * @throws {RangeError} when `code` is not a reply code, or `enhanced` is malformed or its class
 *   is not the first digit of `code` (RFC 3463 §2: 2 success, 4 transient, 5 permanent).
 */
export function reply(code: number, enhanced: string | null, ...lines: string[]): Reply {
  if (!Number.isInteger(code) || !REPLY_CODE.test(String(code))) {
    throw new RangeError(`Invalid SMTP reply code ${code}`);
  }
  if (enhanced !== null) {
    const match = ENHANCED_CODE.exec(enhanced);
    if (match === null || match[1] !== String(code)[0]) {
      throw new RangeError(`Invalid enhanced status code "${enhanced}" for reply code ${code}`);
    }
  }
  return { code, enhanced, lines: [...lines] };
}

const encoder = new TextEncoder();

// RFC 5321 §4.2: textstring = 1*(%d09 / %d32-126); RFC 6531 allows UTF-8 as well, so only
// the control characters (which could end or split a line) are replaced.
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/g;

/** Cuts `text` to at most `limit` UTF-8 octets, at a code point boundary. */
function cutToOctets(text: string, limit: number): string {
  if (text.length <= limit / 3) return text; // even all 3-octet characters fit
  let octets = 0;
  let end = 0;
  for (const ch of text) {
    const size = encoder.encode(ch).length;
    if (octets + size > limit) break;
    octets += size;
    end += ch.length;
  }
  return text.slice(0, end);
}

/**
 * Writes a reply as it goes on the wire: `"250-a\r\n250 b\r\n"`. The enhanced code is repeated
 * on every line (RFC 2034 §3); a reply without lines is written as one line without text.
 *
 * @example
 * ```ts
 * formatReply(reply(250, "2.0.0", "first", "second"));
 * // "250-2.0.0 first\r\n250 2.0.0 second\r\n"
 * ```
 */
export function formatReply(r: Reply): string {
  const texts = r.lines.length === 0 ? [""] : r.lines;
  let out = "";
  texts.forEach((line, index) => {
    // RFC 5321 §4.2.1: every line but the last has "-" after the code, the last a space.
    const separator = index < texts.length - 1 ? "-" : " ";
    const head = `${r.code}${separator}${r.enhanced === null ? "" : `${r.enhanced} `}`;
    const room = MAX_REPLY_LINE_OCTETS - head.length - 2;
    const text = cutToOctets(line.replace(CONTROL, " "), room);
    // RFC 5321 §4.2 makes the space before an empty text optional; RFC 4954 §8 requires it in
    // "334 " (an empty challenge). An enhanced code is text enough: no space after it.
    out += (text === "" && r.enhanced !== null ? head.trimEnd() : head + text) + "\r\n";
  });
  return out;
}

/** True for a positive completion (2xx) or positive intermediate (3xx) reply (RFC 5321 §4.2.1). */
export function isPositive(r: Reply): boolean {
  return r.code >= 200 && r.code < 400;
}
