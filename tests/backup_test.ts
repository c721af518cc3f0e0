/**
 * `fumi backup` and `fumi restore`, in process, on the embedded database (a fresh data
 * directory) and, with FUMI_TEST_DATABASE_URL, on PostgreSQL (restored into a second database
 * created and dropped here). What IMAP shows of the restored store must be exactly what it
 * showed of the original: mailboxes, UIDs, flags, dates and bytes.
 *
 * @module
 */

import postgres from "postgres";
import type { Store } from "../src/store/mod.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import {
  type CliResult,
  type Env,
  fumi,
  listDir,
  newDataDir,
  storeFor,
  withCommandDatabase,
} from "./cli.ts";
import { mailView, withImapClient } from "./mail_view.ts";
import { GOOD_PASSWORD, sampleMessage } from "./store.ts";

const PASSPHRASE = "correct horse battery staple";

/** Fills the store: two users, a sub-folder, flags, a keyword, an expunged message, many rows. */
async function seed(store: Store): Promise<void> {
  await store.domains.add("example.org");
  const alice = await store.accounts.create({
    address: "alice@example.org",
    password: GOOD_PASSWORD,
  });
  const bob = await store.accounts.create({ address: "bob@example.org", password: GOOD_PASSWORD });
  await store.mailboxes.create(alice.id, "Projects");
  await store.mailboxes.create(alice.id, "Projects/2026");
  const at = new Date("2026-03-04T05:06:07Z");
  await store.messages.deliver(sampleMessage("first"), [
    { accountId: alice.id, flags: ["\\Seen", "\\Flagged"] },
    { accountId: bob.id },
  ], { internalDate: at });
  await store.messages.deliver(sampleMessage("second", 300_000), [
    { accountId: alice.id, flags: ["\\Answered", "$Forwarded"] },
  ]);
  await store.messages.deliver(sampleMessage("third"), [
    { accountId: alice.id, mailbox: "Projects/2026", flags: ["\\Draft", "project-x"] },
  ]);
  const [gone] = await store.messages.deliver(sampleMessage("gone"), [{ accountId: alice.id }]);
  const inbox = await store.mailboxes.get(alice.id, "INBOX");
  await store.messages.setFlags(inbox.id, [gone!.uid], "add", ["\\Deleted"]);
  await store.messages.expunge(inbox.id, [gone!.uid]);
  // More rows than one batch of the dump holds.
  for (let i = 0; i < 130; i++) {
    await store.messages.deliver(sampleMessage(`bulk ${i}`), [
      { accountId: alice.id, mailbox: "Projects", flags: i % 3 === 0 ? ["\\Seen"] : [] },
    ]);
  }
}

function view(store: Store): Promise<string[]> {
  return withImapClient(store, "alice@example.org", GOOD_PASSWORD, mailView);
}

function ok(result: CliResult): string[] {
  const shown = `stdout ${JSON.stringify(result.out)}, stderr ${JSON.stringify(result.err)}`;
  assertEquals(result.code, 0, shown);
  return result.out;
}

