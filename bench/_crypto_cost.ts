/**
 * The CPU cost of what a delivery and a read do besides talking to the database, measured
 * alone with the store's own primitives and the same sizes:
 *
 * - sealing: per delivery, the raw message, the envelope JSON and the structure JSON sealed
 *   with AES-256-GCM (src/crypto/envelope.ts), three at a time as `Messages.deliver` does;
 * - opening: per read, the raw message opened, as `Messages.read` does;
 * - parsing: per delivery, the MIME description (`describe`) that is then sealed.
 *
 * Each is run sequentially `iterations` times after a warm-up, and reported per operation, so
 * the caller can relate it to the wall time of a store run.
 *
 * @module
 */

import { importAesKey, open, type Placement, seal } from "../src/crypto/envelope.ts";
import { describe } from "../src/store/messages.ts";

/** Milliseconds per operation, and the sizes measured. */
export interface CryptoCost {
  readonly iterations: number;
  readonly sizes: { readonly raw: number; readonly envelope: number; readonly structure: number };
  /** Sealing the three columns of one delivery. */
  readonly sealMs: number;
  /** Opening the raw column of one read. */
  readonly openMs: number;
  /** Describing (parsing) one message at delivery. */
  readonly parseMs: number;
}

const WARM_UP = 200;
const KEY_ID = 1;
const encoder = new TextEncoder();

/** Measures seal, open and parse costs on `sample` (whose index is its row id). */
export async function measureCryptoCost(
  sample: (index: number) => Uint8Array,
  iterations: number,
): Promise<CryptoCost> {
  const key = await importAesKey(crypto.getRandomValues(new Uint8Array(32)));
  // Plaintexts prepared beforehand, so only the cryptography is timed.
  const inputs = Array.from({ length: Math.min(iterations, 100) }, (_, i) => {
    const raw = sample(i);
    const { envelope, summary, structure } = describe(raw);
    return {
      raw,
      envelope: encoder.encode(JSON.stringify({ envelope, summary })),
      structure: encoder.encode(JSON.stringify(structure)),
    };
  });
  const input = (i: number) => inputs[i % inputs.length]!;

  const sealOne = (i: number) =>
    Promise.all([
      seal(key, KEY_ID, input(i).raw, placement(i, "raw")),
      seal(key, KEY_ID, input(i).envelope, placement(i, "envelope")),
      seal(key, KEY_ID, input(i).structure, placement(i, "structure")),
    ]);
  const sealed = await Promise.all(
    inputs.map((x, i) => seal(key, KEY_ID, x.raw, placement(i, "raw"))),
  );
  const openOne = (i: number) =>
    open(key, sealed[i % sealed.length]!, placement(i % sealed.length, "raw"));
  const parseOne = (i: number) => Promise.resolve(describe(input(i).raw));

  return {
    iterations,
    sizes: {
      raw: input(0).raw.length,
      envelope: input(0).envelope.length,
      structure: input(0).structure.length,
    },
    sealMs: await timePerOp(sealOne, iterations),
    openMs: await timePerOp(openOne, iterations),
    parseMs: await timePerOp(parseOne, iterations),
  };
}

async function timePerOp(op: (i: number) => Promise<unknown>, n: number): Promise<number> {
  for (let i = 0; i < WARM_UP; i++) await op(i);
  const start = performance.now();
  for (let i = 0; i < n; i++) await op(i);
  return (performance.now() - start) / n;
}

function placement(row: number, column: string): Placement {
  return { table: "messages", column, row };
}
