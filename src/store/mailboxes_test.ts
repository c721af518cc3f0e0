import { assert, assertEquals, assertNotEquals, assertRejects } from "../../tests/assert.ts";
import { GOOD_PASSWORD, sampleMessage, withStore } from "../../tests/store.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../util/errors.ts";
import type { Store } from "./open.ts";

async function alice(store: Store): Promise<number> {
  return (await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD }))
    .id;
}

async function names(store: Store, accountId: number): Promise<string[]> {
  return (await store.mailboxes.list(accountId)).map((m) => m.name);
}

Deno.test("counts: messages, unseen, deleted and size", async () => {
  await withStore(async ({ store }) => {
    const id = await alice(store);
    const inbox = await store.mailboxes.get(id, "INBOX");
    assertEquals(await store.mailboxes.counts(inbox.id), {
      messages: 0,
      unseen: 0,
      deleted: 0,
      size: 0,
    });
    const raw = sampleMessage();
    await store.messages.deliver(raw, [{ accountId: id }]);
    await store.messages.deliver(raw, [{ accountId: id, flags: ["\\Seen", "\\Deleted"] }]);
    assertEquals(await store.mailboxes.counts(inbox.id), {
      messages: 2,
      unseen: 1,
      deleted: 1,
      size: 2 * raw.length,
    });
  });
});

Deno.test("subscribe and unsubscribe; an unknown mailbox is NotFoundError", async () => {
  await withStore(async ({ store }) => {
    const id = await alice(store);
    await store.mailboxes.setSubscribed(id, "Archive", false);
    assertEquals((await store.mailboxes.get(id, "Archive")).subscribed, false);
    await store.mailboxes.setSubscribed(id, "Archive", true);
    assertEquals((await store.mailboxes.get(id, "Archive")).subscribed, true);
    await assertRejects(() => store.mailboxes.setSubscribed(id, "Nope", true), NotFoundError);
  });
});

Deno.test("rename: children follow, UIDVALIDITY changes, names are checked", async () => {
  await withStore(async ({ store }) => {
    const id = await alice(store);
    const before = await store.mailboxes.create(id, "Projects");
    await store.mailboxes.create(id, "Projects/Fumi");
    await store.mailboxes.create(id, "Projectsish");
    await store.mailboxes.rename(id, "Projects", "Work");
    const all = await names(store, id);
    assert(all.includes("Work") && all.includes("Work/Fumi"), all.join());
    assert(all.includes("Projectsish") && !all.includes("Projects"), all.join());
    const after = await store.mailboxes.get(id, "Work");
    assertEquals(after.id, before.id);
    assertNotEquals(after.uidValidity, before.uidValidity);
    await assertRejects(() => store.mailboxes.rename(id, "Work", "Archive"), ConflictError);
    await assertRejects(() => store.mailboxes.rename(id, "Work", "INBOX"), ConflictError);
    await assertRejects(() => store.mailboxes.rename(id, "Gone", "Else"), NotFoundError);
    await assertRejects(() => store.mailboxes.rename(id, "Work", "a//b"), InvalidInputError);
    // Names are cut by characters, not UTF-16 units: an emoji parent keeps its children whole.
    await store.mailboxes.create(id, "😀");
    await store.mailboxes.create(id, "😀/x");
    await store.mailboxes.rename(id, "😀", "b");
    assert((await names(store, id)).includes("b/x"));
  });
});

