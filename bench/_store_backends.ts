/**
 * The stores a benchmark runs against, each opened the way `fumi serve` opens its own: a
 * configuration from `loadConfig` and `openStore` with a fresh master key in the environment.
 *
 * - embedded: PGlite on disk in a new temporary data directory, removed afterwards;
 * - postgres: a new database `fumi_bench_<pid>` on a PostgreSQL server, dropped afterwards.
 *   Databases left by earlier runs that were interrupted are dropped first.
 *
 * @module
 */

import { type Config, loadConfig } from "../src/config/mod.ts";
import { generateMasterKey } from "../src/crypto/master_key.ts";
import type { Logger } from "../src/ops/log.ts";
import { connect, type Sql } from "../src/store/db.ts";
import { openStore, type Store } from "../src/store/mod.ts";

/** An open store and how to dispose of it. */
export interface Backend {
  readonly name: string;
  /** Where it runs, for the report (no password). */
  readonly where: string;
  readonly store: Store;
  /** Time to open it: start the database, migrate, check the key. */
  readonly openSeconds: number;
  close(): Promise<void>;
}

/** The server tried when FUMI_BENCH_DATABASE_URL is not set. */
export const DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const REACH_TIMEOUT_MS = 5_000;

/** Opens a fresh embedded store in a temporary data directory. */
export async function openEmbeddedBackend(log: Logger): Promise<Backend> {
  const dataDir = await Deno.makeTempDir({ prefix: "fumi-bench-" });
  try {
    const start = performance.now();
    const store = await openStore(await benchConfig(dataDir, null), masterKeyEnv(), log);
    return {
      name: "embedded",
      where: `PGlite in ${dataDir}`,
      store,
      openSeconds: (performance.now() - start) / 1000,
      close: async () => {
        await store.close();
        await Deno.remove(dataDir, { recursive: true });
      },
    };
  } catch (error) {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    throw error;
  }
}

/**
 * Opens a store in a new database on the server at `serverUrl`; a string saying why when the
 * server cannot be reached.
 */
export async function openPostgresBackend(
  serverUrl: string,
  log: Logger,
): Promise<Backend | string> {
  const database = await freshDatabase(serverUrl);
  if (typeof database === "string") return database;
  const dataDir = await Deno.makeTempDir({ prefix: "fumi-bench-" });
  const drop = async () => {
    await database.drop();
    await Deno.remove(dataDir, { recursive: true });
  };
  try {
    const start = performance.now();
    const store = await openStore(await benchConfig(dataDir, database.url), masterKeyEnv(), log);
    const version = await store.sql<{ v: string }[]>`select current_setting('server_version') as v`;
    return {
      name: "postgres",
      where: `PostgreSQL ${version[0]?.v ?? "?"}, ${database.where}`,
      store,
      openSeconds: (performance.now() - start) / 1000,
      close: async () => {
        await store.close();
        await drop();
      },
    };
  } catch (error) {
    await drop().catch(() => {});
    throw error;
  }
}

/** A new, empty database for one run. */
export interface FreshDatabase {
  /** Its URL. */
  readonly url: string;
  /** Its name and server, for the report (no password). */
  readonly where: string;
  /** Drops it, even while a client is still connected. */
  drop(): Promise<void>;
}

/**
 * Creates the database `fumi_bench_<pid>` on the server at `serverUrl`, first dropping those
 * left by earlier runs that were interrupted; a string saying why when the server cannot be
 * reached.
 */
export async function freshDatabase(serverUrl: string): Promise<FreshDatabase | string> {
  const admin = connect({ url: serverUrl, max: 1 });
  const reached = await reach(admin);
  if (reached !== null) {
    await admin.end({ timeout: 0 });
    return `cannot reach ${redact(serverUrl)}: ${reached}`;
  }
  const name = `fumi_bench_${Deno.pid}`;
  const drop = async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end({ timeout: 5 });
  };
  try {
    await dropLeftovers(admin, name);
    await admin.unsafe(`create database ${name}`);
  } catch (error) {
    await drop().catch(() => {});
    throw error;
  }
  return {
    url: withDatabase(serverUrl, name),
    where: `database ${name} at ${redact(serverUrl)}`,
    drop,
  };
}

/** The configuration `fumi serve` would load with only these variables set. */
function benchConfig(dataDir: string, databaseUrl: string | null): Promise<Config> {
  const env: Record<string, string> = { FUMI_DATA_DIR: dataDir };
  if (databaseUrl !== null) env.FUMI_DATABASE_URL = databaseUrl;
  return loadConfig({
    dev: false,
    env,
    cwd: Deno.cwd(),
    readTextFile: Deno.readTextFile,
    systemHostname: () => "localhost",
    requireHostname: false,
  });
}

function masterKeyEnv(): Record<string, string> {
  return { FUMI_MASTER_KEY: generateMasterKey() };
}

/** Null when the server answers, else why not. */
async function reach(sql: Sql): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`no answer in ${REACH_TIMEOUT_MS / 1000} s`),
      REACH_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([
      sql`select 1`.then(() => null, (error: unknown) => describeError(error)),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Drops the databases of earlier benchmark runs that nobody is connected to. (Whether their
 * process still runs cannot be asked: reading /proc needs --allow-all.) Without `force`, a
 * database that gains a session meanwhile is left alone.
 */
async function dropLeftovers(admin: Sql, own: string): Promise<void> {
  const rows = await admin<{ datname: string }[]>`
    select d.datname from pg_database d
    where d.datname ~ '^fumi_bench_[0-9]+$' and d.datname <> ${own}
      and not exists (select 1 from pg_stat_activity a where a.datname = d.datname)`;
  for (const { datname } of rows) {
    await admin.unsafe(`drop database if exists ${datname}`).catch(() => {});
  }
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== "") parsed.password = "***";
  return parsed.toString();
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
