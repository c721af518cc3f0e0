/**
 * Writing a backup: the dump (dump.ts) of one snapshot, gzip-compressed, sealed in chunks
 * (container.ts), hashed with SHA-256 as it is written. Every stage is a stream with
 * backpressure, so memory stays bounded by a batch of rows and a chunk.
 *
 * @module
 */

import { createSHA256 } from "hash-wasm";
import { FumiError } from "../../util/errors.ts";
import type { Sql } from "../db.ts";
import { setTextFormats } from "./catalog.ts";
import { deriveChunkKey, headerSalt, newHeader, sealStream } from "./container.ts";
import { type DumpHeader, dumpLines, type TableProgress } from "./dump.ts";
import { wrapKeyRing } from "./key_wrap.ts";
import { rawMasterKeys } from "./key_text.ts";

/** What {@link writeBackup} needs. */
export interface BackupOptions {
  readonly sql: Sql;
  readonly database: DumpHeader["database"];
  /** The master key ring's text (primary first). */
  readonly keyText: string;
  /** The primary master key's id: the chunk key is derived from it. */
  readonly primaryKeyId: number;
  /** With a passphrase, the ring is stored in the file, wrapped (`--include-key`). */
  readonly passphrase: string | null;
  readonly config: DumpHeader["config"];
  /** Where the file goes; closed at the end. */
  readonly output: WritableStream<Uint8Array>;
  readonly onProgress?: (progress: TableProgress) => void;
}

/** What a finished backup reports. */
export interface BackupResult {
  /** SHA-256 of the whole file, hex. */
  readonly sha256: string;
  readonly octets: number;
  readonly tables: number;
  readonly rows: number;
}

/** Writes a backup of the whole database. */
export async function writeBackup(options: BackupOptions): Promise<BackupResult> {
  const primary = (await rawMasterKeys(options.keyText)).find((k) => k.id === options.primaryKeyId);
  if (!primary) throw new FumiError("The primary master key is not in the key source");
  let header = newHeader(primary.id, null);
  if (options.passphrase !== null) {
    header = {
      ...header,
      key: await wrapKeyRing(options.keyText, options.passphrase, headerSalt(header)),
    };
  }
  const key = await deriveChunkKey(primary.raw, headerSalt(header));
  const hasher = await createSHA256();
  hasher.init();
  let octets = 0;
  let tables = 0;
  let rows = 0;
  const progress = (p: TableProgress) => {
    if (p.done) {
      tables++;
      rows += p.rows;
    }
    options.onProgress?.(p);
  };
  await options.sql.begin("isolation level repeatable read read only", async (tx) => {
    await setTextFormats(tx);
    const { config, database } = options;
    const lines = dumpLines(tx, { createdAt: header.createdAt, database, config }, progress);
    await ReadableStream.from(lines)
      .pipeThrough(new TextEncoderStream())
      .pipeThrough(new CompressionStream("gzip"))
      .pipeThrough(sealStream(header, key))
      .pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform: (chunk, controller) => {
            hasher.update(chunk);
            octets += chunk.length;
            controller.enqueue(chunk);
          },
        }),
      )
      .pipeTo(options.output);
  });
  return { sha256: hasher.digest("hex"), octets, tables, rows };
}
