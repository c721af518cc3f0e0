/**
 * The database connection: postgres.js is the only database client in Fumi. With a URL it
 * connects to PostgreSQL; without one it uses the embedded PGlite of the data directory,
 * either starting it in this process or, when a running Fumi already serves it, connecting to
 * that server's socket (so `fumi user add` works beside `fumi serve`).
 *
 * Integers of type int8 (ids, sizes, modseqs) are returned as JavaScript numbers: every value
 * Fumi stores in them stays far below 2^53.
 *
 * @module
 */

import postgres from "postgres";
import type { Logger } from "../ops/log.ts";
import { type EmbeddedServer, openEmbedded } from "./embedded.ts";

/** A postgres.js connection pool. */
export type Sql = postgres.Sql;
/** A transaction (or any) SQL handle. */
export type TxSql = postgres.TransactionSql | Sql;

/** An open database. */
export interface Database {
  readonly sql: Sql;
  /** "embedded" when PGlite serves it (in this process or another), else "postgres". */
  readonly kind: "embedded" | "postgres";
  close(): Promise<void>;
}

/** How to reach the database. */
export interface DatabaseOptions {
  readonly url: string | null;
  readonly dataDir: string;
  readonly poolSize: number;
  readonly log: Logger;
  /** Embedded only: own the database rather than join another process (`serve`). */
  readonly exclusive?: boolean;
}

const INT8_OID = 20;

/** Opens the configured database. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url !== null) {
    const sql = connect({ url: options.url, max: options.poolSize });
    await sql`select 1`;
    return { sql, kind: "postgres", close: () => sql.end({ timeout: 5 }) };
  }
  const server: EmbeddedServer = await openEmbedded(options.dataDir, options.log, {
    exclusive: options.exclusive ?? false,
  });
  // PGlite is one backend: more connections would only queue behind each other.
  const sql = connect({ socketDir: server.socketDir, max: 2 });
  try {
    await sql`select 1`;
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    sql,
    kind: "embedded",
    close: async () => {
      await sql.end({ timeout: 5 });
      await server.stop();
    },
  };
}

/** Creates a postgres.js pool with Fumi's type and notice settings. */
export function connect(
  target: { url: string; max: number } | { socketDir: string; max: number },
): Sql {
  const options = {
    max: target.max,
    idle_timeout: 60,
    connect_timeout: 15,
    onnotice: () => {},
    types: {
      int8: {
        to: INT8_OID,
        from: [INT8_OID],
        serialize: (n: unknown) => String(n),
        parse: (text: string) => Number(text),
      },
    },
    connection: { application_name: "fumi" },
  };
  // The custom int8 parser changes only how values come back; the handle's API is the same.
  if ("url" in target) return postgres(target.url, options) as unknown as Sql;
  return postgres({
    ...options,
    host: target.socketDir,
    port: 5432,
    // The owner may still be creating PGlite (seconds, more on a busy machine): wait it out.
    connect_timeout: 60,
    // PGlite is a single backend shared by every connection, and nothing deallocates a named
    // prepared statement when a connection closes. Prepared statements halve the cost of a
    // query there (bench store, embedded reads: 603/s without, 1,135/s with), so keep them, and
    // keep the connections: never closing an idle one, each process prepares its statements once.
    idle_timeout: 0,
    database: "postgres",
    username: "postgres",
  }) as unknown as Sql;
}
