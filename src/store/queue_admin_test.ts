import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { GOOD_PASSWORD, sampleMessage, withStore } from "../../tests/store.ts";
import { InvalidInputError, NotFoundError } from "../util/errors.ts";
import type { Store } from "./open.ts";
import type { NewQueueEntry } from "./queue.ts";

async function queue(
  store: Store,
  marker: string,
  overrides: Partial<NewQueueEntry> = {},
): Promise<number> {
  const prepared = await store.queue.prepare({
    accountId: null,
    sender: `${marker}@example.org`,
    envid: null,
    ret: null,
    message: sampleMessage(marker),
    recipients: [
      { address: `bob-${marker}@remote.example`, notify: null, orcpt: null },
      { address: `carol-${marker}@other.example`, notify: "NEVER", orcpt: null },
    ],
    ...overrides,
  });
  return await store.sql.begin((tx) => store.queue.insert(tx, prepared));
}

/** Moves every recipient's next attempt an hour ahead, as a deferral would. */
async function deferAll(store: Store): Promise<void> {
  await store.sql`update queue_recipients set next_attempt_at = now() + interval '1 hour'`;
}

Deno.test("queue admin: list filters by held, status, sender, recipient and account", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const one = await queue(store, "one", { accountId: alice.id });
    const two = await queue(store, "two");
    const three = await queue(store, "three", { sender: "" });
    assertEquals(await store.queueAdmin.list(), await store.queueAdmin.list({}));
    const all = await store.queueAdmin.list();
    assertEquals(all.map((m) => [m.id, m.sender, m.account, m.heldAt]), [
      [one, "one@example.org", "alice@example.org", null],
      [two, "two@example.org", null, null],
      [three, "", null, null],
    ]);
    assertEquals(all[0]!.recipients.map((r) => [r.address, r.status, r.remoteHost]), [
      ["bob-one@remote.example", "queued", null],
      ["carol-one@other.example", "queued", null],
    ]);

    await store.queueAdmin.hold(two, "looks odd");
    const [bob] = (await store.queueAdmin.list({ sender: "ONE@" }))[0]!.recipients;
    await store.queueWork.record([bob!.id], {
      kind: "failed",
      remoteHost: "mx.remote.example",
      error: "550 5.1.1 No such user",
    });
    const ids = async (filter: Parameters<Store["queueAdmin"]["list"]>[0]) =>
      (await store.queueAdmin.list(filter)).map((m) => m.id);
    assertEquals(await ids({ held: true }), [two]);
    assertEquals(await ids({ held: false }), [one, three]);
    assertEquals(await ids({ status: "failed" }), [one]);
    assertEquals(await ids({ status: "queued" }), [one, two, three]);
    assertEquals(await ids({ status: "delivered" }), []);
    assertEquals(await ids({ sender: "two" }), [two]);
    assertEquals(await ids({ recipient: "CAROL-THREE" }), [three]);
    assertEquals(await ids({ recipient: "%" }), []); // a substring, not a LIKE pattern
    assertEquals(await ids({ accountId: alice.id }), [one]);
    assertEquals(await ids({ held: false, status: "failed", sender: "one" }), [one]);
    const failed = (await store.queueAdmin.list({ status: "failed" }))[0]!.recipients[0]!;
    assertEquals(
      [failed.status, failed.attempts, failed.lastError, failed.remoteHost],
      ["failed", 1, "550 5.1.1 No such user", "mx.remote.example"],
    );
    assert(failed.finishedAt !== null && failed.lastAttemptAt !== null);
  });
});

Deno.test("queue admin: show decrypts the header only when asked; unknown ids are NotFound", async () => {
  await withStore(async ({ store }) => {
    const id = await queue(store, "show", { envid: "ENV1", ret: "HDRS" });
    const plain = await store.queueAdmin.show(id);
    assertEquals(plain.headers, null);
    assertEquals([plain.id, plain.envid, plain.ret, plain.recipients.length], [
      id,
      "ENV1",
      "HDRS",
      2,
    ]);
    const detail = await store.queueAdmin.show(id, { headers: true });
    assert(detail.headers!.startsWith("From: Sender show <sender-show@remote.example>\r\n"));
    assert(detail.headers!.includes("Subject: Secret subject show\r\n"));
    assert(!detail.headers!.includes("show-body"), "the body stays sealed");
    for (
      const call of [
        () => store.queueAdmin.show(999_999),
        () => store.queueAdmin.retry(999_999),
        () => store.queueAdmin.hold(999_999),
        () => store.queueAdmin.release(999_999),
        () => store.queueAdmin.remove(999_999),
      ]
    ) {
      await assertRejects(call, NotFoundError, "No queued message 999999");
    }
  });
});

