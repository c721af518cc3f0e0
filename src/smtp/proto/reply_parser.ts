/**
 * Reading SMTP replies as a client (RFC 5321 §4.2): lines in, whole replies out. Pure: the
 * outbound client feeds it the lines its connection reads.
 *
 * Invariants:
 * - A reply is `code-text` lines ended by one `code text` (or a bare `code`) line with the same
 *   code (RFC 5321 §4.2.1); anything else is a {@link MalformedReplyError}, never a guess.
 * - The enhanced status code (RFC 3463, RFC 2034 §3) is taken from the first line's text when
 *   its class matches the reply's first digit; a server without ENHANCEDSTATUSCODES has none.
 * - A reply is bounded in lines ({@link MAX_REPLY_LINES}); the caller bounds each line's length.
 *
 * @module
 */

import type { Reply } from "./reply.ts";

/** Lines one reply may have: EHLO lists a few dozen extensions at most. */
export const MAX_REPLY_LINES = 100;

const LINE = /^([2-5][0-9][0-9])(?:([ -])(.*))?$/s;
const ENHANCED = /^([245])\.([0-9]{1,3})\.([0-9]{1,3})(?: +|$)/;

/** A line that is not part of a well-formed reply. */
export class MalformedReplyError extends Error {
  constructor(readonly line: string, why: string) {
    super(`Malformed SMTP reply (${why}): ${JSON.stringify(line.slice(0, 80))}`);
    this.name = "MalformedReplyError";
  }
}

/**
 * Collects the lines of one reply at a time.
 *
 * @example
 * ```ts
 * const replies = new ReplyAssembler();
 * replies.push("250-mx.example.net"); // null: more lines follow
 * replies.push("250 2.0.0 OK"); // { code: 250, enhanced: null, lines: ["mx.example.net", "2.0.0 OK"] }
 * ```
 */
export class ReplyAssembler {
  #code: number | null = null;
  #lines: string[] = [];

  /** Adds a line (without CRLF); returns the reply it completes, or null. */
  push(line: string): Reply | null {
    const match = LINE.exec(line);
    if (!match) throw new MalformedReplyError(line, "no reply code");
    const code = Number(match[1]);
    if (this.#code !== null && code !== this.#code) {
      throw new MalformedReplyError(line, `code ${code} inside a ${this.#code} reply`);
    }
    this.#code = code;
    this.#lines.push(match[3] ?? "");
    if (this.#lines.length > MAX_REPLY_LINES) {
      throw new MalformedReplyError(line, `more than ${MAX_REPLY_LINES} lines`);
    }
    if (match[2] === "-") return null;
    const lines = this.#lines;
    this.#code = null;
    this.#lines = [];
    return withEnhancedCode(code, lines);
  }
}

/** The reply with its enhanced code split from the text of each line, if it has one. */
function withEnhancedCode(code: number, lines: string[]): Reply {
  const first = ENHANCED.exec(lines[0]!);
  if (!first || Number(first[1]) !== Math.floor(code / 100)) {
    return { code, enhanced: null, lines };
  }
  const enhanced = `${first[1]}.${Number(first[2])}.${Number(first[3])}`;
  // RFC 2034 §3: every line of the reply carries the code; drop it wherever it is repeated.
  const text = lines.map((l) => l.startsWith(first[0].trimEnd()) ? l.replace(ENHANCED, "") : l);
  return { code, enhanced, lines: text };
}

/** A reply's text on one line, for logs and DSNs. */
export function replyText(reply: Reply): string {
  const code = reply.enhanced === null ? `${reply.code}` : `${reply.code} ${reply.enhanced}`;
  const text = reply.lines.join(" ").trim();
  return text === "" ? code : `${code} ${text}`;
}
