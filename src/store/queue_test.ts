import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { GOOD_PASSWORD, sampleMessage, withStore } from "../../tests/store.ts";
import { DecryptError } from "../crypto/envelope.ts";
import { InvalidInputError, NotFoundError } from "../util/errors.ts";
import type { NewQueueEntry } from "./queue.ts";

function entry(marker: string, overrides: Partial<NewQueueEntry> = {}): NewQueueEntry {
  return {
    accountId: null,
    sender: `sender-${marker}@example.org`,
    envid: `env-${marker}`,
    ret: "HDRS",
    message: sampleMessage(marker),
    recipients: [
      {
        address: "bob@remote.example",
        notify: "FAILURE,DELAY",
        orcpt: "rfc822;bob@remote.example",
      },
      { address: "carol@other.example", notify: null, orcpt: null },
    ],
    ...overrides,
  };
}

Deno.test("queue: a prepared entry inserted in a transaction reads back with its recipients", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const prepared = await store.queue.prepare(entry("round", { accountId: alice.id }));
    const id = await store.sql.begin((tx) => store.queue.insert(tx, prepared));
    assertEquals(id, prepared.id);
    const read = await store.queue.read(id);
    assertEquals(read.message, sampleMessage("round"));
    assertEquals(read.accountId, alice.id);
    assertEquals(read.sender, "sender-round@example.org");
    assertEquals(read.envid, "env-round");
    assertEquals(read.ret, "HDRS");
    assertEquals(read.size, sampleMessage("round").length);
    assertEquals(
      read.recipients.map((r) => [r.address, r.notify, r.orcpt, r.status, r.attempts, r.lastError]),
      [
        ["bob@remote.example", "FAILURE,DELAY", "rfc822;bob@remote.example", "queued", 0, null],
        ["carol@other.example", null, null, "queued", 0, null],
      ],
    );
    assert(read.recipients[0]!.nextAttemptAt.getTime() <= Date.now() + 1000);

    const second = await store.queue.prepare(entry("two", { sender: "", ret: null, envid: null }));
    await store.sql.begin((tx) => store.queue.insert(tx, second));
    const listed = await store.queue.list();
    assertEquals(listed.map((s) => [s.id, s.sender, s.recipients.length]), [
      [id, "sender-round@example.org", 2],
      [second.id, "", 2],
    ]);
    assert(!("message" in listed[0]!), "list() carries no message bytes");

    // The submitter's deletion leaves the entry, readable (system key), without its account.
    await store.accounts.remove("alice@example.org");
    const orphan = await store.queue.read(id);
    assertEquals(orphan.accountId, null);
    assertEquals(orphan.message, sampleMessage("round"));
    await assertRejects(() => store.queue.read(999_999), NotFoundError);
  });
});

Deno.test("queue: nothing is written when the transaction fails; an entry needs recipients", async () => {
  await withStore(async ({ store }) => {
    const prepared = await store.queue.prepare(entry("rollback"));
    await assertRejects(() =>
      store.sql.begin(async (tx) => {
        await store.queue.insert(tx, prepared);
        throw new Error("abort");
      })
    );
    assertEquals(await store.queue.list(), []);
    const [count] = await store.sql<{ n: number }[]>`
      select count(*)::int as n from queue_recipients`;
    assertEquals(count!.n, 0);
    await assertRejects(
      () => store.queue.prepare(entry("none", { recipients: [] })),
      InvalidInputError,
    );
  });
});

Deno.test("queue: the message is sealed at rest and bound to its row", async () => {
  await withStore(async ({ store }) => {
    const one = await store.queue.prepare(entry("sealedone"));
    const two = await store.queue.prepare(entry("sealedtwo"));
    await store.sql.begin(async (tx) => {
      await store.queue.insert(tx, one);
      await store.queue.insert(tx, two);
    });
    const [row] = await store.sql<{ message: Uint8Array }[]>`
      select message from queue_messages where id = ${one.id}`;
    assertEquals(row!.message[0], 1, "version byte of the ciphertext format");
    const text = new TextDecoder("latin1").decode(row!.message);
    assert(!text.includes("sealedone"), "the column holds no plaintext");
    assert(!text.includes("Secret subject"));
    assertEquals(row!.message.length > sampleMessage("sealedone").length, true);

    // Moved to another row, the ciphertext no longer opens.
    await store.sql`update queue_messages set message = (
                      select message from queue_messages where id = ${one.id})
                    where id = ${two.id}`;
    await assertRejects(() => store.queue.read(two.id), DecryptError);
    assertEquals((await store.queue.read(one.id)).message, sampleMessage("sealedone"));
  });
});
