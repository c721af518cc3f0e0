/**
 * Loading a dump (dump.ts) into an empty database, inside the caller's transaction: the
 * schema at the backup's migration version, then the rows, then the sequences. The caller
 * commits only after the last line (`done`), so a damaged or truncated file leaves nothing.
 *
 * Invariants:
 * - The target must be empty (see {@link checkEmpty}); the backup's migrations must be ones this
 *   Fumi ships, unchanged (same checksums), so the rows meet the schema they were read from.
 *   Later migrations run after the commit, as on any start.
 * - Tables and columns are looked up in the target's catalog before anything is written; a
 *   name the schema lacks stops the restore. Rows are inserted with the columns' own casts
 *   from PostgreSQL's text forms, identity values kept (`overriding system value`).
 * - Triggers written by migrations (not the foreign keys) are off while rows go in, so rows
 *   arrive as they were, not as an insert trigger would make new ones.
 *
 * @module
 */

import { FumiError } from "../../util/errors.ts";
import type { Sql, TxSql } from "../db.ts";
import { label, type Migration } from "../migrate.ts";
import { ident, MIGRATIONS_TABLE, readCatalog, type TableInfo } from "./catalog.ts";
import { BATCH_OCTETS, type DumpHeader, type TableProgress } from "./dump.ts";

/** The database to restore into holds data already. */
export class TargetNotEmptyError extends FumiError {}

const MAX_BATCH_ROWS = 2000;

/** Throws {@link TargetNotEmptyError} unless no table but the migrations' has a row. */
export async function checkEmpty(sql: Sql): Promise<void> {
  const tables = await sql<{ name: string }[]>`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') order by c.relname`;
  for (const { name } of tables) {
    if (name === MIGRATIONS_TABLE) continue;
    const [row] = await sql.unsafe(`select 1 from ${ident(name)} limit 1`);
    if (row) {
      throw new TargetNotEmptyError(
        `The target database is not empty (table ${name} has rows); restore needs an empty data directory or an empty database`,
      );
    }
  }
}

/** Parses and checks the dump's header line. */
export function parseDumpHeader(line: string, shipped: readonly Migration[]): DumpHeader {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new FumiError("The backup's contents do not start with a dump header");
  }
  const header = value as Partial<DumpHeader>;
  if (header?.fumiBackup !== 1 || !Array.isArray(header.migrations)) {
    throw new FumiError("The backup's contents do not start with a dump header");
  }
  const known = new Map(shipped.map((m) => [m.version, m]));
  for (const m of header.migrations) {
    const ours = known.get(m.version);
    if (!ours) {
      throw new FumiError(
        `The backup was made by a newer Fumi (schema migration ${m.version} ${m.name} is unknown here); restore it with that version or later`,
      );
    }
    if (ours.checksum !== m.checksum) {
      throw new FumiError(`Migration ${label(ours)} differs from the one the backup was made with`);
    }
  }
  return header as DumpHeader;
}

/**
 * Creates the schema up to the backup's version inside `tx`, as src/store/migrate.ts would,
 * each migration recorded. Refuses a target whose schema is newer than the backup's.
 */
export async function createSchema(
  tx: TxSql,
  header: DumpHeader,
  shipped: readonly Migration[],
): Promise<void> {
  await tx`create table if not exists fumi_migrations (
    version integer primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
  )`;
  const applied = new Set(
    (await tx<{ version: number }[]>`select version from fumi_migrations`).map((r) => r.version),
  );
  const wanted = new Set(header.migrations.map((m) => m.version));
  for (const version of applied) {
    if (!wanted.has(version)) {
      throw new TargetNotEmptyError(
        `The target database has schema migration ${version}, which the backup lacks; restore into a new, empty database`,
      );
    }
  }
  for (const migration of shipped) {
    if (!wanted.has(migration.version) || applied.has(migration.version)) continue;
    await tx.unsafe(migration.sql).simple();
    await tx`insert into fumi_migrations (version, name, checksum)
             values (${migration.version}, ${migration.name}, ${migration.checksum})`;
  }
}