Deno.test("queue admin: retry makes queued recipients due now, one message or all", async () => {
  await withStore(async ({ store }) => {
    const one = await queue(store, "one");
    const two = await queue(store, "two");
    await deferAll(store);
    assertEquals(await store.queueWork.claim(10, 60_000), []);
    assertEquals(await store.queueAdmin.retry(one), 2);
    const claimed = await store.queueWork.claim(10, 60_000);
    assertEquals(claimed.map((c) => c.queueMessageId), [one, one]);
    await store.queueWork.record([claimed[0]!.id], {
      kind: "delivered",
      remoteHost: "mx",
      reply: "250 ok",
    });
    await store.queueWork.release([claimed[1]!.id]);
    await deferAll(store);
    // Only queued recipients: the delivered one is left alone.
    assertEquals(await store.queueAdmin.retry("all"), 3);
    assertEquals((await store.queueWork.claim(10, 60_000)).length, 3);
    assertEquals(await store.queueAdmin.retry(two), 2);
  });
});

Deno.test("queue admin: a held message is not claimed until released", async () => {
  await withStore(async ({ store }) => {
    const id = await queue(store, "held");
    const held = await store.queueAdmin.hold(id, "spam\r\nsuspect");
    assertEquals(held.changed, true);
    assertEquals(held.message.heldReason, "spam suspect");
    assert(held.message.heldAt !== null);
    assertEquals(await store.queueWork.claim(10, 60_000), []);
    const again = await store.queueAdmin.hold(id);
    assertEquals(again.changed, false);
    assertEquals(again.message.heldAt, held.message.heldAt, "the first hold time stays");
    assertEquals(again.message.heldReason, "spam suspect");
    assertEquals((await store.queueAdmin.hold(id, "newer")).message.heldReason, "newer");
    await assertRejects(
      () => store.queueAdmin.hold(id, "x".repeat(501)),
      InvalidInputError,
      "at most 500",
    );
    const plain = await queue(store, "plain");
    assertEquals(
      (await store.queueAdmin.hold(plain)).message.heldReason,
      "held by an administrator",
    );

    await deferAll(store);
    const released = await store.queueAdmin.release(id);
    assertEquals([released.changed, released.message.heldAt, released.message.heldReason], [
      true,
      null,
      null,
    ]);
    // Released recipients are due at once, though they had been deferred.
    assertEquals((await store.queueWork.claim(10, 60_000)).map((c) => c.queueMessageId), [id, id]);
    assertEquals((await store.queueAdmin.release(id)).changed, false);
  });
});

Deno.test("queue admin: remove deletes a message and its recipients, and says what it was", async () => {
  await withStore(async ({ store }) => {
    const id = await queue(store, "gone");
    const keep = await queue(store, "keep");
    const removed = await store.queueAdmin.remove(id);
    assertEquals(removed.id, id);
    assertEquals(removed.sender, "gone@example.org");
    assertEquals(removed.recipients.length, 2);
    assertEquals((await store.queueAdmin.list()).map((m) => m.id), [keep]);
    const [count] = await store.sql<{ n: number }[]>`
      select count(*)::int as n from queue_recipients where queue_message_id = ${id}`;
    assertEquals(count!.n, 0);
    await assertRejects(() => store.queue.read(id), NotFoundError);
  });
});