Deno.test("rename: missing superiors are created; a mailbox cannot move below itself", async () => {
  await withStore(async ({ store }) => {
    const id = await alice(store);
    await store.mailboxes.create(id, "Old");
    await store.mailboxes.create(id, "Old/kid");
    // RFC 9051 §6.3.6: "SHOULD create any superior hierarchical names".
    await store.mailboxes.rename(id, "Old", "New/deep/er");
    const all = await names(store, id);
    for (const n of ["New", "New/deep", "New/deep/er", "New/deep/er/kid"]) {
      assert(all.includes(n), `${n} in ${all.join()}`);
    }
    await assertRejects(
      () => store.mailboxes.rename(id, "New", "New/deep/x"),
      InvalidInputError,
    );
    // A level left by DELETE ("Up" below) is free to take: "Up/x" moves up into it.
    for (const n of ["Up", "Up/x", "Up/x/y"]) await store.mailboxes.create(id, n);
    await store.mailboxes.remove(id, "Up");
    await store.mailboxes.rename(id, "Up/x", "Up");
    const after = await names(store, id);
    assert(after.includes("Up") && after.includes("Up/y") && !after.includes("Up/x"), after.join());
    // Renaming INBOX below a new level creates the level too.
    await store.mailboxes.rename(id, "INBOX", "Saved/inbox");
    assert((await names(store, id)).includes("Saved"));
  });
});

Deno.test("rename INBOX: its messages move to the new mailbox, INBOX stays, empty", async () => {
  await withStore(async ({ store }) => {
    const id = await alice(store);
    await store.messages.deliver(sampleMessage("one"), [{ accountId: id, flags: ["\\Seen"] }]);
    await store.messages.deliver(sampleMessage("two"), [{ accountId: id }]);
    await store.mailboxes.rename(id, "INBOX", "Old mail");
    const inbox = await store.mailboxes.get(id, "INBOX");
    const old = await store.mailboxes.get(id, "Old mail");
    assertEquals(await store.messages.list(inbox.id), []);
    const moved = await store.messages.list(old.id);
    assertEquals(moved.map((m) => [m.uid, m.flags]), [[1, ["\\Seen"]], [2, []]]);
    assertEquals(old.uidNext, 3);
    const text = new TextDecoder().decode(await store.messages.read(id, moved[1]!.messageId));
    assert(text.includes("two"));
  });
});

Deno.test("remove: messages and their quota go, the mailboxes below stay; INBOX is refused", async () => {
  await withStore(async ({ store }) => {
    const id = await alice(store);
    const box = await store.mailboxes.create(id, "Lists");
    await store.mailboxes.create(id, "Lists/deno");
    const raw = sampleMessage();
    await store.messages.deliver(raw, [{ accountId: id, mailbox: "Lists" }]);
    assertEquals((await store.accounts.getById(id)).usedBytes, raw.length);
    // RFC 9051 §6.3.5: DELETE "MUST NOT remove inferior hierarchical names".
    await store.mailboxes.remove(id, "Lists");
    assertEquals(await store.mailboxes.find(id, "Lists"), null);
    assert((await store.mailboxes.find(id, "Lists/deno")) !== null);
    assertEquals((await store.accounts.getById(id)).usedBytes, 0);
    assertEquals(await store.messages.list(box.id), []);
    await assertRejects(() => store.mailboxes.remove(id, "inbox"), InvalidInputError);
    await assertRejects(() => store.mailboxes.remove(id, "Lists"), NotFoundError);
  });
});

Deno.test("expungedSince lists UIDs expunged after a modseq", async () => {
  await withStore(async ({ store }) => {
    const id = await alice(store);
    const inbox = await store.mailboxes.get(id, "INBOX");
    for (const marker of ["a", "b", "c"]) {
      await store.messages.deliver(sampleMessage(marker), [{ accountId: id }]);
    }
    const before = (await store.mailboxes.get(id, "INBOX")).highestModseq;
    assertEquals(await store.messages.expunge(inbox.id, [2]), []); // not \Deleted: kept
    await store.messages.setFlags(inbox.id, [1, 3], "add", ["\\Deleted"]);
    assertEquals(await store.messages.expunge(inbox.id), [1, 3]);
    assertEquals(await store.messages.expungedSince(inbox.id, before), [1, 3]);
    const now = (await store.mailboxes.get(id, "INBOX")).highestModseq;
    assertEquals(await store.messages.expungedSince(inbox.id, now), []);
  });
});