/** Loads the dump's lines after its header into `tx`; resolves at the `done` line. */
export async function loadLines(
  tx: TxSql,
  lines: AsyncIterator<string>,
  onProgress: (progress: TableProgress) => void = () => {},
): Promise<void> {
  const catalog = await readCatalog(tx);
  const tables = new Map(catalog.tables.map((t) => [t.name, t]));
  const sequences = new Set(catalog.sequences);
  for (;;) {
    const line = await nextLine(lines);
    const record = parseRecord(line);
    if ("done" in record) return;
    if ("sequences" in record) {
      for (const s of record.sequences) {
        if (!sequences.has(s.name)) {
          throw new FumiError(`The backup names sequence ${s.name}, which the schema lacks`);
        }
        await tx`select setval(${ident(s.name)}::regclass, ${s.value}, ${s.called})`;
      }
      continue;
    }
    if (!("table" in record)) throw new FumiError("The backup's contents are out of order");
    const table = tables.get(record.table);
    if (!table || table.name === MIGRATIONS_TABLE) {
      throw new FumiError(`The backup names table ${record.table}, which the schema lacks`);
    }
    await loadTable(tx, table, record.columns, lines, onProgress);
  }
}

async function loadTable(
  tx: TxSql,
  table: TableInfo,
  columnNames: readonly string[],
  lines: AsyncIterator<string>,
  onProgress: (progress: TableProgress) => void,
): Promise<void> {
  const columns = columnNames.map((name) => {
    const column = table.columns.find((c) => c.name === name);
    if (!column) {
      throw new FumiError(`The backup names column ${table.name}.${name}, which the schema lacks`);
    }
    return column;
  });
  const into = `${ident(table.name)} (${columns.map((c) => ident(c.name)).join(", ")})`;
  const casts = columns.map((c, i) => `(r->>${i})::${c.type}`).join(", ");
  const insert = `insert into ${into} overriding system value
    select ${casts} from jsonb_array_elements($1::text::jsonb) r`;
  await tx.unsafe(`alter table ${ident(table.name)} disable trigger user`);
  let batch: string[] = [];
  let batchOctets = 0;
  let rows = 0;
  let octets = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await tx.unsafe(insert, [`[${batch.join(",")}]`]);
    rows += batch.length;
    octets += batchOctets;
    batch = [];
    batchOctets = 0;
    onProgress({ table: table.name, rows, octets, done: false });
  };
  for (;;) {
    const line = await nextLine(lines);
    if (line.startsWith("[")) {
      batch.push(line);
      batchOctets += line.length;
      if (batchOctets >= BATCH_OCTETS || batch.length >= MAX_BATCH_ROWS) await flush();
      continue;
    }
    await flush();
    const record = parseRecord(line);
    if (!("end" in record) || record.end !== table.name) {
      throw new FumiError(`The backup's table ${table.name} does not end where it should`);
    }
    if (record.rows !== rows) {
      throw new FumiError(
        `The backup's table ${table.name} should have ${record.rows} rows, but has ${rows}`,
      );
    }
    break;
  }
  await tx.unsafe(`alter table ${ident(table.name)} enable trigger user`);
  onProgress({ table: table.name, rows, octets, done: true });
}

type DumpRecord =
  | { done: true }
  | { sequences: { name: string; value: number; called: boolean }[] }
  | { table: string; columns: string[] }
  | { end: string; rows: number };

function parseRecord(line: string): DumpRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new FumiError("The backup's contents are damaged (a line is not JSON)");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FumiError("The backup's contents are out of order");
  }
  const r = value as Record<string, unknown>;
  if (r.done === true) return { done: true };
  if (Array.isArray(r.sequences)) {
    for (const s of r.sequences as Record<string, unknown>[]) {
      if (
        typeof s?.name !== "string" || typeof s.value !== "number" ||
        typeof s.called !== "boolean"
      ) {
        throw new FumiError("The backup's sequences are malformed");
      }
    }
    return { sequences: r.sequences as { name: string; value: number; called: boolean }[] };
  }
  if (
    typeof r.table === "string" && Array.isArray(r.columns) &&
    r.columns.every((c) => typeof c === "string")
  ) {
    return { table: r.table, columns: r.columns as string[] };
  }
  if (typeof r.end === "string" && typeof r.rows === "number") {
    return { end: r.end, rows: r.rows };
  }
  throw new FumiError("The backup's contents hold an unknown record");
}

async function nextLine(lines: AsyncIterator<string>): Promise<string> {
  const next = await lines.next();
  if (next.done) throw new FumiError("The backup's contents end early (truncated?)");
  return next.value;
}
