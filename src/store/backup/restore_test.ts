import { generateMasterKey, parseMasterKeyRing } from "../../crypto/master_key.ts";
import { silentLogger } from "../../ops/log.ts";
import { assertEquals, assertRejects } from "../../../tests/assert.ts";
import { newDataDir } from "../../../tests/cli.ts";
import { type Database, openDatabase } from "../db.ts";
import { loadMigrations, migrate } from "../migrate.ts";
import { Vault } from "../vault.ts";
import { restoreBackup } from "./restore.ts";
import { writeBackup } from "./write.ts";
import { TargetNotEmptyError } from "./load.ts";

async function embedded(dir: string): Promise<Database> {
  await newDataDir(dir);
  return await openDatabase({ url: null, dataDir: dir, poolSize: 2, log: silentLogger });
}

Deno.test("a backup of an older schema restores at that schema, then migrates", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "fumi-rs-" });
  const shipped = await loadMigrations();
  const old = shipped.filter((m) => m.version <= 10);
  const key = generateMasterKey();
  const ring = await parseMasterKeyRing(key, "test");
  const source = await embedded(`${tmp}/a`);
  const target = await embedded(`${tmp}/b`);
  try {
    await migrate(source.sql, old, { log: silentLogger });
    await Vault.open(source.sql, ring, "test");
    await source
      .sql`insert into domains (name, unicode_name) values ('example.org', 'example.org')`;
    const chunks: Uint8Array[] = [];
    await writeBackup({
      sql: source.sql,
      database: "embedded",
      keyText: key,
      primaryKeyId: ring.primary.id,
      passphrase: null,
      config: null,
      output: new WritableStream({ write: (chunk) => void chunks.push(chunk) }),
    });
    const restore = () =>
      restoreBackup({
        sql: target.sql,
        file: ReadableStream.from(chunks),
        keyText: key,
        passphrase: () => Promise.reject(new Error("not asked")),
        migrations: shipped,
      });
    const result = await restore();
    assertEquals(result.dump.migrations.map((m) => m.version), old.map((m) => m.version));
    const versions = async () =>
      (await target.sql<{ version: number }[]>`select version from fumi_migrations order by 1`)
        .map((r) => r.version);
    assertEquals(await versions(), old.map((m) => m.version));
    const report = await migrate(target.sql, shipped, { log: silentLogger });
    assertEquals(
      report.applied.map((m) => m.version),
      shipped.slice(old.length).map((m) => m.version),
    );
    assertEquals(await versions(), shipped.map((m) => m.version));
    const [domain] = await target.sql<{ name: string }[]>`select name from domains`;
    assertEquals(domain?.name, "example.org");
    // The vault opens the restored database with the same key.
    await Vault.open(target.sql, ring, "test");
    await assertRejects(() => restore(), TargetNotEmptyError);
  } finally {
    await source.close();
    await target.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
