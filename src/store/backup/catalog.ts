/**
 * What a backup reads of the schema: Fumi's tables in the order their foreign keys allow
 * (referenced tables first), each with its stored columns and types and its key, and the
 * sequences. Read from the PostgreSQL catalog, so a table a later migration adds is backed up
 * without a change here.
 *
 * @module
 */

import { FumiError } from "../../util/errors.ts";
import type { TxSql } from "../db.ts";

/** A column: its name and its type as `format_type` writes it (a valid cast target). */
export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
}

/** A table of the public schema. */
export interface TableInfo {
  readonly name: string;
  /** Stored columns (generated ones are left out: PostgreSQL computes them again). */
  readonly columns: readonly ColumnInfo[];
  /** The primary key's columns; empty when the table has none (then rows go by ctid). */
  readonly key: readonly ColumnInfo[];
}

/** The schema's tables and sequences. */
export interface Catalog {
  /** In foreign-key order: a table comes after every table it references. */
  readonly tables: readonly TableInfo[];
  readonly sequences: readonly string[];
}

/** The table of applied migrations; the backup records it in its header instead. */
export const MIGRATIONS_TABLE = "fumi_migrations";

/** Quotes an identifier for SQL. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Reads the catalog of the public schema. */
export async function readCatalog(tx: TxSql): Promise<Catalog> {
  const columns = await tx<{ table: string; name: string; type: string }[]>`
    select c.relname as table, a.attname as name, format_type(a.atttypid, a.atttypmod) as type
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid
    join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') and a.attnum > 0
      and not a.attisdropped and a.attgenerated = ''
    order by c.relname, a.attnum`;
  const keys = await tx<{ table: string; name: string }[]>`
    select c.relname as table, a.attname as name
    from pg_index i
    join pg_class c on c.oid = i.indrelid
    join pg_namespace n on n.oid = c.relnamespace
    cross join lateral unnest(i.indkey) with ordinality as k(attnum, position)
    join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
    where n.nspname = 'public' and i.indisprimary
    order by c.relname, k.position`;
  const references = await tx<{ table: string; referenced: string }[]>`
    select distinct c.relname as table, r.relname as referenced
    from pg_constraint f
    join pg_class c on c.oid = f.conrelid
    join pg_class r on r.oid = f.confrelid
    join pg_namespace n on n.oid = c.relnamespace
    where f.contype = 'f' and n.nspname = 'public'`;
  const sequences = await tx<{ name: string }[]>`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'S' order by c.relname`;

  const byTable = new Map<string, ColumnInfo[]>();
  for (const c of columns) {
    const list = byTable.get(c.table) ?? [];
    list.push({ name: c.name, type: c.type });
    byTable.set(c.table, list);
  }
  const tables = new Map<string, TableInfo>();
  for (const [name, cols] of byTable) {
    const key = keys.filter((k) => k.table === name).map((k) =>
      cols.find((c) => c.name === k.name)!
    );
    tables.set(name, { name, columns: cols, key });
  }
  return { tables: foreignKeyOrder(tables, references), sequences: sequences.map((s) => s.name) };
}

/** Referenced tables first; ties alphabetical, so the order is the same on every run. */
function foreignKeyOrder(
  tables: ReadonlyMap<string, TableInfo>,
  references: readonly { table: string; referenced: string }[],
): TableInfo[] {
  const needs = new Map<string, Set<string>>();
  for (const name of tables.keys()) needs.set(name, new Set());
  for (const { table, referenced } of references) {
    if (table !== referenced && tables.has(referenced)) needs.get(table)?.add(referenced);
  }
  const ordered: TableInfo[] = [];
  const placed = new Set<string>();
  while (placed.size < tables.size) {
    const ready = [...needs].filter(([name, deps]) =>
      !placed.has(name) && [...deps].every((d) => placed.has(d))
    ).map(([name]) => name).sort();
    if (ready.length === 0) {
      throw new FumiError(
        "The schema's foreign keys form a cycle; cannot order tables for a backup",
      );
    }
    for (const name of ready) {
      placed.add(name);
      ordered.push(tables.get(name)!);
    }
  }
  return ordered;
}

/** Settings both sides use, so every value's text form reads back as the same value. */
export async function setTextFormats(tx: TxSql): Promise<void> {
  await tx`set local timezone = 'UTC'`;
  await tx`set local datestyle = 'ISO, YMD'`;
  await tx`set local intervalstyle = 'postgres'`;
  await tx`set local extra_float_digits = 3`;
  await tx`set local bytea_output = 'hex'`;
}
