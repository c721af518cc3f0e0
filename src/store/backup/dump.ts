/**
 * The dump: every table of the database as lines of JSON, read in one REPEATABLE READ, read
 * only transaction (one snapshot: a message and its mailbox entries are both in the dump or
 * neither is).
 *
 * ```
 * {"fumiBackup":1, "migrations":[…], "config":…, …}      header (one line)
 * {"table":"accounts","columns":["id",…]}                 each table, in foreign-key order
 * ["1","example.org",…]                                   a row: each value's text form or null
 * {"end":"accounts","rows":2}
 * {"sequences":[{"name":"…","value":7,"called":true}]}
 * {"done":true}
 * ```
 *
 * Invariants:
 * - Values are PostgreSQL's own text forms (what COPY writes), produced by the server, so every
 *   type reads back exactly; encrypted columns are copied as they are (bytea hex), never
 *   decrypted.
 * - Rows are read in batches by primary key (keyset pagination), sized to about
 *   {@link BATCH_OCTETS}: memory stays bounded whatever the size of the store, and on the
 *   embedded database, which holds a whole result in memory, no query returns a large one.
 * - Lines are produced as the consumer asks for them (an async generator): a slow disk slows
 *   the reading instead of filling memory.
 *
 * @module
 */

import type { TxSql } from "../db.ts";
import { type Catalog, ident, MIGRATIONS_TABLE, readCatalog, type TableInfo } from "./catalog.ts";

/** What the dump's header records besides the tables. */
export interface DumpHeader {
  readonly fumiBackup: 1;
  readonly createdAt: string;
  readonly database: "embedded" | "postgres";
  /** Applied migrations (version, name, checksum), ascending. */
  readonly migrations: readonly { version: number; name: string; checksum: string }[];
  /** The configuration file, when there is one. */
  readonly config: { readonly path: string; readonly text: string } | null;
}

/** Progress of a dump or a restore. */
export interface TableProgress {
  readonly table: string;
  readonly rows: number;
  readonly octets: number;
  readonly done: boolean;
}

/** Target size of one batch of rows. */
export const BATCH_OCTETS = 4 * 1024 * 1024;
const FIRST_BATCH = 100;
const MAX_BATCH = 5000;

/**
 * Yields the dump line by line (each ending in "\n"). Runs on `tx`, which the caller opened as
 * `repeatable read read only` with {@link setTextFormats}.
 */
export async function* dumpLines(
  tx: TxSql,
  header: Omit<DumpHeader, "fumiBackup" | "migrations">,
  onProgress: (progress: TableProgress) => void = () => {},
): AsyncGenerator<string> {
  const migrations = await tx<{ version: number; name: string; checksum: string }[]>`
    select version, name, checksum from fumi_migrations order by version`;
  const full: DumpHeader = {
    fumiBackup: 1,
    ...header,
    migrations: migrations.map((m) => ({ ...m })),
  };
  yield JSON.stringify(full) + "\n";
  const catalog: Catalog = await readCatalog(tx);
  for (const table of catalog.tables) {
    if (table.name === MIGRATIONS_TABLE) continue;
    yield* dumpTable(tx, table, onProgress);
  }
  const sequences: { name: string; value: number; called: boolean }[] = [];
  for (const name of catalog.sequences) {
    const [row] = await tx.unsafe<{ value: string; called: boolean }[]>(
      `select last_value::text as value, is_called as called from ${ident(name)}`,
    );
    sequences.push({ name, value: Number(row!.value), called: row!.called });
  }
  yield JSON.stringify({ sequences }) + "\n";
  yield JSON.stringify({ done: true }) + "\n";
}

async function* dumpTable(
  tx: TxSql,
  table: TableInfo,
  onProgress: (progress: TableProgress) => void,
): AsyncGenerator<string> {
  yield JSON.stringify({ table: table.name, columns: table.columns.map((c) => c.name) }) + "\n";
  const values = table.columns.map((c) => `${ident(c.name)}::text`).join(", ");
  // Keyset pagination: by primary key, or by ctid (stable within the snapshot) without one.
  const keyColumns = table.key.length > 0
    ? table.key.map((k) => ({ expr: ident(k.name), type: k.type }))
    : [{ expr: "ctid", type: "tid" }];
  const keyList = keyColumns.map((k) => k.expr).join(", ");
  const keyOut = keyColumns.map((k, i) => `${k.expr}::text as k${i}`).join(", ");
  const after = keyColumns.map((k, i) => `$${i + 1}::text::${k.type}`).join(", ");
  const first = `select array_to_json(array[${values}])::text as line, ${keyOut}
    from ${ident(table.name)} order by ${keyList} limit $1`;
  const next = `select array_to_json(array[${values}])::text as line, ${keyOut}
    from ${ident(table.name)} where (${keyList}) > (${after})
    order by ${keyList} limit $${keyColumns.length + 1}`;
  let last: string[] | null = null;
  let limit = FIRST_BATCH;
  let rows = 0;
  let octets = 0;
  for (;;) {
    const batch: { line: string; [key: string]: string }[] = last === null
      ? await tx.unsafe(first, [limit])
      : await tx.unsafe(next, [...last, limit]);
    let batchOctets = 0;
    for (const row of batch) {
      batchOctets += row.line.length;
      yield row.line + "\n";
    }
    rows += batch.length;
    octets += batchOctets;
    onProgress({ table: table.name, rows, octets, done: false });
    if (batch.length < limit) break;
    const end = batch[batch.length - 1]!;
    last = keyColumns.map((_, i) => end[`k${i}`]!);
    const average = Math.max(1, batchOctets / batch.length);
    limit = Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_OCTETS / average)));
  }
  onProgress({ table: table.name, rows, octets, done: true });
  yield JSON.stringify({ end: table.name, rows }) + "\n";
}
