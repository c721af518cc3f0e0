import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { GOOD_PASSWORD, sampleMessage, withStore } from "../../tests/store.ts";
import { InvalidInputError, NotFoundError } from "../util/errors.ts";
import { OverQuotaError } from "./errors.ts";
import { Messages, normalizeFlags } from "./messages.ts";
import { openServices } from "./open.ts";
import { silentLogger } from "../ops/log.ts";

Deno.test("deliver and read back: bytes, envelope, summary and structure", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const raw = sampleMessage("round");
    const date = new Date("2026-11-27T10:00:00Z");
    const [copy] = await store.messages.deliver(raw, [{
      accountId: alice.id,
      flags: ["\\seen", "$Label1"],
    }], {
      internalDate: date,
    });
    assertEquals(copy!.uid, 1);
    assertEquals(await store.messages.read(alice.id, copy!.messageId), raw);
    const inbox = await store.mailboxes.get(alice.id, "inbox");
    const [info] = await store.messages.list(inbox.id);
    assertEquals(info, {
      uid: 1,
      messageId: copy!.messageId,
      flags: ["$Label1", "\\Seen"],
      modseq: copy!.modseq,
      size: raw.length,
      internalDate: date,
    });
    const cache = await store.messages.readCache(alice.id, copy!.messageId);
    assertEquals(cache.envelope.subject, "Secret subject round");
    assertEquals(cache.summary.subject, "Secret subject round");
    assertEquals(cache.structure.type, "text");
    assertEquals(cache.structure.subtype, "plain");
    const after = await store.mailboxes.get(alice.id, "INBOX");
    assertEquals(after.uidNext, 2);
    assert(after.highestModseq > inbox.highestModseq - 1);
    assertEquals((await store.accounts.get("alice@example.org")).usedBytes, raw.length);
    // Another account cannot read it, even knowing its id.
    const bob = await store.accounts.create({
      address: "bob@example.org",
      password: GOOD_PASSWORD,
    });
    await assertRejects(() => store.messages.read(bob.id, copy!.messageId), NotFoundError);
  });
});

Deno.test("one delivery to several accounts and mailboxes is stored per account", async () => {
  await withStore(async ({ store }) => {
    const a = await store.accounts.create({ address: "a@example.org", password: GOOD_PASSWORD });
    const b = await store.accounts.create({ address: "b@example.org", password: GOOD_PASSWORD });
    const raw = sampleMessage("multi");
    const copies = await store.messages.deliver(raw, [
      { accountId: b.id },
      { accountId: a.id },
      { accountId: a.id, mailbox: "Archive" },
    ]);
    assertEquals(copies.length, 3);
    const ofA = copies.filter((c) => c.accountId === a.id);
    assertEquals(ofA[0]!.messageId, ofA[1]!.messageId, "one stored message per account");
    assert(copies.find((c) => c.accountId === b.id)!.messageId !== ofA[0]!.messageId);
    assertEquals((await store.accounts.get("a@example.org")).usedBytes, raw.length);
    const ofB = copies.find((c) => c.accountId === b.id)!;
    assertEquals(await store.messages.read(b.id, ofB.messageId), raw);
  });
});

Deno.test("concurrent deliveries to one mailbox get unique ascending UIDs", async () => {
  await withStore(async ({ store, db, masterKey, reopen }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    // Two "nodes": the second store has its own pool on the same database.
    const other = await reopen(masterKey);
    const pool2 = db.connectAgain();
    const node2 = await (await import("./open.ts")).openServices(
      { sql: pool2, kind: db.kind, close: () => Promise.resolve() },
      await import("../../tests/store.ts").then((m) => m.testConfig()),
      { FUMI_MASTER_KEY: masterKey },
      (await import("../ops/log.ts")).silentLogger,
    );
    const stores = [store, other, node2];
    const n = 30;
    const results = await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          stores[i % stores.length]!.messages.deliver(sampleMessage(`c${i}`), [{
            accountId: alice.id,
          }]),
      ),
    );
    const uids = results.map((r) => r[0]!.uid).sort((x, y) => x - y);
    assertEquals(uids, Array.from({ length: n }, (_, i) => i + 1));
    const inbox = await store.mailboxes.get(alice.id, "INBOX");
    const listed = await store.messages.list(inbox.id);
    assertEquals(listed.map((m) => m.uid), uids);
    assertEquals(inbox.uidNext, n + 1);
    // Message ids and UIDs grow together: commits happened in UID order per mailbox.
    const modseqs = listed.map((m) => m.modseq);
    assertEquals([...modseqs].sort((x, y) => x - y), modseqs);
  });
});

