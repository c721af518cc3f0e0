/**
 * `fumi backup FILE [--include-key]`: a consistent, compressed, encrypted snapshot of the whole
 * database (see src/store/backup/mod.ts for the format and its guarantees), with the
 * configuration file, and the SHA-256 of the file printed at the end (as `sha256sum` writes it).
 *
 * The file is written under a temporary name beside FILE (mode 0600) and renamed when complete,
 * so FILE is never a partial backup. An existing FILE is not overwritten.
 *
 * @module
 */

import { parseMasterKeyRing, verifyCheckValue } from "../../crypto/master_key.ts";
import { openDatabase } from "../../store/db.ts";
import { masterKeyText, writeBackup } from "../../store/backup/mod.ts";
import { formatKeyId, MasterKeyError, type Sql } from "../../store/mod.ts";
import { ConflictError, FumiError } from "../../util/errors.ts";
import { expectPositional, parseArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { commandLogger, configFor } from "../context.ts";
import { backupPassphrase } from "./_passphrase.ts";
import { formatOctets, progressPrinter } from "./_progress.ts";

/** `fumi backup`. */
export const backupCommand: Command = {
  name: "backup",
  usage: "fumi backup FILE [--include-key]",
  summary:
    "Write an encrypted, compressed snapshot of the database and config (--include-key adds the master key under a passphrase).",
  run: async (io, argv) => {
    const args = parseArgs(argv, { boolean: ["include-key"], string: ["config"] });
    const [file] = expectPositional(args, ["FILE"], backupCommand.usage);
    const path = file!.startsWith("/") ? file! : `${io.cwd}/${file}`;
    if (await exists(path)) {
      throw new ConflictError(`${file} exists already; choose another name or remove it`);
    }
    const config = await configFor(io, args);
    const keyText = await masterKeyText(io.env, config.dataDir);
    if (keyText === null) {
      throw new MasterKeyError(
        "No master key found (FUMI_MASTER_KEY, the systemd credential, or master.key in the data directory)",
      );
    }
    const passphrase = args.booleans.has("include-key") ? await backupPassphrase(io, true) : null;
    const configFile = config.configFile === null ? null : {
      path: config.configFile,
      text: await Deno.readTextFile(config.configFile),
    };
    const database = await openDatabase({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: 2,
      log: commandLogger(io),
    });
    const temporary = `${path}.partial-${crypto.randomUUID().slice(0, 8)}`;
    try {
      const primaryKeyId = await checkedPrimary(database.sql, keyText);
      const output = await Deno.open(temporary, { write: true, createNew: true, mode: 0o600 });
      const show = progressPrinter(io, "backing up");
      const result = await writeBackup({
        sql: database.sql,
        database: database.kind,
        keyText,
        primaryKeyId,
        passphrase,
        config: configFile,
        output: output.writable,
        onProgress: (p) => show(p.table, p.rows, p.octets),
      });
      const written = await Deno.open(temporary, { read: true, write: true });
      try {
        await written.sync();
      } finally {
        written.close();
      }
      await Deno.rename(temporary, path);
      io.out(
        `Backup written to ${file}: ${result.tables} tables, ${result.rows} rows, ${
          formatOctets(result.octets)
        }${passphrase === null ? "" : ", master key included (wrapped with the passphrase)"}.`,
      );
      io.out(`${result.sha256}  ${file}`);
    } catch (error) {
      await Deno.remove(temporary).catch(() => {});
      throw error;
    } finally {
      await database.close();
    }
  },
};

/** The database's primary master key id, checked against the key source. */
async function checkedPrimary(sql: Sql, keyText: string): Promise<number> {
  const [schema] = await sql`select to_regclass('fumi_migrations') as t`;
  if (!schema?.t) throw new FumiError("The database has no Fumi schema: nothing to back up");
  const ring = await parseMasterKeyRing(keyText, "the master key");
  const [row] = await sql<{ kek_id: number; check_value: Uint8Array }[]>`
    select kek_id, check_value from master_keys where state = 'primary'`;
  if (!row) return ring.primary.id;
  const key = ring.byId(row.kek_id);
  if (!key || !(await verifyCheckValue(key, row.check_value))) {
    throw new MasterKeyError(
      `The master key does not match this database: it needs key ${formatKeyId(row.kek_id)}`,
    );
  }
  return row.kek_id;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
