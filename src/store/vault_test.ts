import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { GOOD_PASSWORD, sampleMessage, withStore } from "../../tests/store.ts";
import { DecryptError } from "../crypto/envelope.ts";
import { generateMasterKey } from "../crypto/master_key.ts";
import { MasterKeyError } from "./vault.ts";

Deno.test("stored columns are ciphertext; tampering in the database is detected", async () => {
  await withStore(async ({ store }) => {
    const a = await store.accounts.create({ address: "a@example.org", password: GOOD_PASSWORD });
    const [copy] = await store.messages.deliver(sampleMessage("tamper"), [{ accountId: a.id }]);
    const id = copy!.messageId;
    const [row] = await store.sql<{ raw: Uint8Array }[]>`select raw from messages where id = ${id}`;
    assertEquals(row!.raw[0], 1, "version byte");
    assert(!new TextDecoder().decode(row!.raw).includes("tamper"));

    // Flip one byte of the stored ciphertext.
    await store
      .sql`update messages set raw = set_byte(raw, 40, get_byte(raw, 40) # 1) where id = ${id}`;
    await assertRejects(() => store.messages.read(a.id, id), DecryptError);
  });
});

Deno.test("a ciphertext copied to another row or another column fails to decrypt", async () => {
  await withStore(async ({ store }) => {
    const a = await store.accounts.create({ address: "a@example.org", password: GOOD_PASSWORD });
    const [one] = await store.messages.deliver(sampleMessage("one"), [{ accountId: a.id }]);
    const [two] = await store.messages.deliver(sampleMessage("two"), [{ accountId: a.id }]);
    // Another row, same column, same account and key.
    await store.sql`update messages set raw = (select raw from messages where id = ${
      one!.messageId
    })
                    where id = ${two!.messageId}`;
    await assertRejects(() => store.messages.read(a.id, two!.messageId), DecryptError);
    assertEquals(await store.messages.read(a.id, one!.messageId), sampleMessage("one"));
    // Another column of the same row.
    await store.sql`update messages set envelope = structure where id = ${one!.messageId}`;
    await assertRejects(() => store.messages.readCache(a.id, one!.messageId), DecryptError);
    // A wrapped data key moved to another account's row.
    const b = await store.accounts.create({ address: "b@example.org", password: GOOD_PASSWORD });
    const [ofB] = await store.messages.deliver(sampleMessage("b"), [{ accountId: b.id }]);
    await store
      .sql`update data_keys set wrapped = (select wrapped from data_keys where account_id = ${a.id})
                    where account_id = ${b.id}`;
    store.vault.forget(b.id);
    await assertRejects(() => store.messages.read(b.id, ofB!.messageId), DecryptError);
  });
});

Deno.test("the wrong master key is refused at start; the right one reads everything", async () => {
  await withStore(async ({ store, masterKey, reopen }) => {
    const a = await store.accounts.create({ address: "a@example.org", password: GOOD_PASSWORD });
    const [copy] = await store.messages.deliver(sampleMessage("keyed"), [{ accountId: a.id }]);
    const error = await assertRejects(() => reopen(generateMasterKey()), MasterKeyError);
    assert(error.message.startsWith("The master key does not match this database"), error.message);
    assert(!error.message.includes(masterKey));
    const again = await reopen(masterKey);
    assertEquals(await again.messages.read(a.id, copy!.messageId), sampleMessage("keyed"));
  });
});