Deno.test("over quota: refused, temporary, and nothing is half-written", async () => {
  await withStore(async ({ store }) => {
    const roomy = await store.accounts.create({
      address: "roomy@example.org",
      password: GOOD_PASSWORD,
    });
    const tight = await store.accounts.create({
      address: "tight@example.org",
      password: GOOD_PASSWORD,
      quotaBytes: 5000,
    });
    await store.messages.deliver(sampleMessage("fits", 3000), [{ accountId: tight.id }]);
    const error = await assertRejects(
      () =>
        store.messages.deliver(sampleMessage("big", 3000), [{ accountId: roomy.id }, {
          accountId: tight.id,
        }]),
      OverQuotaError,
    );
    assert(error.temporary);
    assertEquals(error.address, "tight@example.org");
    const inbox = await store.mailboxes.get(roomy.id, "INBOX");
    assertEquals(await store.messages.list(inbox.id), []);
    assertEquals(inbox.uidNext, 1);
    assertEquals((await store.accounts.get("roomy@example.org")).usedBytes, 0);
    assertEquals(
      (await store.accounts.get("tight@example.org")).usedBytes,
      sampleMessage("fits", 3000).length,
    );
    const [count] = await store.sql<{ n: number }[]>`select count(*)::int as n from messages`;
    assertEquals(count!.n, 1);
  });
});

Deno.test("delivery to a missing mailbox changes nothing", async () => {
  await withStore(async ({ store }) => {
    const a = await store.accounts.create({ address: "a@example.org", password: GOOD_PASSWORD });
    await assertRejects(
      () =>
        store.messages.deliver(sampleMessage(), [{ accountId: a.id }, {
          accountId: a.id,
          mailbox: "Nope",
        }]),
      NotFoundError,
    );
    assertEquals((await store.accounts.get("a@example.org")).usedBytes, 0);
    assertEquals((await store.mailboxes.get(a.id, "INBOX")).uidNext, 1);
  });
});

Deno.test("flags: add, remove, replace, modseq, UNCHANGEDSINCE", async () => {
  await withStore(async ({ store }) => {
    const a = await store.accounts.create({ address: "a@example.org", password: GOOD_PASSWORD });
    for (let i = 0; i < 3; i++) {
      await store.messages.deliver(sampleMessage(`f${i}`), [{ accountId: a.id }]);
    }
    const inbox = await store.mailboxes.get(a.id, "INBOX");
    const start = inbox.highestModseq;

    const added = await store.messages.setFlags(inbox.id, [1, 2], "add", ["\\Seen", "\\Flagged"]);
    assertEquals(added.changed.map((c) => [c.uid, c.flags, c.modseq]), [
      [1, ["\\Flagged", "\\Seen"], start + 1],
      [2, ["\\Flagged", "\\Seen"], start + 1],
    ]);
    const again = await store.messages.setFlags(inbox.id, [1], "add", ["\\Seen"]);
    assertEquals(again.changed, [], "no change, no new modseq");
    assertEquals((await store.mailboxes.get(a.id, "INBOX")).highestModseq, start + 1);

    const removed = await store.messages.setFlags(inbox.id, [1], "remove", ["\\Flagged"]);
    assertEquals(removed.changed[0]!.flags, ["\\Seen"]);
    const replaced = await store.messages.setFlags(inbox.id, [3], "replace", ["$Work"]);
    assertEquals(replaced.changed[0]!.flags, ["$Work"]);

    // RFC 7162 §3.1.3: message 2 changed at start+1, after the client's UNCHANGEDSINCE start.
    const conditional = await store.messages.setFlags(inbox.id, [2, 3], "add", ["\\Answered"], {
      unchangedSince: start,
    });
    assertEquals(conditional.changed, []);
    assertEquals(conditional.modified, [2, 3]);
    const current = (await store.mailboxes.get(a.id, "INBOX")).highestModseq;
    const ok = await store.messages.setFlags(inbox.id, [2], "add", ["\\Answered"], {
      unchangedSince: current,
    });
    assertEquals(ok.changed.map((c) => c.uid), [2]);

    const changedSince = await store.messages.list(inbox.id, { changedSince: current });
    assertEquals(changedSince.map((m) => m.uid), [2]);
    await assertRejects(
      () => store.messages.setFlags(inbox.id, [1], "add", ["\\Bogus"]),
      InvalidInputError,
    );
  });
});