Deno.test("queue admin: an account on hold has new and queued mail held, until released", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const bob = await store.accounts.create({
      address: "bob@example.org",
      password: GOOD_PASSWORD,
    });
    assertEquals(await store.queueAdmin.isAccountHeld(alice.id), false);
    assertEquals(await store.queueAdmin.accountHold(alice.id), null);
    assertEquals(await store.queueAdmin.isAccountHeld(999_999), false);

    const before = await queue(store, "before", { accountId: alice.id });
    const done = await queue(store, "done", { accountId: alice.id });
    await store.sql`update queue_recipients set status = 'delivered'
      where queue_message_id = ${done}`;
    const bobs = await queue(store, "bobs", { accountId: bob.id });

    // Holding the account holds what it has queued and not finished.
    assertEquals(await store.queueAdmin.holdAccount("Alice@Example.org", "phished"), [before]);
    assertEquals(await store.queueAdmin.isAccountHeld(alice.id), true);
    const hold = await store.queueAdmin.accountHold(alice.id);
    assertEquals(hold?.reason, "phished");
    assertEquals(await store.queueAdmin.heldAccounts(), [
      { address: "alice@example.org", heldAt: hold!.heldAt, reason: "phished" },
    ]);
    // And what it queues from now on (the trigger of migration 0010), others' mail not.
    const after = await queue(store, "after", { accountId: alice.id });
    const bobsAfter = await queue(store, "bobs-after", { accountId: bob.id });
    const show = await store.queueAdmin.show(after);
    assert(show.heldAt !== null);
    assertEquals(show.heldReason, "account held: phished");
    assertEquals((await store.queueAdmin.show(before)).heldReason, "account held: phished");
    assertEquals((await store.queueAdmin.show(done)).heldAt, null);
    assertEquals((await store.queueAdmin.list({ held: true })).map((m) => m.id), [before, after]);
    const claimed = await store.queueWork.claim(10, 60_000);
    assertEquals(new Set(claimed.map((c) => c.queueMessageId)), new Set([bobs, bobsAfter]));

    // Holding again keeps the first time; unhold leaves the messages held for review.
    assertEquals(await store.queueAdmin.holdAccount("alice@example.org"), []);
    assertEquals((await store.queueAdmin.accountHold(alice.id))?.heldAt, hold!.heldAt);
    assertEquals(await store.queueAdmin.unholdAccount("alice@example.org"), [before, after]);
    assertEquals(await store.queueAdmin.isAccountHeld(alice.id), false);
    const later = await queue(store, "later", { accountId: alice.id });
    assertEquals((await store.queueAdmin.show(later)).heldAt, null);
    assertEquals(await store.queueAdmin.releaseAccount("alice@example.org"), [before, after]);
    assertEquals(await store.queueAdmin.list({ held: true }), []);
    assertEquals(await store.queueAdmin.releaseAccount("alice@example.org"), []);
    await assertRejects(
      () => store.queueAdmin.holdAccount("nobody@example.org"),
      NotFoundError,
      'No account "nobody@example.org"',
    );
    await assertRejects(() => store.queueAdmin.unholdAccount("nobody@example.org"), NotFoundError);
    await assertRejects(() => store.queueAdmin.releaseAccount("nobody@example.org"), NotFoundError);
  });
});

Deno.test("queue admin: a message queued while its account is being held is held too", async () => {
  await withStore(async ({ store, db }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    if (db.kind !== "postgres") return; // one connection at a time on PGlite: no race to test
    const prepared = await store.queue.prepare({
      accountId: alice.id,
      sender: "alice@example.org",
      envid: null,
      ret: null,
      message: sampleMessage("race"),
      recipients: [{ address: "bob@remote.example", notify: null, orcpt: null }],
    });
    // The message's transaction is open (its trigger read the account) when the hold starts:
    // the hold waits for it and then holds it.
    let releaseInsert = () => {};
    const inserted = new Promise<void>((resolve) => (releaseInsert = resolve));
    let insertedSignal = () => {};
    const insertDone = new Promise<void>((resolve) => (insertedSignal = resolve));
    const insert = store.sql.begin(async (tx) => {
      await store.queue.insert(tx, prepared);
      insertedSignal();
      await inserted;
    });
    await insertDone;
    const hold = store.queueAdmin.holdAccount("alice@example.org", "race");
    await new Promise((resolve) => setTimeout(resolve, 200));
    releaseInsert();
    await insert;
    assertEquals(await hold, [prepared.id]);
    assertEquals((await store.queueAdmin.show(prepared.id)).heldReason, "account held: race");
  });
});

Deno.test("queue admin: a message queued while a hold is being made waits for it and is held", async () => {
  await withStore(async ({ store, db }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    if (db.kind !== "postgres") return; // one connection at a time on PGlite: no race to test
    const prepared = await store.queue.prepare({
      accountId: alice.id,
      sender: "alice@example.org",
      envid: null,
      ret: null,
      message: sampleMessage("race2"),
      recipients: [{ address: "bob@remote.example", notify: null, orcpt: null }],
    });
    // What holdAccount does first, kept open: the account row locked and the flag set.
    let commitHold = () => {};
    const holdMayCommit = new Promise<void>((resolve) => (commitHold = resolve));
    let locked = () => {};
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const hold = store.sql.begin(async (tx) => {
      await tx`select 1 from accounts where id = ${alice.id} for update`;
      await tx`update accounts set outbound_held_at = now(), outbound_held_reason = 'race'
        where id = ${alice.id}`;
      locked();
      await holdMayCommit;
    });
    await isLocked;
    let insertDone = false;
    const insert = store.sql.begin((tx) => store.queue.insert(tx, prepared)).then(() => {
      insertDone = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assertEquals(insertDone, false, "the queueing trigger waits for the hold");
    commitHold();
    await hold;
    await insert;
    assertEquals((await store.queueAdmin.show(prepared.id)).heldReason, "account held: race");
  });
});
