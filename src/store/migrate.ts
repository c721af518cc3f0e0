/**
 * Schema migrations: numbered SQL files (`0001_initial.sql`, …) applied in order, each once,
 * each in its own transaction together with the row that records it, so a failed migration
 * leaves the database exactly as it was.
 *
 * Each transaction first takes a transaction-scoped advisory lock, then re-reads what is
 * applied: when two nodes start at once, the second waits for the first and then finds nothing
 * left to do. A recorded migration whose file has changed since is an error, not a silent skip.
 *
 * @module
 */

import type { Logger } from "../ops/log.ts";
import { FumiError } from "../util/errors.ts";
import type { Sql } from "./db.ts";

/** One migration file. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  /** SHA-256 of the file, hex. */
  readonly checksum: string;
}

/** Key of the advisory lock (any constant unique to Fumi; this is "fumi" in ASCII). */
const LOCK_KEY = 0x66756d69;
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** The migrations shipped with Fumi (embedded in the compiled binary with `--include`). */
export const MIGRATIONS_DIR = new URL("../../migrations/", import.meta.url);

/** Reads the migration files of a folder, sorted by version. */
export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const match = FILE_NAME.exec(entry.name);
    if (!entry.isFile || !match) continue;
    const sql = await Deno.readTextFile(new URL(entry.name, dir));
    migrations.push({
      version: Number(match[1]),
      name: match[2]!,
      sql,
      checksum: await sha256Hex(sql),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new FumiError(`Two migrations have version ${migrations[i]!.version}`);
    }
  }
  return migrations;
}

/** What {@link migrate} did or, with `dryRun`, would do. */
export interface MigrationReport {
  readonly applied: readonly Migration[];
  readonly pending: readonly Migration[];
}

/** Applies pending migrations (or only lists them with `dryRun`). */
export async function migrate(
  sql: Sql,
  migrations: readonly Migration[],
  options: { dryRun?: boolean; log: Logger },
): Promise<MigrationReport> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`create table if not exists fumi_migrations (
      version integer primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`;
  });
  const pending = await pendingMigrations(sql, migrations);
  if (options.dryRun) return { applied: [], pending };

  const applied: Migration[] = [];
  for (const migration of pending) {
    const done = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${LOCK_KEY})`;
      const [row] = await tx`select 1 from fumi_migrations where version = ${migration.version}`;
      if (row) return false; // another node applied it while we waited for the lock
      await tx.unsafe(migration.sql).simple();
      await tx`insert into fumi_migrations (version, name, checksum)
               values (${migration.version}, ${migration.name}, ${migration.checksum})`;
      return true;
    }).catch((error: unknown) => {
      const why = error instanceof Error ? error.message : String(error);
      throw new FumiError(
        `Migration ${label(migration)} failed and was rolled back: ${why}`,
        { cause: error },
      );
    });
    if (done) {
      options.log.info("applied migration", { migration: label(migration) });
      applied.push(migration);
    }
  }
  return { applied, pending };
}

/** The migrations not yet applied; throws if an applied one was changed or is unknown. */
export async function pendingMigrations(
  sql: Sql,
  migrations: readonly Migration[],
): Promise<Migration[]> {
  const rows = await sql<{ version: number; name: string; checksum: string }[]>`
    select version, name, checksum from fumi_migrations order by version`;
  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const row of rows) {
    const file = known.get(row.version);
    if (!file) {
      throw new FumiError(
        `The database has migration ${row.version} (${row.name}), which this Fumi does not know: it is older than the database; run a newer Fumi`,
      );
    }
    if (file.checksum !== row.checksum) {
      throw new FumiError(`Migration ${label(file)} was changed after it was applied`);
    }
  }
  const done = new Set(rows.map((r) => r.version));
  return migrations.filter((m) => !done.has(m.version));
}

/** `0001_initial`. */
export function label(migration: Migration): string {
  return `${String(migration.version).padStart(4, "0")}_${migration.name}`;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
