import { assert, assertEquals, assertRejects, assertStringIncludes } from "../../tests/assert.ts";
import { withDatabase } from "../../tests/db.ts";
import { auditHash, AuditLog, canonicalJson, GENESIS_HASH, redactDetails } from "./audit.ts";
import type { Sql } from "./db.ts";

async function withAudit(
  fn: (audit: AuditLog, sql: Sql, again: () => Sql) => Promise<void>,
): Promise<void> {
  await withDatabase(async (db) => {
    await fn(new AuditLog(db.sql), db.sql, () => db.connectAgain());
  });
}

/** Runs `statement` as the superuser with triggers off, as someone covering their tracks would. */
async function tamper(sql: Sql, statement: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx.unsafe("set local session_replication_role = replica");
    await tx.unsafe(statement);
  });
}

async function appendThree(audit: AuditLog): Promise<void> {
  await audit.append({
    actor: "root",
    action: "account.add",
    target: "a@example.org",
    source: "cli",
  });
  await audit.append({
    actor: "root",
    action: "ban.add",
    target: "192.0.2.7/32",
    details: { reason: "brute force", expires: null, nested: { b: 2, a: [1, "x"] } },
    source: "cli",
  });
  await audit.append({
    actor: "system",
    action: "ban.add",
    target: "198.51.100.0/24",
    source: "system",
  });
}

Deno.test("audit: rows chain, list newest first, and verify checks out", async () => {
  await withAudit(async (audit) => {
    assertEquals(await audit.verify(), { ok: true, rows: 0, head: null });
    await appendThree(audit);
    const rows = await audit.list({ limit: 10 });
    assertEquals(rows.map((r) => r.seq), [3, 2, 1]);
    assertEquals(rows[2]!.prevHash, GENESIS_HASH);
    assertEquals(rows[1]!.prevHash, rows[2]!.hash);
    assertEquals(rows[0]!.prevHash, rows[1]!.hash);
    // The details come back from jsonb with their keys in another order; the hash still holds.
    assertEquals(rows[1]!.details, {
      reason: "brute force",
      expires: null,
      nested: { a: [1, "x"], b: 2 },
    });
    assertEquals(await auditHash(rows[1]!), rows[1]!.hash);
    const verified = await audit.verify();
    assert(verified.ok);
    assertEquals([verified.rows, verified.head?.seq], [3, 3]);
  });
});

Deno.test("audit: the table refuses UPDATE, DELETE and TRUNCATE", async () => {
  await withAudit(async (audit, sql) => {
    await appendThree(audit);
    await assertRejects(
      () => sql`update audit_log set actor = 'mallory' where seq = 1`,
      Error,
      "append-only",
    );
    await assertRejects(() => sql`delete from audit_log where seq = 2`, Error, "append-only");
    await assertRejects(() => sql`truncate audit_log`, Error, "append-only");
    assert((await audit.verify()).ok);
  });
});

Deno.test("audit: verify names an edited row", async () => {
  await withAudit(async (audit, sql) => {
    await appendThree(audit);
    await tamper(sql, `update audit_log set target = '203.0.113.9/32' where seq = 2`);
    const result = await audit.verify();
    assert(!result.ok);
    assertEquals([result.seq, result.problem, result.rows], [2, "edited", 1]);
    assertStringIncludes(result.text, "Row 2 was edited");
  });
});

Deno.test("audit: verify names a deleted row, and a row rewritten with a fresh hash", async () => {
  await withAudit(async (audit, sql) => {
    await appendThree(audit);
    await tamper(sql, "delete from audit_log where seq = 2");
    const result = await audit.verify();
    assert(!result.ok);
    assertEquals([result.seq, result.problem], [3, "deleted"]);
    assertStringIncludes(result.text, "row 2 was deleted");
  });
  await withAudit(async (audit, sql) => {
    await appendThree(audit);
    // An editor who knows the scheme recomputes the edited row's hash: the next row's link breaks.
    const [row] = await sql<{ seq: string; at: Date; prev_hash: string }[]>`
      select seq, at, prev_hash from audit_log where seq = 2`;
    const forged = {
      seq: 2,
      at: row!.at,
      actor: "root",
      action: "ban.add",
      target: "203.0.113.9/32",
      details: {},
      source: "cli",
      prevHash: row!.prev_hash,
    };
    const hash = await auditHash(forged);
    await tamper(
      sql,
      `update audit_log set target = '203.0.113.9/32', details = '{}', hash = '${hash}' where seq = 2`,
    );
    const result = await audit.verify();
    assert(!result.ok);
    assertEquals([result.seq, result.problem], [3, "deleted"]);
    assertStringIncludes(result.text, "does not follow row 2");
  });
});

Deno.test("audit: concurrent appends stay one linear chain", async () => {
  await withAudit(async (audit, _sql, again) => {
    // A second writer on its own connections, as another process would be.
    const other = new AuditLog(again());
    await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          (i % 2 ? audit : other).append({
            actor: "t",
            action: "x",
            target: String(i),
            source: "cli",
          }),
      ),
    );
    const result = await audit.verify();
    assert(result.ok);
    assertEquals(result.rows, 20);
  });
});

Deno.test("audit: secret-looking detail keys are redacted before hashing; canonical JSON", () => {
  assertEquals(
    redactDetails({ password: "hunter2", name: "phone", nested: { apiToken: "t", ok: 1 } }),
    { password: "[redacted]", name: "phone", nested: { apiToken: "[redacted]", ok: 1 } },
  );
  assertEquals(
    canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 0 }], c: null } }),
    '{"a":{"c":null,"d":[2,{"y":0,"z":1}]},"b":1}',
  );
});
