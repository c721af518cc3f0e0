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
 * - Rows are read in batches by primary key (keyset pagination). Each batch is planned first
 *   from the stored sizes of the rows ahead (`pg_column_size`, which reads no data), so that it
 *   holds about {@link BATCH_OCTETS} of text (bytea doubles in hex), or one row when a row is
 *   larger: memory stays bounded whatever the size of the store, and on the embedded database,
 *   which holds a whole result in memory, no query returns a large one.
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
/** Most rows in one batch. */
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
  const bound = (op: string, from: number) =>
    `(${keyList}) ${op} (${keyColumns.map((k, i) => `$${from + i}::text::${k.type}`).join(", ")})`;
  // pg_column_size reads a value's stored size without fetching or decompressing it.
  const size = table.columns.map((c) => `coalesce(pg_column_size(${ident(c.name)}), 0)`)
    .join(" + ");
  // Which rows make the next batch: the keys ahead, with the running total of their sizes.
  const plan = (after: boolean) =>
    `select ${keyOut}, sum(size) over (order by ${keyList} rows unbounded preceding) as running
     from (select ${keyList}, ${size} as size from ${ident(table.name)}
           ${after ? `where ${bound(">", 1)}` : ""}
           order by ${keyList} limit ${MAX_BATCH}) s
     order by ${keyList}`;
  const fetch = (after: boolean) =>
    `select array_to_json(array[${values}])::text as line from ${ident(table.name)}
     where ${after ? `${bound(">", 1)} and ` : ""}${bound("<=", after ? keyColumns.length + 1 : 1)}
     order by ${keyList}`;
  let last: string[] | null = null;
  let rows = 0;
  let octets = 0;
  for (;;) {
    const ahead: Record<string, string>[] = await tx.unsafe(plan(last !== null), last ?? []);
    if (ahead.length === 0) break;
    // At least one row, however large; then as many as fit in the batch.
    let take = 1;
    while (take < ahead.length && Number(ahead[take]!.running) <= BATCH_OCTETS / 2) take++;
    const upto = keyColumns.map((_, i) => ahead[take - 1]![`k${i}`]!);
    const batch: { line: string }[] = await tx.unsafe(
      fetch(last !== null),
      [...(last ?? []), ...upto],
    );
    for (const row of batch) {
      octets += row.line.length;
      yield row.line + "\n";
    }
    rows += batch.length;
    onProgress({ table: table.name, rows, octets, done: false });
    last = upto;
    if (ahead.length < MAX_BATCH && take === ahead.length) break;
  }
  onProgress({ table: table.name, rows, octets, done: true });
  yield JSON.stringify({ end: table.name, rows }) + "\n";
}
