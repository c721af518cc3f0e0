import { assert, assertEquals } from "../../../tests/assert.ts";
import { MailboxChanges } from "../../store/changes.ts";
import type { Mailbox, MessageInfo } from "../../store/mod.ts";
import { SelectedMailbox } from "./selected.ts";
import { MailboxViews } from "./views.ts";

const MAILBOX_ID = 7;

/** A mailbox in memory with the read a view makes, counted. */
class FakeMailbox {
  rows: MessageInfo[] = [];
  expunged: { uid: number; modseq: number }[] = [];
  modseq = 0;
  reads = 0;
  /** When set, a read waits for it (to hold a refresh open). */
  gate: Promise<void> | null = null;
  readonly changes = new MailboxChanges();
  readonly messages = {
    changesSince: (_id: number, since: number, expungedSince: number | null) =>
      this.#read(() => ({
        highestModseq: this.modseq,
        changed: this.rows.filter((r) => r.modseq > since),
        expunged: expungedSince === null
          ? []
          : this.expunged.filter((e) => e.modseq > expungedSince).map((e) => e.uid),
      })),
  };

  async #read<T>(answer: () => T): Promise<T> {
    this.reads++;
    const value = answer(); // read now, answered after the gate: a slow query
    await this.gate;
    return value;
  }

  #mailbox(id: number): Mailbox {
    return {
      id,
      accountId: 1,
      name: "INBOX",
      specialUse: null,
      subscribed: true,
      uidValidity: 1,
      uidNext: (this.rows.at(-1)?.uid ?? 0) + 1,
      highestModseq: this.modseq,
    };
  }

  add(uid: number, flags: string[] = []): void {
    this.rows.push({
      uid,
      messageId: uid,
      flags,
      modseq: ++this.modseq,
      size: 100,
      internalDate: new Date(0),
    });
    this.changes.announce([MAILBOX_ID]);
  }

  flag(uid: number, flags: string[]): MessageInfo {
    const i = this.rows.findIndex((r) => r.uid === uid);
    this.rows[i] = { ...this.rows[i]!, flags, modseq: ++this.modseq };
    this.changes.announce([MAILBOX_ID]);
    return this.rows[i]!;
  }

  expunge(uid: number): void {
    this.rows = this.rows.filter((r) => r.uid !== uid);
    this.expunged.push({ uid, modseq: ++this.modseq });
    this.changes.announce([MAILBOX_ID]);
  }

  get box(): Mailbox {
    return this.#mailbox(MAILBOX_ID);
  }
}

function world(messages = 3) {
  const store = new FakeMailbox();
  for (let uid = 1; uid <= messages; uid++) store.add(uid);
  const views = new MailboxViews(store);
  const open = () => SelectedMailbox.open(views, store.box, false);
  return { store, views, open };
}

const EVERYTHING = { expunge: true, qresync: false, condstore: false };

Deno.test("views: sessions on one mailbox share one list, read once", async () => {
  const { store, views, open } = world(1000);
  const sessions = await Promise.all(Array.from({ length: 50 }, open));
  assertEquals(views.size, 1);
  assertEquals(store.reads, 1, "one read for all fifty");
  for (const s of sessions) assert(s.messages === sessions[0]!.messages, "the same array");
  assertEquals(sessions[0]!.exists, 1000);
  for (const s of sessions) s.close();
});

Deno.test("views: one delivery is read once for every session, each told EXISTS", async () => {
  const { store, open } = world();
  const sessions = await Promise.all(Array.from({ length: 20 }, open));
  const before = store.reads;
  store.add(4);
  const told = await Promise.all(sessions.map((s) => s.refresh(EVERYTHING)));
  for (const lines of told) assertEquals(lines, ["* 4 EXISTS\r\n"]);
  assertEquals(store.reads - before, 1, "read once for all");
  for (const s of sessions) assert(s.messages === sessions[0]!.messages);
  // Nothing announced: nothing read, nothing told.
  const after = store.reads;
  assertEquals(await sessions[0]!.refresh(EVERYTHING), []);
  assertEquals(store.reads, after);
  for (const s of sessions) s.close();
});