/** A fresh, empty restore target: a data directory, or a new PostgreSQL database. */
async function withTarget(
  tmp: string,
  name: string,
  fn: (env: Env) => Promise<void>,
): Promise<void> {
  const server = Deno.env.get("FUMI_TEST_DATABASE_URL");
  const env: Env = { FUMI_DATA_DIR: `${tmp}/${name}` };
  if (!server) {
    await newDataDir(env.FUMI_DATA_DIR!);
    await fn(env);
    return;
  }
  const database = `fumi_bk_${Deno.pid}_${Date.now().toString(36)}_${name}`;
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${database}`);
    const url = new URL(server);
    url.pathname = `/${database}`;
    await fn({ ...env, FUMI_DATABASE_URL: url.toString() });
  } finally {
    await admin.unsafe(`drop database if exists ${database} with (force)`);
    await admin.end();
  }
}

/** Opens the restored store, runs `fn`, closes it. */
async function withRestored<T>(env: Env, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await storeFor(env);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

Deno.test("backup and restore: IMAP shows the same mail; damage is refused; --include-key", async (t) => {
  await withCommandDatabase("fumi-bk-", async (env, store, tmp) => {
    await seed(store);
    const before = await view(store);
    assert(before.some((l) => l.includes("\\Flagged") && l.includes("\\Seen")));
    assert(before.some((l) => l.includes("project-x")));
    assertEquals(before.filter((l) => l.startsWith("* LIST ")).length, 8);

    const file = `${tmp}/fumi.backup`;
    await t.step("backup writes the file and prints its SHA-256", async () => {
      const out = ok(await fumi(["backup", file], { env, cwd: tmp }));
      assertMatch(out[0]!, /^Backup written to .*fumi\.backup: \d+ tables, \d+ rows/);
      const bytes = await Deno.readFile(file);
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
      const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      assertEquals(out[1], `${hex}  ${file}`);
      assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);
      // Encrypted: neither addresses nor message text appear in the file.
      const text = new TextDecoder("latin1").decode(bytes);
      assertEquals(text.includes("alice@example.org"), false);
      assertEquals(text.includes("example.org"), false);
      // Never overwritten.
      const again = await fumi(["backup", file], { env, cwd: tmp });
      assertEquals(again.code, 1);
      assertStringIncludes(again.err.join("\n"), "exists already");
    });

    await t.step(
      "a damaged byte or a truncated file is refused and leaves the target empty",
      async () => {
        const good = await Deno.readFile(file);
        const flipped = good.slice();
        flipped[Math.floor(good.length / 2)]! ^= 0x01;
        await Deno.writeFile(`${tmp}/flipped.backup`, flipped);
        await Deno.writeFile(`${tmp}/short.backup`, good.slice(0, good.length - 40));
        await withTarget(tmp, "damaged", async (target) => {
          const targetEnv = { ...target, FUMI_MASTER_KEY: env.FUMI_MASTER_KEY! };
          for (const bad of ["flipped.backup", "short.backup"]) {
            const result = await fumi(["restore", `${tmp}/${bad}`], { env: targetEnv, cwd: tmp });
            assertEquals(result.code, 1, JSON.stringify(result));
            assertMatch(result.err.at(-1)!, /damaged|truncated/);
          }
          // Still empty: the good file restores into the very same target.
          ok(await fumi(["restore", file], { env: targetEnv, cwd: tmp }));
          // …and now it is not empty any more.
          const twice = await fumi(["restore", file], { env: targetEnv, cwd: tmp });
          assertEquals(twice.code, 1);
          assertStringIncludes(twice.err.at(-1)!, "not empty");
        });
      },
    );

    await t.step("restore into a fresh target: IMAP shows the same mail", async () => {
      await withTarget(tmp, "fresh", async (target) => {
        const targetEnv = { ...target, FUMI_MASTER_KEY: env.FUMI_MASTER_KEY! };
        const out = ok(await fumi(["restore", file], { env: targetEnv, cwd: tmp }));
        assertMatch(out[0]!, /^Restored \d+ tables, \d+ rows from /);
        const after = await withRestored(targetEnv, view);
        assertEquals(after, before);
        // New mail goes on with new UIDs and ids, not reusing restored ones.
        await withRestored(targetEnv, async (restored) => {
          const alice = await restored.accounts.get("alice@example.org");
          const [next] = await restored.messages.deliver(sampleMessage("later"), [
            { accountId: alice.id },
          ]);
          assertEquals(next!.uid, 4); // INBOX had UIDs 1-3, the third expunged
        });
      });
    });

    await t.step("a wrong master key is refused", async () => {
      await withTarget(tmp, "wrongkey", async (target) => {
        const wrong = "A".repeat(43) + "=";
        const result = await fumi(["restore", file], {
          env: { ...target, FUMI_MASTER_KEY: wrong },
          cwd: tmp,
        });
        assertEquals(result.code, 2, JSON.stringify(result));
        assertStringIncludes(result.err.at(-1)!, "does not match the backup");
      });
    });

    await t.step("--include-key restores into a data directory with no master key", async () => {
      const keyed = `${tmp}/keyed.backup`;
      // This time with a configuration file, which the backup carries too.
      const configText = '[limits]\nmax_message_size = "10M"\n';
      await Deno.writeTextFile(`${tmp}/fumi.toml`, configText);
      const withPass = {
        ...env,
        FUMI_BACKUP_PASSPHRASE: PASSPHRASE,
        FUMI_CONFIG: `${tmp}/fumi.toml`,
      };
      const out = ok(await fumi(["backup", "--include-key", keyed], { env: withPass, cwd: tmp }));
      assertStringIncludes(out[0]!, "master key included");
      await withTarget(tmp, "keyed", async (target) => {
        const wrong = await fumi(["restore", keyed], {
          env: { ...target, FUMI_BACKUP_PASSPHRASE: "not the passphrase at all" },
          cwd: tmp,
        });
        assertEquals(wrong.code, 1);
        assertStringIncludes(wrong.err.at(-1)!, "passphrase does not open");
        const noPass = await fumi(["restore", file], { env: target, cwd: tmp });
        assertEquals(noPass.code, 2);
        assertStringIncludes(noPass.err.at(-1)!, "does not include its master key");

        const restoredOut = ok(
          await fumi(["restore", keyed, "--write-config", "restored.toml"], {
            env: { ...target, FUMI_BACKUP_PASSPHRASE: PASSPHRASE },
            cwd: tmp,
          }),
        );
        assert(restoredOut.some((l) => l.includes("master key from the backup")));
        assertStringIncludes(restoredOut.at(-1)!, "is in restored.toml");
        assertEquals(await Deno.readTextFile(`${tmp}/restored.toml`), configText);
        assert((await listDir(target.FUMI_DATA_DIR!)).includes("master.key"));
        assertEquals(
          (await Deno.readTextFile(`${target.FUMI_DATA_DIR}/master.key`)).trim(),
          env.FUMI_MASTER_KEY,
        );
        assertEquals(await withRestored(target, view), before);
      });
    });
  });
});
