/**
 * The audit log through the real commands: administrative and security changes made with
 * `fumi …` are recorded with the OS user as actor and "cli" as source, an automatic ban as
 * "system"; `fumi audit` shows them, never a password; `fumi audit verify` checks the chain and,
 * after a row is edited or deleted directly in SQL (as a superuser with triggers off), names it
 * and exits 1.
 *
 * @module
 */

import { Bans } from "../src/auth/bans.ts";
import { ensureAdministrator } from "../src/bootstrap.ts";
import type { Store } from "../src/store/mod.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { assertFails, assertOk, type Env, fumi, table, withCommandDatabase } from "./cli.ts";
import { GOOD_PASSWORD, testConfig } from "./store.ts";

const NEW_PASSWORD = "a brand new secret 7711";

/** Runs `statement` with triggers off (session_replication_role), as an intruder would. */
async function tamper(store: Store, statement: string): Promise<void> {
  await store.sql.begin(async (tx) => {
    await tx.unsafe("set local session_replication_role = replica");
    await tx.unsafe(statement);
  });
}

Deno.test("audit: commands are recorded; fumi audit verify finds an edited and a deleted row", async () => {
  await withCommandDatabase("fumi-audit-", async (env: Env, store) => {
    const as = { ...env, USER: "carol" };
    const run = (argv: string[], stdin?: string) =>
      fumi(argv, { env: as, ...(stdin === undefined ? {} : { stdin }) });
    // The first start's administrator, made by the server itself.
    assert(await ensureAdministrator(store, await testConfig(), {}));
    assertOk(await run(["domain", "add", "example.org"]));
    assertOk(
      await run(["user", "add", "alice@example.org", "--password-stdin"], `${GOOD_PASSWORD}\n`),
    );
    assertOk(
      await run(["user", "passwd", "alice@example.org", "--password-stdin"], `${NEW_PASSWORD}\n`),
    );
    const appPassword = assertOk(
      await run(["user", "app-password", "add", "alice@example.org", "phone"]),
    );
    assertOk(await run(["alias", "add", "info@example.org", "alice@example.org"]));
    assertOk(await run(["ban", "add", "192.0.2.0/24", "--reason", "abuse"]));
    assertOk(await run(["ban", "remove", "192.0.2.0/24"]));
    assertOk(await run(["user", "hold", "alice@example.org", "--reason", "review"]));
    assertOk(await run(["dkim", "rotate", "example.org"]));
    // An automatic ban, by the server's brute-force defence.
    const bans = new Bans(store.sql, { banAfter: 2 });
    for (let i = 0; i < 2; i++) {
      await bans.recordFailure({
        protocol: "imap",
        ip: "198.51.100.7",
        account: "alice@example.org",
        reason: "bad-password",
      });
    }

    const shown = assertOk(await run(["audit", "--limit", "100"]));
    const rows = table(shown);
    assertEquals(rows[0], ["SEQ", "TIME", "ACTOR", "SOURCE", "ACTION", "TARGET", "DETAILS"]);
    const actions = rows.slice(1).map((r) => [r[2], r[3], r[4], r[5]]);
    assertEquals(actions, [
      ["system", "system", "account.add", "admin@localhost"],
      ["carol", "cli", "domain.add", "example.org"],
      ["carol", "cli", "account.add", "alice@example.org"],
      ["carol", "cli", "account.password", "alice@example.org"],
      ["carol", "cli", "app-password.add", "alice@example.org"],
      ["carol", "cli", "alias.add", "info@example.org"],
      ["carol", "cli", "ban.add", "192.0.2.0/24"],
      ["carol", "cli", "ban.remove", "192.0.2.0/24"],
      ["carol", "cli", "account.hold", "alice@example.org"],
      ["carol", "cli", "dkim.rotate", "example.org"],
      ["system", "system", "ban.add", "198.51.100.7/32"],
    ]);
    assertMatch(rows[1]![1]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    assertStringIncludes(rows[7]![6]!, '"reason":"abuse"');
    // The audit log holds no password: neither the account's nor the app password.
    const generated = /^Password: (.+)$/.exec(
      appPassword.find((l) => l.startsWith("Password: "))!,
    )![1]!;
    const dump = JSON.stringify(await store.sql`select * from audit_log`);
    for (const secret of [GOOD_PASSWORD, NEW_PASSWORD, generated]) {
      assert(!dump.includes(secret), `the audit log holds ${secret}`);
    }
    assertEquals(assertOk(await run(["audit", "--limit", "2"])).length, 3, "header and two rows");

    const verified = assertOk(await run(["audit", "verify"]));
    assertEquals(verified[0], "The audit log checks out: 11 row(s), hash chain intact.");
    assertMatch(verified[1]!, /^Newest row 11: [0-9a-f]{64}$/);

    // The table itself refuses changes, even to its owner.
    let refused = "";
    await store.sql`update audit_log set actor = 'mallory' where seq = 6`.catch((e: Error) => {
      refused = e.message;
    });
    assertStringIncludes(refused, "append-only");

    // Edited behind the triggers' back: verify names the row and fails.
    await tamper(store, "update audit_log set actor = 'mallory' where seq = 6");
    assertFails(await run(["audit", "verify"]), 1, "Row 6 was edited");
    await tamper(store, "update audit_log set actor = 'carol' where seq = 6");
    assertOk(await run(["audit", "verify"]));

    // A deleted row: the chain breaks at the next one.
    await tamper(store, "delete from audit_log where seq = 7");
    assertFails(await run(["audit", "verify"]), 1, "row 7 was deleted");
  });
});

Deno.test("audit: usage errors", async () => {
  assertFails(await fumi(["audit", "--limit", "0"]), 2, 'Invalid --limit "0"');
  assertFails(await fumi(["audit", "verify", "extra"]), 2, "Unexpected argument");
  assertFails(await fumi(["audit", "show"]), 2, "Unexpected argument");
});
