/**
 * Test support for the DataReceiver tests: feeding the same bytes in different chunkings and
 * summarising the outcome so that outcomes can be compared.
 *
 * @module
 */

import { type DataProblem, DataReceiver, type DataReceiverOptions } from "./data_receiver.ts";

/** What a receiver made of some input. */
export interface Outcome {
  /** Bytes the receiver consumed, over all pushes ("raw" mode: all of them). */
  readonly consumed: number;
  readonly done: boolean;
  readonly problem: DataProblem | null;
  readonly size: number;
  /** The content, one character per octet. */
  readonly content: string;
}

/** One character per octet, so any bytes compare exactly. */
export function octets(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

/** The octets of a string whose characters are all below 256. */
export function toBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

/** Splits `input` at the given offsets (sorted, duplicates and out-of-range ones ignored). */
export function splitAt(input: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const cuts = [...new Set(offsets)].filter((n) => n > 0 && n < input.length).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    chunks.push(input.subarray(from, cut));
    from = cut;
  }
  return chunks;
}

/** Splits `input` into one-octet chunks. */
export function bytewise(input: Uint8Array): Uint8Array[] {
  return Array.from(input, (_, i) => input.subarray(i, i + 1));
}

/** A small deterministic generator (mulberry32), so split tests repeat exactly. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random cut points for `length` octets. */
export function randomCuts(length: number, next: () => number): number[] {
  const count = Math.floor(next() * Math.min(length, 12));
  return Array.from({ length: count }, () => Math.floor(next() * length));
}

/**
 * Feeds `chunks` to a new receiver (then `finish()` in "raw" mode) and summarises the result.
 * Content is taken after every push, to exercise streaming.
 */
export function feed(
  mode: "dot" | "raw",
  options: DataReceiverOptions,
  chunks: readonly Uint8Array[],
): Outcome {
  const receiver = new DataReceiver(mode, options);
  let consumed = 0;
  const content: Uint8Array[] = [];
  for (const chunk of chunks) {
    const n = receiver.push(chunk);
    if (n < 0 || n > chunk.length) throw new Error(`push returned ${n} for ${chunk.length}`);
    consumed += n;
    content.push(...receiver.takeContent());
  }
  if (mode === "raw") receiver.finish();
  content.push(...receiver.takeContent());
  return {
    consumed,
    done: receiver.done,
    problem: receiver.problem,
    size: receiver.size,
    content: receiver.problem === null ? content.map(octets).join("") : "",
  };
}
