/**
 * Splitting a byte stream into UTF-8 lines, each bounded.
 *
 * @module
 */

import { FumiError } from "../../util/errors.ts";

/** Longest line accepted (a row holding the largest message, hex-encoded, fits well). */
export const MAX_LINE_OCTETS = 256 * 1024 * 1024;

/** The lines of `bytes` without their "\n"; a last line without one is returned too. */
export async function* splitLines(
  bytes: ReadableStream<Uint8Array>,
  maxLine = MAX_LINE_OCTETS,
): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let parts: Uint8Array[] = [];
  let partsLength = 0;
  const take = (tail: Uint8Array): string => {
    const line = new Uint8Array(partsLength + tail.length);
    let at = 0;
    for (const part of parts) {
      line.set(part, at);
      at += part.length;
    }
    line.set(tail, at);
    parts = [];
    partsLength = 0;
    return decoder.decode(line);
  };
  for await (const chunk of bytes) {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) break;
      if (partsLength + newline - start > maxLine) throw new FumiError("A line is too long");
      yield take(chunk.subarray(start, newline));
      start = newline + 1;
    }
    if (start < chunk.length) {
      parts.push(chunk.slice(start));
      partsLength += chunk.length - start;
      if (partsLength > maxLine) throw new FumiError("A line is too long");
    }
  }
  if (partsLength > 0) yield take(new Uint8Array(0));
}
