import { assertEquals, within } from "../../tests/assert.ts";
import { GOOD_PASSWORD, sampleMessage, withStore } from "../../tests/store.ts";
import { silentLogger } from "../ops/log.ts";
import { MailboxChanges } from "./changes.ts";
import { Messages } from "./messages.ts";

Deno.test("writes announce their mailboxes after commit; unsubscribing stops it", async () => {
  await withStore(async ({ store }) => {
    const { id } = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const inbox = await store.mailboxes.get(id, "INBOX");
    const archive = await store.mailboxes.get(id, "Archive");
    const heard: string[] = [];
    const stopInbox = store.changes.subscribe(inbox.id, () => heard.push("inbox"));
    store.changes.subscribe(archive.id, () => heard.push("archive"));
    await store.messages.deliver(sampleMessage(), [{ accountId: id }]);
    assertEquals(heard, ["inbox"]);
    await store.messages.setFlags(inbox.id, [1], "add", ["\\Seen"]);
    await store.messages.setFlags(inbox.id, [1], "add", ["\\Seen"]); // no change: silent
    await store.messages.copy(inbox.id, [1], archive.id);
    await store.messages.move(archive.id, [1], inbox.id);
    await store.messages.setFlags(inbox.id, [1, 2], "add", ["\\Deleted"]);
    await store.messages.expunge(inbox.id);
    assertEquals(heard, ["inbox", "inbox", "archive", "archive", "inbox", "inbox", "inbox"]);
    stopInbox();
    await store.messages.deliver(sampleMessage(), [{ accountId: id }]);
    assertEquals(heard.length, 7);
    assertEquals(store.changes.watched, 1);
  });
});

Deno.test({
  name: "on PostgreSQL, a change made by another process is heard through LISTEN",
  ignore: !Deno.env.get("FUMI_TEST_DATABASE_URL"),
  fn: async () => {
    await withStore(async ({ store, db }) => {
      const { id } = await store.accounts.create({
        address: "alice@example.org",
        password: GOOD_PASSWORD,
      });
      const inbox = await store.mailboxes.get(id, "INBOX");
      const feed = new MailboxChanges();
      await feed.listen(store.sql, silentLogger);
      try {
        const heard = new Promise<void>((resolve) => feed.subscribe(inbox.id, resolve));
        // "Another process": its own connection and its own Messages, not this feed.
        const other = db.connectAgain();
        try {
          await new Messages(other, store.vault).deliver(sampleMessage(), [{ accountId: id }]);
          await heard;
        } finally {
          await other.end();
        }
      } finally {
        await feed.close();
      }
    });
  },
});

Deno.test({
  name: "on PostgreSQL, a LISTEN connection lost and back announces every mailbox followed",
  ignore: !Deno.env.get("FUMI_TEST_DATABASE_URL"),
  fn: async () => {
    await withStore(async ({ store }) => {
      const feed = new MailboxChanges();
      await feed.listen(store.sql, silentLogger);
      try {
        const heard = new Promise<void>((resolve) => feed.subscribe(42, resolve));
        // What was notified while the connection was down is lost: the feed must say so.
        const killed = await store.sql<{ killed: boolean }[]>`
          select pg_terminate_backend(pid) as killed from pg_stat_activity
          where datname = current_database() and query ilike 'listen%'`;
        assertEquals(killed.map((k) => k.killed), [true]);
        await within(10_000, heard, "not announced after the connection came back");
      } finally {
        await feed.close();
      }
    });
  },
});
