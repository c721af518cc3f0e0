/**
 * Restoring a backup into an empty database: the header is read, the chunk key derived from
 * the target's master key (or from the ring the backup carries, opened with its passphrase),
 * and the whole dump loaded in one transaction that commits only after the final chunk is
 * authenticated and the master key has opened the restored database's check values.
 *
 * @module
 */

import { parseMasterKeyRing, verifyCheckValue } from "../../crypto/master_key.ts";
import { FumiError } from "../../util/errors.ts";
import type { Sql } from "../db.ts";
import type { Migration } from "../migrate.ts";
import { formatKeyId, MasterKeyError } from "../vault.ts";
import { setTextFormats } from "./catalog.ts";
import {
  BackupFormatError,
  type BackupHeader,
  BackupReader,
  deriveChunkKey,
  headerKekId,
  headerSalt,
} from "./container.ts";
import type { DumpHeader, TableProgress } from "./dump.ts";
import { unwrapKeyRing } from "./key_wrap.ts";
import { rawMasterKeys } from "./key_text.ts";
import { splitLines } from "./lines.ts";
import { checkEmpty, createSchema, loadLines, parseDumpHeader } from "./load.ts";

/** What {@link restoreBackup} needs. */
export interface RestoreOptions {
  readonly sql: Sql;
  readonly file: ReadableStream<Uint8Array>;
  /** The target's master key ring as text, or null when it has none. */
  readonly keyText: string | null;
  /** Asked only when the target has no master key and the backup carries one. */
  readonly passphrase: () => Promise<string>;
  /** The migrations this Fumi ships. */
  readonly migrations: readonly Migration[];
  readonly onProgress?: (progress: TableProgress) => void;
}

/** What a restore did. */
export interface RestoreResult {
  readonly header: BackupHeader;
  readonly dump: DumpHeader;
  /** The key ring taken from the backup (the target had none), to be installed; else null. */
  readonly keyFromBackup: string | null;
  readonly tables: number;
  readonly rows: number;
}

/** Restores a backup file into the empty database behind `sql`. */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const reader = new BackupReader(options.file);
  try {
    const { header, preambleDigest } = await reader.header();
    const kekId = headerKekId(header);
    let keyText = options.keyText;
    let keyFromBackup: string | null = null;
    if (keyText === null) {
      if (header.key === null) {
        throw new MasterKeyError(
          `The backup does not include its master key (${header.kekId}) and none was found: set FUMI_MASTER_KEY or put the key in the data directory's master.key, or use a backup made with --include-key`,
        );
      }
      keyText = await unwrapKeyRing(header.key, await options.passphrase(), headerSalt(header));
      keyFromBackup = keyText;
    }
    const raw = (await rawMasterKeys(keyText)).find((k) => k.id === kekId);
    if (!raw) {
      const have = (await rawMasterKeys(keyText)).map((k) => formatKeyId(k.id)).join(", ");
      throw new MasterKeyError(
        `The master key does not match the backup: it was made with key ${header.kekId}, but the key source holds ${have}`,
      );
    }
    const ring = await parseMasterKeyRing(keyText, "the master key");
    const key = await deriveChunkKey(raw.raw, headerSalt(header));
    await checkEmpty(options.sql);

    const plaintext = reader.plaintext(header, preambleDigest, key)
      .pipeThrough(
        new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
      );
    const lines = splitLines(plaintext);
    let tables = 0;
    let rows = 0;
    const progress = (p: TableProgress) => {
      if (p.done) {
        tables++;
        rows += p.rows;
      }
      options.onProgress?.(p);
    };
    const dump = await options.sql.begin(async (tx) => {
      await setTextFormats(tx);
      const first = await lines.next();
      if (first.done) throw new BackupFormatError("The backup is empty");
      const dump = parseDumpHeader(first.value, options.migrations);
      await createSchema(tx, dump, options.migrations);
      await loadLines(tx, lines, progress);
      // Reading on to the end authenticates the final chunk and finds any byte after it.
      const rest = await lines.next();
      if (!rest.done) throw new BackupFormatError("The backup has data after its end");
      const checks = await tx<{ kek_id: number; check_value: Uint8Array }[]>`
        select kek_id, check_value from master_keys where state <> 'retired'`;
      for (const check of checks) {
        const master = ring.byId(check.kek_id);
        if (!master || !(await verifyCheckValue(master, check.check_value))) {
          throw new MasterKeyError(
            `The restored database needs master key ${
              formatKeyId(check.kek_id)
            }, which the key source does not hold`,
          );
        }
      }
      return dump;
    }).catch((error: unknown) => {
      if (error instanceof FumiError) throw error;
      // DecompressionStream reports a damaged stream as a TypeError.
      if (error instanceof TypeError) {
        throw new BackupFormatError(`The backup's contents are damaged: ${error.message}`);
      }
      throw error;
    });
    return { header, dump, keyFromBackup, tables, rows };
  } finally {
    await reader.close();
  }
}
