/**
 * Reads one whole IMAP command from a connection (RFC 9051 §2.2.1, §4.3): a line, and for each
 * literal it announces the octets and the next line, until a line announces none. Bounded in
 * size (line, each literal, the whole command) and in time.
 *
 * Literals (RFC 9051 §4.3, RFC 7888): a synchronising `{n}` gets `+ Ready for literal data`
 * only when `n` is within the limit; otherwise the command is refused with `[TOOBIG]` and no
 * continuation is ever sent (so before authentication no client can make the server take a
 * large literal). A non-synchronising literal `{n+}` / `{n-}` is taken when the advertised
 * extension allows it (LITERAL+: any size within the limit; LITERAL-: at most 4096 octets);
 * otherwise the refusal is followed by closing the connection, since its octets are coming
 * anyway and would be read as commands (RFC 7888 §4).
 *
 * @module
 */

import type { Connection } from "../../net/connection.ts";
import { isTag, literalAtEnd } from "../proto/mod.ts";

/** RFC 7888 §5: LITERAL- allows non-synchronising literals of at most 4096 octets. */
export const LITERAL_MINUS_MAX = 4096;

/** The bounds of one read. */
export interface ReadLimits {
  readonly maxLineLength: number;
  /** Largest literal (and, with the lines, the largest command: limit + one line). */
  readonly maxLiteral: number;
  readonly extension: "LITERAL+" | "LITERAL-";
  /** Time for the whole command, from the first octet awaited. */
  readonly timeoutMs: number;
}

/** What one read gives. */
export type ReadResult =
  /** A whole command: lines joined by CRLF with the literals inline, final CRLF included. */
  | { readonly kind: "command"; readonly bytes: Uint8Array }
  /** The client left (or sent a partial last line). */
  | { readonly kind: "end" }
  /**
   * A literal was refused: answer `tag BAD [TOOBIG]` (or `* BAD` without a usable tag);
   * `close` when its octets may already be on their way (non-synchronising).
   */
  | {
    readonly kind: "refused";
    readonly tag: string | null;
    readonly close: boolean;
    readonly text: string;
  };

const CRLF = new Uint8Array([0x0d, 0x0a]);

/**
 * Reads a command. `ready` is called before each synchronising literal is awaited: it flushes
 * what the session has queued and writes the continuation request.
 * @throws {LineTooLongError} for a line beyond the limit (consumed up to its LF).
 * @throws {ReadTimeoutError} when the command does not arrive in time.
 */
export async function readCommand(
  connection: Connection,
  limits: ReadLimits,
  ready: () => Promise<void>,
): Promise<ReadResult> {
  const deadline = Date.now() + limits.timeoutMs;
  const parts: Uint8Array[] = [];
  let total = 0;
  const budget = limits.maxLiteral + limits.maxLineLength;
  let tag: string | null = null;
  for (;;) {
    const left = Math.max(1, deadline - Date.now());
    const line = await connection.readLine(limits.maxLineLength, left);
    if (line === null) return { kind: "end" };
    if (tag === null && parts.length === 0) tag = tagOf(line.bytes);
    parts.push(line.bytes, CRLF);
    total += line.bytes.length + 2;
    const literal = literalAtEnd(line.bytes);
    if (literal === null) return { kind: "command", bytes: join(parts, total) };
    const sync = literal.form === "sync";
    const allowedNonSync = limits.extension === "LITERAL+" || literal.size <= LITERAL_MINUS_MAX;
    if (!sync && !allowedNonSync) {
      // RFC 7888 §5: a LITERAL- server answers BAD [TOOBIG] to a larger {n+}.
      return { kind: "refused", tag, close: true, text: "Non-synchronising literal too large" };
    }
    if (literal.size > limits.maxLiteral || total + literal.size > budget) {
      // RFC 7888 §4, RFC 4469 §5: [TOOBIG]; no continuation for a synchronising literal.
      return { kind: "refused", tag, close: !sync, text: "Literal too large" };
    }
    if (sync) await ready();
    const octets = await connection.readExact(literal.size, Math.max(1, deadline - Date.now()));
    if (octets === null) return { kind: "end" };
    parts.push(octets);
    total += octets.length;
  }
}

/** The tag at the start of a line, when it is one (for answering a refused literal). */
function tagOf(line: Uint8Array): string | null {
  const end = line.indexOf(0x20);
  if (end <= 0) return null;
  const tag = String.fromCharCode(...line.subarray(0, Math.min(end, 64)));
  return isTag(tag) ? tag : null;
}

function join(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
