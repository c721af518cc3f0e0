/**
 * `fumi restore FILE [--write-config PATH]`: a backup into an empty data directory (embedded
 * database) or an empty PostgreSQL database (FUMI_DATABASE_URL). Everything is verified and
 * loaded in one transaction (src/store/backup/restore.ts); migrations newer than the backup's
 * schema run afterwards, as at any start.
 *
 * The master key comes from where Fumi always finds it (FUMI_MASTER_KEY, the systemd
 * credential, master.key) and must be the backup's; without one, a backup made with
 * `--include-key` supplies it, opened with the passphrase, and it is written to the data
 * directory's master.key.
 *
 * @module
 */

import { loadMigrations, masterKeyPath, migrate, writeKeyFile } from "../../store/mod.ts";
import { openDatabase } from "../../store/db.ts";
import { masterKeyText, restoreBackup } from "../../store/backup/mod.ts";
import { ConflictError } from "../../util/errors.ts";
import { expectPositional, parseArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { commandLogger, configFor } from "../context.ts";
import { backupPassphrase } from "./_passphrase.ts";
import { progressPrinter } from "./_progress.ts";

/** `fumi restore`. */
export const restoreCommand: Command = {
  name: "restore",
  usage: "fumi restore FILE [--write-config PATH]",
  summary:
    "Restore a backup into an empty data directory or database (--write-config writes the backed-up config file).",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config", "write-config"] });
    const [file] = expectPositional(args, ["FILE"], restoreCommand.usage);
    const absolute = (p: string) => p.startsWith("/") ? p : `${io.cwd}/${p}`;
    const writeConfig = args.strings.get("write-config");
    if (writeConfig !== undefined && await exists(absolute(writeConfig))) {
      throw new ConflictError(`${writeConfig} exists already; it is not overwritten`);
    }
    const config = await configFor(io, args);
    const log = commandLogger(io);
    const keyText = await masterKeyText(io.env, config.dataDir);
    const database = await openDatabase({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: 2,
      log,
    });
    let input: Deno.FsFile | null = null;
    try {
      input = await Deno.open(absolute(file!), { read: true });
      const migrations = await loadMigrations();
      const show = progressPrinter(io, "restoring");
      const result = await restoreBackup({
        sql: database.sql,
        file: input.readable,
        keyText,
        passphrase: () => backupPassphrase(io, false),
        migrations,
        onProgress: (p) => show(p.table, p.rows, p.octets),
      });
      const later = await migrate(database.sql, migrations, { log });
      const version = result.dump.migrations.at(-1)?.version ?? 0;
      io.out(
        `Restored ${result.tables} tables, ${result.rows} rows from ${file} (made ${result.header.createdAt}, schema ${version}${
          later.applied.length ? `, migrated to ${migrations.at(-1)!.version}` : ""
        }).`,
      );
      if (result.keyFromBackup !== null) {
        const keys = result.keyFromBackup.split(/[,\r\n]+/).map((k) => k.trim()).filter((k) =>
          k !== ""
        );
        const path = masterKeyPath(config.dataDir);
        await Deno.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
        await writeKeyFile(path, keys, { createNew: true });
        io.out(`The master key from the backup is in ${path}; keep a copy apart from the data.`);
      }
      if (result.dump.config !== null) {
        if (writeConfig !== undefined) {
          await Deno.writeTextFile(absolute(writeConfig), result.dump.config.text, {
            createNew: true,
            mode: 0o600,
          });
          io.out(`The configuration (was ${result.dump.config.path}) is in ${writeConfig}.`);
        } else {
          io.out(
            `The backup holds the configuration file ${result.dump.config.path}; --write-config PATH writes it.`,
          );
        }
      }
    } finally {
      try {
        input?.close(); // normally closed already by reading to the end
      } catch {
        // closed
      }
      await database.close();
    }
  },
};

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
