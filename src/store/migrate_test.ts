import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { withDatabase } from "../../tests/db.ts";
import { silentLogger } from "../ops/log.ts";
import { FumiError } from "../util/errors.ts";
import { label, loadMigrations, migrate, type Migration, pendingMigrations } from "./migrate.ts";

const log = silentLogger;

async function fake(version: number, name: string, sql: string): Promise<Migration> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sql));
  const checksum = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
  return { version, name, sql, checksum };
}

Deno.test("the shipped migrations load in order and apply (template is migrated)", async () => {
  const migrations = await loadMigrations();
  assert(migrations.length >= 1);
  assertEquals(label(migrations[0]!), "0001_initial");
  await withDatabase(async ({ sql }) => {
    assertEquals(await pendingMigrations(sql, migrations), []);
    const report = await migrate(sql, migrations, { log });
    assertEquals(report.applied, []);
  });
});

Deno.test("dry run lists without applying; a run applies once", async () => {
  await withDatabase(async ({ sql }) => {
    const shipped = await loadMigrations();
    const extra = await fake(
      9001,
      "add_widget",
      "create table widget (id int); insert into widget values (1);",
    );
    const dry = await migrate(sql, [...shipped, extra], { log, dryRun: true });
    assertEquals(dry.pending.map(label), ["9001_add_widget"]);
    const [before] = await sql`select to_regclass('widget') as t`;
    assertEquals(before!.t, null);
    const run = await migrate(sql, [...shipped, extra], { log });
    assertEquals(run.applied.map(label), ["9001_add_widget"]);
    const again = await migrate(sql, [...shipped, extra], { log });
    assertEquals(again.applied, []);
    assertEquals((await sql`select count(*)::int as n from widget`)[0]!.n, 1);
  });
});

Deno.test("a failing migration leaves the database as it was", async () => {
  await withDatabase(async ({ sql }) => {
    const shipped = await loadMigrations();
    const bad = await fake(
      9002,
      "half_done",
      "create table half (id int); insert into half values (1); select no_such_function();",
    );
    const error = await assertRejects(() => migrate(sql, [...shipped, bad], { log }), FumiError);
    assert(error.message.startsWith("Migration 9002_half_done failed and was rolled back"));
    const [row] = await sql`select to_regclass('half') as t`;
    assertEquals(row!.t, null);
    assertEquals((await pendingMigrations(sql, [...shipped, bad])).map(label), ["9002_half_done"]);
  });
});

Deno.test("a changed or unknown applied migration is an error", async () => {
  await withDatabase(async ({ sql }) => {
    const shipped = await loadMigrations();
    const changed = { ...shipped[0]!, checksum: "0".repeat(64) };
    await assertRejects(
      () => pendingMigrations(sql, [changed]),
      FumiError,
      "was changed after it was applied",
    );
    await assertRejects(
      () => pendingMigrations(sql, []),
      FumiError,
      "which this Fumi does not know",
    );
  });
});

Deno.test("two nodes migrating at once apply each migration exactly once", async () => {
  await withDatabase(async (db) => {
    const other = db.connectAgain();
    const shipped = await loadMigrations();
    const slow = await fake(9003, "slow", "select pg_sleep(0.3); create table raced (id int);");
    const [a, b] = await Promise.all([
      migrate(db.sql, [...shipped, slow], { log }),
      migrate(other, [...shipped, slow], { log }),
    ]);
    assertEquals(a.applied.length + b.applied.length, 1);
    const rows = await db.sql`select version from fumi_migrations where version = 9003`;
    assertEquals(rows.length, 1);
  });
});