Deno.test("flag syntax", () => {
  assertEquals(normalizeFlags(["\\SEEN", "\\recent", "$Junk", "\\Seen"]), ["$Junk", "\\Seen"]);
  for (const bad of ["two words", "(paren", "\\Unknown", "", 'quote"']) {
    let threw = false;
    try {
      normalizeFlags([bad]);
    } catch (error) {
      threw = error instanceof InvalidInputError;
    }
    assert(threw, bad);
  }
});

Deno.test("copy shares bytes; move and expunge free them and record VANISHED uids", async () => {
  await withStore(async ({ store }) => {
    const a = await store.accounts.create({ address: "a@example.org", password: GOOD_PASSWORD });
    const raws = [sampleMessage("m1", 2000), sampleMessage("m2", 3000), sampleMessage("m3", 4000)];
    for (const raw of raws) await store.messages.deliver(raw, [{ accountId: a.id }]);
    const total = raws.reduce((n, r) => n + r.length, 0);
    const inbox = await store.mailboxes.get(a.id, "INBOX");
    const archive = await store.mailboxes.get(a.id, "Archive");
    const trash = await store.mailboxes.get(a.id, "Trash");

    assertEquals(await store.messages.copy(inbox.id, [1, 3, 99], archive.id), [[1, 1], [3, 2]]);
    assertEquals(
      (await store.accounts.get("a@example.org")).usedBytes,
      total,
      "copies share bytes",
    );
    assertEquals(await store.messages.move(inbox.id, [2], trash.id), [[2, 1]]);
    assertEquals((await store.messages.list(inbox.id)).map((m) => m.uid), [1, 3]);

    // EXPUNGE removes only \Deleted messages; bytes stay while another mailbox holds them.
    await store.messages.setFlags(inbox.id, [1, 3], "add", ["\\Deleted"]);
    assertEquals(await store.messages.expunge(inbox.id, [3]), [3]); // UID EXPUNGE
    assertEquals(await store.messages.expunge(inbox.id), [1]);
    assertEquals(await store.messages.expunge(inbox.id), []);
    assertEquals((await store.accounts.get("a@example.org")).usedBytes, total);

    const archived = await store.messages.list(archive.id);
    await store.messages.setFlags(archive.id, archived.map((m) => m.uid), "add", ["\\Deleted"]);
    await store.messages.expunge(archive.id);
    assertEquals((await store.accounts.get("a@example.org")).usedBytes, raws[1]!.length);
    const [count] = await store.sql<{ n: number }[]>`select count(*)::int as n from messages`;
    assertEquals(count!.n, 1);
    const vanished = await store.sql<{ uid: number }[]>`
      select uid from expunged_messages where mailbox_id = ${inbox.id} order by uid`;
    assertEquals(vanished.map((v) => v.uid), [1, 2, 3]);
    const other = await store.accounts.create({
      address: "o@example.org",
      password: GOOD_PASSWORD,
    });
    const foreign = await store.mailboxes.get(other.id, "INBOX");
    await assertRejects(() => store.messages.copy(trash.id, [1], foreign.id), InvalidInputError);
  });
});

