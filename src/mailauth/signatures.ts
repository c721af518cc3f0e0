/**
 * The DKIM-Signature fields of a message, counted without the header parser's field cap, and
 * a copy of the message with only the first few of them: what the DKIM verifier is given, so
 * that the work one message can ask for is bounded (RFC 6376 §6.1: "Verifiers MAY limit the
 * number of signatures they tries to verify", §8.4 denial of service).
 *
 * Pure and linear in the header block's size.
 *
 * @module
 */

/** Signatures verified per message; the rest are reported as one `dkim=policy`. */
export const MAX_DKIM_SIGNATURES = 10;

const NAME = "dkim-signature";

/** What {@link limitSignatures} found and kept. */
export interface LimitedSignatures {
  /** The message to verify: `message` itself when nothing was left out. */
  readonly message: Uint8Array;
  /** DKIM-Signature fields in the whole header block. */
  readonly total: number;
  /** DKIM-Signature fields left in `message` (at most `max`). */
  readonly kept: number;
}

/**
 * Counts the DKIM-Signature fields of `message` and, when there are more than `max`, returns
 * a copy without those after the `max`th (each with its continuation lines; RFC 5322 §2.2.3).
 * CRLF or bare LF line ends; the body is copied as it is.
 *
 * @example
 * ```ts
 * limitSignatures(raw, 10); // { message: raw, total: 2, kept: 2 }
 * ```
 */
export function limitSignatures(message: Uint8Array, max = MAX_DKIM_SIGNATURES): LimitedSignatures {
  const drop: [number, number][] = [];
  let total = 0;
  let dropping = false;
  let dropStart = 0;
  let pos = 0;
  while (pos < message.length) {
    const lf = message.indexOf(0x0a, pos);
    const next = lf === -1 ? message.length : lf + 1;
    const first = message[pos]!;
    const empty = first === 0x0a || (first === 0x0d && message[pos + 1] === 0x0a);
    if (empty) break; // RFC 5322 §2.1: the empty line ends the header block
    if (first !== 0x20 && first !== 0x09) { // a new field, not a continuation line
      if (dropping) drop.push([dropStart, pos]);
      dropping = false;
      if (isSignature(message, pos, next)) {
        total++;
        if (total > max) {
          dropping = true;
          dropStart = pos;
        }
      }
    }
    pos = next;
  }
  if (dropping) drop.push([dropStart, pos]);
  if (drop.length === 0) return { message, total, kept: total };
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const [start, end] of drop) {
    parts.push(message.subarray(from, start));
    from = end;
  }
  parts.push(message.subarray(from));
  const copy = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    copy.set(part, at);
    at += part.length;
  }
  return { message: copy, total, kept: max };
}

/** True when the line at `start` begins a DKIM-Signature field (name, optional WSP, ":"). */
function isSignature(message: Uint8Array, start: number, end: number): boolean {
  if (end - start <= NAME.length) return false;
  for (let i = 0; i < NAME.length; i++) {
    const c = message[start + i]!;
    // ASCII case folding: "A".."Z" to "a".."z".
    const lower = c >= 0x41 && c <= 0x5a ? c + 0x20 : c;
    if (lower !== NAME.charCodeAt(i)) return false;
  }
  let i = start + NAME.length;
  while (i < end && (message[i] === 0x20 || message[i] === 0x09)) i++;
  return message[i] === 0x3a;
}
