import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { GOOD_PASSWORD, sampleMessage, withStore } from "../../tests/store.ts";
import { generateMasterKey, parseMasterKeyRing } from "../crypto/master_key.ts";
import { rotateDataKeys, rotationComplete } from "./rotate.ts";
import { formatKeyId, MasterKeyError } from "./vault.ts";

Deno.test("rotation re-wraps every data key and keeps every message readable", async () => {
  await withStore(async ({ store, masterKey, reopen }) => {
    const stored: { accountId: number; messageId: number; raw: Uint8Array }[] = [];
    for (const name of ["a", "b", "c"]) {
      const account = await store.accounts.create({
        address: `${name}@example.org`,
        password: GOOD_PASSWORD,
      });
      for (let i = 0; i < 2; i++) {
        const raw = sampleMessage(`${name}${i}`);
        const [copy] = await store.messages.deliver(raw, [{ accountId: account.id }]);
        stored.push({ accountId: account.id, messageId: copy!.messageId, raw });
      }
    }
    const [before] = await store.sql<
      { raw: Uint8Array }[]
    >`select raw from messages order by id limit 1`;

    const fresh = generateMasterKey();
    const ring = await parseMasterKeyRing(`${fresh},${masterKey}`, "test");
    const progress: number[] = [];
    const report = await rotateDataKeys(store.sql, ring, (done) => progress.push(done));
    assertEquals(report.primary, formatKeyId(ring.primary.id));
    assertEquals(report.rewrapped, 3, "one data key per account");
    assertEquals(report.retired, [formatKeyId(ring.keys[1]!.id)]);
    assertEquals(progress.at(-1), 3);

    // Mail was not re-encrypted: the message ciphertext is byte for byte the same.
    const [after] = await store.sql<
      { raw: Uint8Array }[]
    >`select raw from messages order by id limit 1`;
    assertEquals(after!.raw, before!.raw);

    // A restart with only the new key reads everything; the old key alone is refused.
    const restarted = await reopen(fresh);
    for (const m of stored) {
      assertEquals(await restarted.messages.read(m.accountId, m.messageId), m.raw);
    }
    await assertRejects(() => reopen(masterKey), MasterKeyError);
  });
});

Deno.test("an interrupted rotation keeps both keys readable and finishes when run again", async () => {
  await withStore(async ({ store, masterKey, reopen }) => {
    const ids: { accountId: number; messageId: number }[] = [];
    for (const name of ["a", "b", "c"]) {
      const account = await store.accounts.create({
        address: `${name}@example.org`,
        password: GOOD_PASSWORD,
      });
      const [copy] = await store.messages.deliver(sampleMessage(name), [{ accountId: account.id }]);
      ids.push({ accountId: account.id, messageId: copy!.messageId });
    }
    const fresh = generateMasterKey();
    const ring = await parseMasterKeyRing(`${fresh}\n${masterKey}`, "test");
    await assertRejects(
      () =>
        rotateDataKeys(store.sql, ring, (done) => {
          if (done === 1) throw new Error("power cut");
        }, 1),
      Error,
      "power cut",
    );
    assert(!(await rotationComplete(store.sql, ring)));
    const [mixed] = await store.sql<
      { n: number }[]
    >`select count(distinct kek_id)::int as n from data_keys`;
    assertEquals(mixed!.n, 2, "some data keys under each master key");

    // Mid-rotation, a server holding both keys reads all mail.
    const both = await reopen(`${fresh},${masterKey}`);
    for (const m of ids) await both.messages.read(m.accountId, m.messageId);
    // The new key alone is not enough yet: the old key is still needed.
    await assertRejects(() => reopen(fresh), MasterKeyError);

    const report = await rotateDataKeys(store.sql, ring);
    assert(report.rewrapped >= 1);
    assert(await rotationComplete(store.sql, ring));
    const only = await reopen(fresh);
    for (const m of ids) await only.messages.read(m.accountId, m.messageId);
  });
});

Deno.test("a live server keeps working while the key file is rotated under it", async () => {
  await withStore(async ({ store, masterKey, reopen }) => {
    const a = await store.accounts.create({ address: "a@example.org", password: GOOD_PASSWORD });
    const [copy] = await store.messages.deliver(sampleMessage("live"), [{ accountId: a.id }]);
    const fresh = generateMasterKey();
    await rotateDataKeys(store.sql, await parseMasterKeyRing(`${fresh},${masterKey}`, "test"));
    // The running store had the old key only; its cached data keys still work, and new accounts
    // need the new primary, which its (env) source cannot give it: a clear error, not garbage.
    assertEquals(await store.messages.read(a.id, copy!.messageId), sampleMessage("live"));
    await assertRejects(
      () => store.accounts.create({ address: "new@example.org", password: GOOD_PASSWORD }),
      MasterKeyError,
      "restart Fumi with the current master key",
    );
    const restarted = await reopen(fresh);
    await restarted.accounts.create({ address: "new@example.org", password: GOOD_PASSWORD });
  });
});

Deno.test("rotation waits for a data key another transaction holds instead of skipping it", async () => {
  await withStore(async ({ store, db, masterKey }) => {
    for (const name of ["a", "b"]) {
      await store.accounts.create({ address: `${name}@example.org`, password: GOOD_PASSWORD });
    }
    const ring = await parseMasterKeyRing(`${generateMasterKey()},${masterKey}`, "test");
    const other = db.connectAgain();
    const held = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    // Another transaction (an account deletion in flight, say) holds one data key.
    const blocker = other.begin(async (tx) => {
      await tx`select id from data_keys order by id desc limit 1 for update`;
      held.resolve();
      await release.promise;
    });
    await held.promise;
    const rotation = rotateDataKeys(store.sql, ring);
    await new Promise((resolve) => setTimeout(resolve, 300));
    release.resolve();
    await blocker;
    const report = await rotation;
    assert(await rotationComplete(store.sql, ring), "no data key is left under the old key");
    assertEquals(report.retired, [formatKeyId(ring.keys[1]!.id)]);
  });
});
