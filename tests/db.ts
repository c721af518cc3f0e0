/**
 * Databases for tests. Each test gets a fresh, migrated database of its own:
 *
 * - by default an in-memory PGlite, served over a unix socket in a temporary folder exactly as
 *   in production, cloned from a template migrated once per test process (a cold PGlite takes
 *   about five seconds, a clone well under one);
 * - with `FUMI_TEST_DATABASE_URL` (a PostgreSQL server URL), a new database created from a
 *   migrated template database, dropped afterwards.
 *
 * @module
 */

import { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { silentLogger } from "../src/ops/log.ts";
import { connect, type Sql } from "../src/store/db.ts";
import { loadMigrations, migrate } from "../src/store/migrate.ts";
import { servePglite } from "../src/store/pglite_server.ts";

/** A database for one test. */
export interface TestDatabase {
  readonly sql: Sql;
  readonly kind: "embedded" | "postgres";
  /** For the real server: the database's URL (other processes can connect to it). */
  readonly url: string | null;
  /** Opens another pool on the same database (another "node"). */
  connectAgain(): Sql;
  close(): Promise<void>;
}

const serverUrl = Deno.env.get("FUMI_TEST_DATABASE_URL") || null;
let template: Promise<Blob | string> | null = null;
let counter = 0;

/** Runs `fn` with a fresh migrated database and closes it afterwards. */
export async function withDatabase(fn: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await openTestDatabase();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

/** Opens a fresh migrated database; the caller closes it. */
export function openTestDatabase(): Promise<TestDatabase> {
  return serverUrl === null ? openPglite() : openPostgres(serverUrl);
}

/** Opens a fresh migrated embedded database whatever FUMI_TEST_DATABASE_URL says. */
export async function openPglite(): Promise<TestDatabase> {
  template ??= (async () => {
    const db = await PGlite.create();
    const { sql, stop } = await serve(db);
    await migrate(sql, await loadMigrations(), { log: silentLogger });
    await sql.end();
    await stop();
    const dump = await db.dumpDataDir("none");
    await db.close();
    return dump;
  })();
  const dump = await template as Blob;
  const db = await PGlite.create({ loadDataDir: dump });
  const { sql, stop, socketDir } = await serve(db);
  const pools: Sql[] = [sql];
  return {
    sql,
    kind: "embedded",
    url: null,
    connectAgain: () => {
      const more = connect({ socketDir, max: 2 });
      pools.push(more);
      return more;
    },
    close: async () => {
      await Promise.all(pools.map((p) => p.end({ timeout: 1 })));
      await stop();
      await db.close();
    },
  };
}

async function serve(db: PGlite) {
  const socketDir = await Deno.makeTempDir({ prefix: "fumi-test-pg-" });
  const server = servePglite(db, `${socketDir}/.s.PGSQL.5432`);
  const sql = connect({ socketDir, max: 4 });
  return {
    sql,
    socketDir,
    stop: async () => {
      await server.close();
      await Deno.remove(socketDir, { recursive: true });
    },
  };
}

async function openPostgres(url: string): Promise<TestDatabase> {
  const tag = `${Deno.pid}_${Date.now().toString(36)}`;
  template ??= postgresTemplate(url, tag);
  const templateName = await template as string;
  const name = `fumi_t_${tag}_${++counter}`;
  await admin(url, (sql) => sql.unsafe(`create database ${name} template ${templateName}`));
  const dbUrl = withDatabaseName(url, name);
  const sql = connect({ url: dbUrl, max: 4 });
  const pools: Sql[] = [sql];
  return {
    sql,
    kind: "postgres",
    url: dbUrl,
    connectAgain: () => {
      const more = connect({ url: dbUrl, max: 2 });
      pools.push(more);
      return more;
    },
    close: async () => {
      await Promise.all(pools.map((p) => p.end({ timeout: 1 })));
      await admin(url, (s) => s.unsafe(`drop database if exists ${name} with (force)`));
    },
  };
}

async function admin(url: string, fn: (sql: postgres.Sql) => Promise<unknown>): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await fn(sql);
  } finally {
    await sql.end();
  }
}

/**
 * The migrated template database for the current migrations, named after their checksums and
 * shared by every test run (built once, under an advisory lock, so runs side by side agree).
 * Templates of other schema versions are dropped when more than a day old.
 */
async function postgresTemplate(url: string, tag: string): Promise<string> {
  const migrations = await loadMigrations();
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(migrations.map((m) => m.checksum).join(",")),
  );
  const hash = Array.from(
    new Uint8Array(digest).slice(0, 6),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
  const name = `fumi_tmpl_${hash}`;
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${0x66756d74})`;
    const [exists] = await conn`select 1 from pg_database where datname = ${name}`;
    if (!exists) {
      // Built under another name and renamed when complete: no run clones a half-built one.
      const building = `fumi_tbuild_${tag}`;
      await conn.unsafe(`create database ${building}`);
      const target = connect({ url: withDatabaseName(url, building), max: 1 });
      await migrate(target, migrations, { log: silentLogger });
      await target.end();
      await conn.unsafe(`alter database ${building} rename to ${name}`);
      await conn.unsafe(`comment on database ${name} is '${Date.now()}'`);
    }
    // Templates of other schema versions may belong to a test run going on beside this one:
    // only those older than a day are dropped (their creation time is in their comment).
    const stale = await conn<{ datname: string; created: string | null }[]>`
      select datname, shobj_description(oid, 'pg_database') as created from pg_database
      where datname like 'fumi_tmpl_%' and datname <> ${name}`;
    const dayAgo = Date.now() - 24 * 3600 * 1000;
    for (const { datname, created } of stale) {
      if (Number(created ?? 0) > dayAgo) continue;
      await conn.unsafe(`drop database if exists ${datname}`).catch(() => {}); // in use: next time
    }
    await conn`select pg_advisory_unlock(${0x66756d74})`;
  } finally {
    conn.release();
    await sql.end();
  }
  await dropLeftovers(url);
  return name;
}

/**
 * Drops databases that earlier test runs left behind (a run that was killed cannot drop its
 * own). Names carry their creation time; only those older than a day are dropped, so a test run
 * going on beside this one keeps its databases.
 */
async function dropLeftovers(url: string): Promise<void> {
  const names: string[] = [];
  await admin(url, async (sql) => {
    const rows = await sql<{ datname: string }[]>`
      select datname from pg_database where datname ~ '^fumi_(t|tbuild)_[0-9]+_[0-9a-z]+'`;
    names.push(...rows.map((r) => r.datname));
  });
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const name of names) {
    const created = parseInt(name.split("_")[3] ?? "", 36);
    if (!Number.isFinite(created) || created > dayAgo) continue;
    await admin(url, (sql) => sql.unsafe(`drop database if exists ${name} with (force)`));
  }
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}
