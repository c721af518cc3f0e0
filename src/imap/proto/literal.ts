/**
 * Whether a received line announces a literal (RFC 9051 §4.3, RFC 7888): the session's line
 * reader asks after each line, then answers `+ ` (or refuses with `[TOOBIG]`), reads the
 * announced octets and the next line, and hands the whole command to `parseCommand`.
 *
 * @module
 */

/** A literal announced at the end of a line. */
export interface LiteralAnnouncement {
  /**
   * Octets announced: 0 to 2^32-1, or `Infinity` for a longer number of digits, so that a
   * size check (`size > limit`) refuses it like any other over-large literal.
   */
  readonly size: number;
  /**
   * `sync`: `{n}`, the client waits for a continuation request. `plus`: `{n+}` (LITERAL+),
   * `minus`: `{n-}` (LITERAL-, at most 4096 octets, RFC 7888 §5): the octets follow at once;
   * whether that is allowed, and what to do with a refused one, is the session's decision
   * (RFC 7888 §4: BAD and, as the octets are coming anyway, read and drop them or close).
   */
  readonly form: "sync" | "plus" | "minus";
}

const RBRACE = 0x7d;
const LBRACE = 0x7b;
const PLUS = 0x2b;
const MINUS = 0x2d;
const MAX_SIZE = 0xffff_ffff;

/**
 * Whether `line` (without its CRLF) ends with a literal announcement `{n}`, `{n+}` or `{n-}`
 * (also as the tail of `~{n}`, RFC 3516's literal8). Only the end of the line is looked at, as
 * every server does: a `{5}` that ends an unclosed quoted string counts too, and the parser
 * then refuses the command once the literal has been read. O(number of digits).
 *
 * @example
 * ```ts
 * literalAtEnd(new TextEncoder().encode("A1 LOGIN {5}")); // { size: 5, form: "sync" }
 * literalAtEnd(new TextEncoder().encode("A2 APPEND x {310+}")); // { size: 310, form: "plus" }
 * literalAtEnd(new TextEncoder().encode("A3 NOOP")); // null
 * ```
 */
export function literalAtEnd(line: Uint8Array): LiteralAnnouncement | null {
  let i = line.length - 1;
  if (line[i] !== RBRACE) return null;
  i--;
  let form: LiteralAnnouncement["form"] = "sync";
  // RFC 7888 §8: literal = "{" number64 ["+"] "}" CRLF ... (LITERAL-: the same syntax)
  if (line[i] === PLUS) form = "plus";
  else if (line[i] === MINUS) form = "minus";
  if (form !== "sync") i--;
  const last = i;
  while (i >= 0 && line[i]! >= 0x30 && line[i]! <= 0x39) i--;
  if (i === last || line[i] !== LBRACE) return null;
  let first = i + 1;
  while (first < last && line[first] === 0x30) first++; // leading zeros: {007} is 7
  if (last - first + 1 > 10) return { size: Infinity, form };
  let size = 0;
  for (let p = first; p <= last; p++) size = size * 10 + (line[p]! - 0x30);
  return { size: size > MAX_SIZE ? Infinity : size, form };
}