Deno.test("views: a flag change is a FETCH; with CONDSTORE it carries UID and MODSEQ", async () => {
  const { store, open } = world();
  const [a, b] = [await open(), await open()];
  const changed = store.flag(2, ["\\Seen"]);
  assertEquals(await a.refresh(EVERYTHING), ["* 2 FETCH (FLAGS (\\Seen))\r\n"]);
  assertEquals(await b.refresh({ ...EVERYTHING, condstore: true }), [
    `* 2 FETCH (FLAGS (\\Seen) UID 2 MODSEQ (${changed.modseq}))\r\n`,
  ]);
  assertEquals(a.highestModseq, changed.modseq);
  a.close();
  b.close();
});

Deno.test("views: an expunge waits for a command that allows it, then shares again", async () => {
  const { store, open } = world(5);
  const [a, b] = [await open(), await open()];
  store.expunge(2);
  store.add(6);
  // During FETCH, STORE or SEARCH (RFC 9051 §7.5.1): new mail yes, the expunge not yet.
  assertEquals(await a.refresh({ ...EVERYTHING, expunge: false }), ["* 6 EXISTS\r\n"]);
  assertEquals(a.messages.map((m) => m.uid), [1, 2, 3, 4, 5, 6]);
  assert(a.messages !== b.messages, "a keeps a copy while it owes the expunge");
  assertEquals(a.msnOf(3), 3, "numbers do not move under the client");
  assertEquals(await a.refresh(EVERYTHING), ["* 2 EXPUNGE\r\n"]);
  assertEquals(a.messages.map((m) => m.uid), [1, 3, 4, 5, 6]);
  // QRESYNC: VANISHED, and b's list becomes the shared one too.
  store.expunge(4);
  store.expunge(5);
  assertEquals(await b.refresh({ ...EVERYTHING, qresync: true }), [
    "* VANISHED 2,4:5\r\n",
    "* 3 EXISTS\r\n",
  ]);
  assertEquals(await a.refresh(EVERYTHING), ["* 4 EXPUNGE\r\n", "* 3 EXPUNGE\r\n"]);
  assert(a.messages === b.messages, "both back on the shared list");
  a.close();
  b.close();
});

Deno.test("views: a session's own STORE is not told back; others are told", async () => {
  const { store, open } = world();
  const [a, b] = [await open(), await open()];
  const changed = store.flag(1, ["\\Flagged"]);
  a.noteFlags(1, changed.flags, changed.modseq);
  assert(a.messages !== b.messages, "copy on write");
  assertEquals(await a.refresh(EVERYTHING), []);
  assertEquals(await b.refresh(EVERYTHING), ["* 1 FETCH (FLAGS (\\Flagged))\r\n"]);
  assert(a.messages === b.messages, "the copy is dropped once the snapshot shows the change");
  a.close();
  b.close();
});

Deno.test("views: a change announced during a refresh is read by another refresh", async () => {
  const { store, open } = world();
  const a = await open();
  let release!: () => void;
  store.gate = new Promise((resolve) => release = resolve);
  store.add(4); // announced: a's refresh starts reading, held at the gate
  const reads = store.reads;
  const first = a.refresh(EVERYTHING);
  store.add(5); // committed and announced while that read is held
  store.gate = null;
  release();
  assertEquals(await first, ["* 5 EXISTS\r\n"]);
  assertEquals(store.reads - reads, 2, "a second refresh, begun after the announcement");
  a.close();
});

Deno.test("views: a view nobody holds lingers for the next SELECT, then clear() drops it", async () => {
  const { store, views, open } = world();
  const a = await open();
  a.close();
  assertEquals(views.size, 1);
  const reads = store.reads;
  const b = await open();
  assertEquals(store.reads, reads, "selected again without reading the mailbox");
  b.close();
  views.clear();
  await new Promise((resolve) => setTimeout(resolve, 0)); // disposal follows the view's promise
  assertEquals(views.size, 0);
  assertEquals(store.changes.watched, 0, "no longer following the mailbox");
});

Deno.test("views: IDLE wakes on a change announced for the mailbox", async () => {
  const { store, open } = world();
  const a = await open();
  const woken = a.waitForChange(60_000);
  store.add(4);
  await woken;
  assertEquals(await a.refresh(EVERYTHING), ["* 4 EXISTS\r\n"]);
  a.close();
});