Deno.test("concurrent expunges of a message's last two copies free it and its quota", async () => {
  await withStore(async ({ store, db, config, masterKey }) => {
    const a = await store.accounts.create({ address: "a@example.org", password: GOOD_PASSWORD });
    const inbox = await store.mailboxes.get(a.id, "INBOX");
    const archive = await store.mailboxes.get(a.id, "Archive");
    for (let i = 0; i < 20; i++) {
      await store.messages.deliver(sampleMessage(`c${i}`), [{ accountId: a.id }]);
    }
    const uids = (await store.messages.list(inbox.id)).map((m) => m.uid);
    await store.messages.copy(inbox.id, uids, archive.id);
    await store.messages.setFlags(inbox.id, uids, "add", ["\\Deleted"]);
    const archived = (await store.messages.list(archive.id)).map((m) => m.uid);
    await store.messages.setFlags(archive.id, archived, "add", ["\\Deleted"]);

    // A second node: its own pool, so the two expunges run in two transactions at once.
    const sql = db.connectAgain();
    const other = await openServices(
      { sql, kind: db.kind, close: () => Promise.resolve() },
      config,
      { FUMI_MASTER_KEY: masterKey },
      silentLogger,
    );
    // On PostgreSQL, make the race certain: an open transaction holding the rows each expunge
    // records as VANISHED stops both after they deleted their entries, until it rolls back.
    // (PGlite is one backend: its transactions never overlap, and a blocker would stall all.)
    let release = () => {};
    let blocker: Promise<unknown> = Promise.resolve();
    if (db.kind === "postgres") {
      const third = db.connectAgain();
      const held = Promise.withResolvers<void>();
      const releasing = new Promise<void>((resolve) => release = resolve);
      blocker = third.begin(async (tx) => {
        await tx`insert into expunged_messages (mailbox_id, uid, modseq)
                 values (${inbox.id}, ${uids[0]!}, 1), (${archive.id}, ${archived[0]!}, 1)`;
        held.resolve();
        await releasing;
        throw new Error("roll back");
      }).catch(() => {});
      await held.promise;
    }
    const expunges = Promise.all([
      store.messages.expunge(inbox.id),
      other.messages.expunge(archive.id),
    ]);
    if (db.kind === "postgres") {
      for (let waiting = 0; waiting < 2;) {
        await new Promise((r) => setTimeout(r, 20));
        const [row] = await store.sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`;
        waiting = row!.n;
      }
    }
    release();
    await blocker;
    const [fromInbox, fromArchive] = await expunges;
    assertEquals(fromInbox.length, 20);
    assertEquals(fromArchive.length, 20);
    const [count] = await store.sql<{ n: number }[]>`select count(*)::int as n from messages`;
    assertEquals(count!.n, 0, "no message row is left without a mailbox");
    assertEquals((await store.accounts.get("a@example.org")).usedBytes, 0);
  });
});

Deno.test("prefixFor: each account's copy starts with its own lines, sized and charged as stored", async () => {
  await withStore(async ({ store }) => {
    const a = await store.accounts.create({ address: "a@example.org", password: GOOD_PASSWORD });
    const b = await store.accounts.create({ address: "b@example.org", password: GOOD_PASSWORD });
    const c = await store.accounts.create({ address: "c@example.org", password: GOOD_PASSWORD });
    const raw = sampleMessage("prefix");
    const prefixes = new Map([
      [a.id, new TextEncoder().encode("Delivered-To: a@example.org\r\n")],
      [
        b.id,
        new TextEncoder().encode("Return-Path: <x@y.example>\r\nDelivered-To: b@example.org\r\n"),
      ],
      [c.id, new Uint8Array()], // an empty prefix: the message as it is
    ]);
    const copies = await store.messages.deliver(raw, [{ accountId: a.id }, { accountId: b.id }, {
      accountId: c.id,
    }], { prefixFor: (accountId) => prefixes.get(accountId)! });
    for (const account of [a, b, c]) {
      const prefix = prefixes.get(account.id)!;
      const copy = copies.find((d) => d.accountId === account.id)!;
      const stored = await store.messages.read(account.id, copy.messageId);
      assertEquals(stored, new Uint8Array([...prefix, ...raw]));
      const inbox = await store.mailboxes.get(account.id, "INBOX");
      assertEquals((await store.messages.list(inbox.id))[0]!.size, stored.length);
      assertEquals((await store.accounts.getById(account.id)).usedBytes, stored.length);
      // The cached structure describes the stored bytes: its offsets include the prefix.
      const cache = await store.messages.readCache(account.id, copy.messageId);
      assertEquals(cache.summary.subject, "Secret subject prefix");
      const body = new TextDecoder().decode(stored.subarray(cache.structure.bodyStart));
      assert(body.startsWith("Body line with the marker"), body.slice(0, 40));
    }
  });
});

Deno.test("within: joins the delivery's transaction; if it throws, nothing is stored", async () => {
  await withStore(async ({ store }) => {
    const a = await store.accounts.create({ address: "a@example.org", password: GOOD_PASSWORD });
    const raw = sampleMessage("within");
    await store.sql`create table within_probe (n int)`;
    const copies = await store.messages.deliver(raw, [{ accountId: a.id }], {
      within: async (tx) => {
        // Inside the transaction: the new copy is visible, the quota charged.
        const [row] = await tx<{ n: number }[]>`
          select count(*)::int as n from messages where account_id = ${a.id}`;
        assertEquals(row!.n, 1);
        await tx`insert into within_probe values (1)`;
      },
    });
    assertEquals(copies.length, 1);
    assertEquals((await store.sql`select * from within_probe`).length, 1);

    await assertRejects(
      () =>
        store.messages.deliver(sampleMessage("rolled"), [{ accountId: a.id }], {
          within: async (tx) => {
            await tx`insert into within_probe values (2)`;
            throw new Error("queue insert failed");
          },
        }),
      Error,
      "queue insert failed",
    );
    assertEquals((await store.sql`select * from within_probe`).length, 1);
    const inbox = await store.mailboxes.get(a.id, "INBOX");
    assertEquals((await store.messages.list(inbox.id)).length, 1);
    assertEquals(inbox.uidNext, 2);
    assertEquals((await store.accounts.getById(a.id)).usedBytes, raw.length);

    // No targets: `within` runs alone, in a transaction.
    assertEquals(
      await store.messages.deliver(raw, [], {
        within: async (tx) => {
          await tx`insert into within_probe values (3)`;
        },
      }),
      [],
    );
    await assertRejects(() =>
      store.messages.deliver(raw, [], {
        within: async (tx) => {
          await tx`insert into within_probe values (4)`;
          throw new Error("no");
        },
      })
    );
    assertEquals(
      (await store.sql<{ n: number }[]>`select n from within_probe order by n`).map((r) => r.n),
      [1, 3],
    );
  });
});

Deno.test({
  name: "a delivery is announced on fumi_mailbox with the mailbox id, once committed",
  // LISTEN needs a second session of a real server; embedded PGlite has one backend.
  ignore: !Deno.env.get("FUMI_TEST_DATABASE_URL"),
  fn: async () => {
    await withStore(async ({ store }) => {
      const alice = await store.accounts.create({
        address: "alice@example.org",
        password: GOOD_PASSWORD,
      });
      const inbox = await store.mailboxes.get(alice.id, "INBOX");
      const heard: string[] = [];
      let wake = () => {};
      const listener = await store.sql.listen("fumi_mailbox", (payload) => {
        heard.push(payload);
        wake();
      });
      try {
        const arrived = new Promise<void>((resolve) => wake = resolve);
        await store.messages.deliver(sampleMessage(), [{ accountId: alice.id }]);
        await arrived;
        assertEquals(heard, [String(inbox.id)]);
      } finally {
        await listener.unlisten();
      }
    });
  },
});

Deno.test("readMany and readCaches: one query for many, only the account's, missing ones absent", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const bob = await store.accounts.create({
      address: "bob@example.org",
      password: GOOD_PASSWORD,
    });
    const raws = [sampleMessage("one"), sampleMessage("two"), sampleMessage("three")];
    const ids: number[] = [];
    for (const raw of raws) {
      const [copy] = await store.messages.deliver(raw, [{ accountId: alice.id }]);
      ids.push(copy!.messageId);
    }
    const [ofBob] = await store.messages.deliver(sampleMessage("bob"), [{ accountId: bob.id }]);
    const asked = [ids[2]!, ids[0]!, ofBob!.messageId, 999_999_999, ids[0]!, ids[1]!];

    const bytes = await store.messages.readMany(alice.id, asked);
    assertEquals(bytes.size, 3);
    ids.forEach((id, i) => assertEquals(bytes.get(id), raws[i]));
    assertEquals(bytes.has(ofBob!.messageId), false, "another account's message is absent");
    assertEquals((await store.messages.readMany(alice.id, [])).size, 0);

    for (const round of ["cold", "warm"]) {
      const caches = await store.messages.readCaches(alice.id, asked);
      assertEquals(caches.size, 3, round);
      assertEquals(caches.get(ids[1]!)!.envelope.subject, "Secret subject two");
      assertEquals(caches.get(ids[2]!)!.summary.subject, "Secret subject three");
      assertEquals(caches.get(ids[0]!)!.structure.subtype, "plain");
      assertEquals(caches.has(ofBob!.messageId), false, `${round}: not across accounts`);
      assertEquals(caches.has(999_999_999), false);
    }
    // Remembered for alice, never handed to bob, and read from the row for bob.
    await assertRejects(() => store.messages.readCache(bob.id, ids[0]!), NotFoundError);
    assertEquals(
      (await store.messages.readCache(bob.id, ofBob!.messageId)).envelope.subject,
      "Secret subject bob",
    );
    // An expunged message's bytes are gone (its description may still be remembered).
    const inbox = await store.mailboxes.get(alice.id, "INBOX");
    await store.messages.setFlags(inbox.id, [1], "add", ["\\Deleted"]);
    await store.messages.expunge(inbox.id);
    assertEquals(
      [...(await store.messages.readMany(alice.id, ids)).keys()].sort(),
      [
        ids[1]!,
        ids[2]!,
      ].sort(),
    );
  });
});

Deno.test("descriptions are decrypted once, then served from memory", async () => {
  await withStore(async ({ store, db }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const bob = await store.accounts.create({
      address: "bob@example.org",
      password: GOOD_PASSWORD,
    });
    const [copy] = await store.messages.deliver(sampleMessage("kept"), [{ accountId: alice.id }]);
    const id = copy!.messageId;
    const first = await store.messages.readCache(alice.id, id);
    // Were the row to change (it never does), the cached description would still be served.
    await db.sql`update messages set envelope = '\\x00'::bytea where id = ${id}`;
    assertEquals(await store.messages.readCache(alice.id, id), first);
    assertEquals((await store.messages.readCaches(alice.id, [id])).get(id), first);
    // Concurrent readers of a description not yet known share one read.
    const [next] = await store.messages.deliver(sampleMessage("shared"), [{
      accountId: alice.id,
    }]);
    const both = await Promise.all([
      store.messages.readCaches(alice.id, [next!.messageId, id]),
      store.messages.readCaches(alice.id, [next!.messageId]),
      store.messages.readCaches(bob.id, [next!.messageId]),
    ]);
    assert(both[0].get(next!.messageId) !== undefined);
    assert(both[0].get(next!.messageId) === both[1].get(next!.messageId), "one decrypted object");
    assertEquals(both[2].size, 0, "not shared across accounts");
    // A store without the cache opens the row every time, and so fails on the broken one.
    const uncached = new Messages(db.sql, store.vault, undefined, { descriptionCacheEntries: 0 });
    await assertRejects(() => uncached.readCache(alice.id, id));
  });
});
