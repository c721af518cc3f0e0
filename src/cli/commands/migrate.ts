/**
 * `fumi migrate [--dry-run]`: bring the database schema up to date (serve does this at start).
 *
 * @module
 */

import { openDatabase } from "../../store/db.ts";
import { loadMigrations, migrate, migrationLabel } from "../../store/mod.ts";
import { expectPositional, parseArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { commandLogger, configFor } from "../context.ts";

/** `fumi migrate`. */
export const migrateCommand: Command = {
  name: "migrate",
  usage: "fumi migrate [--dry-run]",
  summary: "Apply pending database migrations (--dry-run lists them).",
  run: async (io, argv) => {
    const args = parseArgs(argv, { boolean: ["dry-run"], string: ["config"] });
    expectPositional(args, [], migrateCommand.usage);
    const config = await configFor(io, args);
    const log = commandLogger(io);
    const database = await openDatabase({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      poolSize: 2,
      log,
    });
    try {
      const dryRun = args.booleans.has("dry-run");
      const report = await migrate(database.sql, await loadMigrations(), { dryRun, log });
      const list = dryRun ? report.pending : report.applied;
      if (list.length === 0) io.out("The database is up to date.");
      for (const m of list) io.out(`${dryRun ? "would apply" : "applied"} ${migrationLabel(m)}`);
    } finally {
      await database.close();
    }
  },
};
