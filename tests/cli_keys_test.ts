/**
 * `fumi keys`: listing and rotating the master key with master.key, FUMI_MASTER_KEY or the
 * systemd credential, and every way the key can be wrong, in process through `runCli` with a
 * fake terminal (tests/cli.ts). Mail delivered before a rotation stays readable after it.
 *
 * The test works on one embedded data directory through many steps; where a step only needs
 * the database, a store opened by the test owns the embedded PGlite and the commands join it.
 *
 * @module
 */

import type { Store } from "../src/store/open.ts";
import { decodeBase64 } from "../src/util/base64.ts";
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertStringIncludes,
} from "./assert.ts";
import {
  assertFails,
  assertOk,
  type Env,
  fumi,
  listDir,
  newDataDir,
  runEntries,
  storeFor,
  withTempDir,
} from "./cli.ts";
import { GOOD_PASSWORD, sampleMessage } from "./store.ts";

Deno.test("master keys: rotate, list, and every way the key can be wrong", async (t) => {
  await withTempDir(async (tmp) => {
    const dataDir = `${tmp}/data`;
    const keyFile = `${dataDir}/master.key`;
    await newDataDir(dataDir);
    const env: Env = { FUMI_DATA_DIR: dataDir };
    const run = (argv: string[], extra: Env = {}) =>
      fumi(argv, { env: { ...env, ...extra }, cwd: tmp });
    const readKeys = async () =>
      (await Deno.readTextFile(keyFile)).split("\n").filter((k) => k !== "");
    const stores: Store[] = [];
    const open = async (extra: Env = {}) => {
      const store = await storeFor({ ...env, ...extra });
      stores.push(store);
      return store;
    };
    const close = async (store: Store) => {
      stores.splice(stores.indexOf(store), 1);
      await store.close();
    };
    const message = sampleMessage("rotation");
    let delivered = { accountId: 0, messageId: 0 };
    let firstKey = "";
    let firstId = "";
    try {
      await t.step("keys list on a new data directory creates and shows the file key", async () => {
        const result = await run(["keys", "list"]);
        assertEquals(result.code, 0, JSON.stringify(result));
        assertMatch(result.err.join("\n"), /created a new master key/);
        assertEquals(result.out[0], `Master key source: ${keyFile}`);
        assertEquals(result.out.length, 2);
        const row = /^([0-9a-f]{8}) +primary +(\d+) data key\(s\) +available +created \d{4}-/.exec(
          result.out[1]!,
        );
        assert(row, result.out[1]);
        firstId = row[1]!;
        firstKey = (await readKeys())[0]!;
        assertEquals(await readKeys(), [firstKey]);
      });

      await t.step("a message delivered before rotation", async () => {
        const store = await open();
        await store.domains.add("example.org");
        const alice = await store.accounts.create({
          address: "alice@example.org",
          password: GOOD_PASSWORD,
        });
        const [copy] = await store.messages.deliver(message, [{ accountId: alice.id }]);
        delivered = { accountId: alice.id, messageId: copy!.messageId };
        await close(store);
      });

      await t.step(
        "keys rotate with the file: a new key alone in master.key, mail still readable",
        async () => {
          // A running server (this store) with the old key in memory and no data key cached.
          const live = await open();
          const result = await run(["keys", "rotate"]);
          assertEquals(result.code, 0, JSON.stringify(result));
          const primary = /^Master key ([0-9a-f]{8}) is primary; re-wrapped (\d+) data key\(s\)\.$/
            .exec(result.out[0]!);
          assert(primary, JSON.stringify(result.out));
          assertNotEquals(primary[1], firstId);
          assert(Number(primary[2]) >= 1, "alice's data key was re-wrapped");
          assertEquals(result.out.slice(1), [
            `Retired master key(s): ${firstId}.`,
            `${keyFile} now holds only the new key; back it up.`,
          ]);
          for (const line of result.err) assertMatch(line, /^re-wrapping data keys: \d+\/\d+$/);

          const keys = await readKeys();
          assertEquals(keys.length, 1);
          assertNotEquals(keys[0], firstKey);
          assertEquals(decodeBase64(keys[0]!)?.length, 32);
          assertEquals((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
          assertEquals((await listDir(dataDir)).filter((n) => n.startsWith("master.key")), [
            "master.key",
          ]);

          // The live server re-reads the key source when it meets the new key.
          assertEquals(await live.messages.read(delivered.accountId, delivered.messageId), message);
          await close(live);
          const fresh = await open();
          assertEquals(
            await fresh.messages.read(delivered.accountId, delivered.messageId),
            message,
          );

          const list = assertOk(await run(["keys", "list"]));
          assertEquals(list[0], `Master key source: ${keyFile}`);
          assertEquals(list.length, 3);
          assertMatch(
            list.find((l) => l.startsWith(firstId)) ?? "",
            /retired +0 data key\(s\) +not in source/,
          );
          assertMatch(
            list.find((l) => l.startsWith(primary[1]!)) ?? "",
            /primary +\d+ data key\(s\) +available/,
          );
          // `fresh` stays open and owns the database for the next steps.
        },
      );

      const current = async () => (await readKeys())[0]!;
      const other = assertOk(await run(["keys", "generate"]))[0]!;

      await t.step("a wrong FUMI_MASTER_KEY is refused with one clear line", async () => {
        const result = await run(["user", "list"], { FUMI_MASTER_KEY: other });
        assertFails(result, 2, "The master key does not match this database: it needs key");
        assertStringIncludes(result.err[0]!, "but FUMI_MASTER_KEY holds");
        assertFails(
          await run(["keys", "list"], { FUMI_MASTER_KEY: "not-a-key" }),
          2,
          "FUMI_MASTER_KEY: key 1 is not 32 bytes of base64",
        );
        // An empty variable counts as unset.
        assertOk(await run(["user", "list"], { FUMI_MASTER_KEY: " " }));
      });

      await t.step("master.key readable by others is refused, naming chmod", async () => {
        await Deno.chmod(keyFile, 0o644);
        try {
          assertFails(
            await run(["user", "list"]),
            2,
            `${keyFile} is readable by other users (mode 644); run: chmod 600 ${keyFile}`,
          );
        } finally {
          await Deno.chmod(keyFile, 0o600);
        }
        assertOk(await run(["user", "list"]));
      });

      await t.step("the systemd credential is used when FUMI_MASTER_KEY is unset", async () => {
        const credentials = `${tmp}/credentials`;
        await Deno.mkdir(credentials);
        await Deno.writeTextFile(`${credentials}/master-key`, `${await current()}\n`);
        const aside = `${tmp}/master.key.aside`;
        await Deno.rename(keyFile, aside);
        try {
          const withCredential = { CREDENTIALS_DIRECTORY: credentials };
          const list = assertOk(await run(["keys", "list"], withCredential));
          assertEquals(list[0], "Master key source: systemd credential master-key");
          const rotate = await run(["keys", "rotate"], withCredential);
          assertFails(rotate, 2, "systemd credential master-key holds only the current key");
          assertStringIncludes(rotate.err[0]!, "fumi keys generate");
          assertStringIncludes(rotate.err[0]!, "(NEW,OLD)");
          // FUMI_MASTER_KEY comes first.
          assertFails(
            await run(["keys", "list"], { ...withCredential, FUMI_MASTER_KEY: other }),
            2,
            "but FUMI_MASTER_KEY holds",
          );
          await Deno.writeTextFile(`${credentials}/master-key`, `${other}\n`);
          assertFails(
            await run(["keys", "list"], withCredential),
            2,
            "but systemd credential master-key holds",
          );
          // A credentials folder without master-key falls back to master.key.
          await Deno.remove(`${credentials}/master-key`);
          await Deno.rename(aside, keyFile);
          assertEquals(
            assertOk(await run(["keys", "list"], withCredential))[0],
            `Master key source: ${keyFile}`,
          );
        } finally {
          await Deno.rename(aside, keyFile).catch(() => {});
        }
      });

      await t.step(
        "no master key anywhere for an existing database: refused, none created",
        async () => {
          const aside = `${tmp}/master.key.aside`;
          await Deno.rename(keyFile, aside);
          try {
            assertFails(
              await run(["user", "list"]),
              2,
              `This database holds encrypted data but no master key was found: set FUMI_MASTER_KEY, provide the systemd credential master-key, or restore ${keyFile}`,
            );
            assertEquals((await listDir(dataDir)).includes("master.key"), false);
          } finally {
            await Deno.rename(aside, keyFile);
          }
        },
      );

      await t.step(
        "FUMI_MASTER_KEY on a new data directory: used, no master.key written",
        async () => {
          const newDir = `${tmp}/other`;
          await newDataDir(newDir);
          const key = assertOk(await run(["keys", "generate"]))[0]!;
          const result = await fumi(["keys", "list"], {
            env: { FUMI_DATA_DIR: newDir, FUMI_MASTER_KEY: key },
          });
          assertEquals(assertOk(result)[0], "Master key source: FUMI_MASTER_KEY");
          assertEquals(await listDir(newDir), ["pg", "run"]);
        },
      );

      await t.step("keys rotate with FUMI_MASTER_KEY: NEW,OLD, then NEW alone", async () => {
        const old = await current();
        const single = await run(["keys", "rotate"], { FUMI_MASTER_KEY: old });
        assertFails(single, 2, "FUMI_MASTER_KEY holds only the current key");
        assertStringIncludes(
          single.err[0]!,
          "To rotate: generate a key (fumi keys generate), set it first and the current key after it (NEW,OLD), run fumi keys rotate, then remove OLD",
        );

        const fresh = other;
        const rotated = await run(["keys", "rotate"], { FUMI_MASTER_KEY: `${fresh},${old}` });
        assertEquals(rotated.code, 0, JSON.stringify(rotated));
        assertMatch(
          rotated.out[0]!,
          /^Master key [0-9a-f]{8} is primary; re-wrapped [1-9]\d* data key\(s\)\.$/,
        );
        assertMatch(
          rotated.out.at(-1)!,
          /^Every data key is wrapped with [0-9a-f]{8}; remove the old key\(s\) from FUMI_MASTER_KEY\.$/,
        );

        const list = assertOk(await run(["keys", "list"], { FUMI_MASTER_KEY: fresh }));
        assertEquals(list[0], "Master key source: FUMI_MASTER_KEY");
        assertOk(await run(["user", "list"], { FUMI_MASTER_KEY: fresh }));
        const reader = await open({ FUMI_MASTER_KEY: fresh });
        assertEquals(await reader.messages.read(delivered.accountId, delivered.messageId), message);
        // master.key still holds the retired key, which no longer opens the database.
        assertFails(await run(["user", "list"]), 2, "The master key does not match this database");
      });
    } finally {
      for (const store of stores.splice(0).reverse()) await store.close();
    }
    assertEquals(await runEntries(dataDir), []);
  });
});
