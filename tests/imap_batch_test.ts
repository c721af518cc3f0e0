/**
 * FETCH, SEARCH, SORT and THREAD read the store in batches: a counting wrapper around the
 * sessions' `messages` shows that the number of store calls grows with the number of batches,
 * not of messages, so the batching cannot silently regress. Also: a message expunged by
 * another session meanwhile is skipped (RFC 5530 EXPUNGEISSUED), as before batching.
 *
 * @module
 */

import { assert, assertEquals } from "./assert.ts";
import { type ImapFixture, signedIn, withImap } from "./imap.ts";
import { sampleMessage } from "./store.ts";
import type { ImapDeps } from "../src/imap/server/mod.ts";

const COUNT = 150;

type Messages = ImapDeps["messages"];

/** `messages` with every call counted by method name in `calls`. */
function counting(messages: Messages, calls: Map<string, number>): Messages {
  return new Proxy(messages, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.set(String(name), (calls.get(String(name)) ?? 0) + 1);
        return Reflect.apply(value, target, args);
      };
    },
  });
}

/** Runs `fn` with COUNT messages in alice's INBOX and the store's calls counted. */
async function withCounted(
  fn: (t: ImapFixture, calls: Map<string, number>) => Promise<void>,
): Promise<void> {
  const calls = new Map<string, number>();
  await withImap(async (t) => {
    for (let i = 1; i <= COUNT; i++) {
      await t.store.messages.deliver(sampleMessage(`m${i}`), [{ accountId: t.alice.id }]);
    }
    await fn(t, calls);
  }, { deps: (deps) => ({ ...deps, messages: counting(deps.messages, calls) }) });
}

/** The calls `command` makes; asserts it completed with `OK`. */
async function callsOf(
  c: { command(line: string): Promise<string[]> },
  calls: Map<string, number>,
  command: string,
): Promise<{ lines: string[]; calls: Record<string, number> }> {
  calls.clear();
  const lines = await c.command(command);
  assert(lines[lines.length - 1]!.includes(" OK "), lines[lines.length - 1]);
  return { lines, calls: Object.fromEntries(calls) };
}

const reads = (calls: Record<string, number>) => ({
  readCaches: calls.readCaches ?? 0,
  readMany: calls.readMany ?? 0,
  readCache: calls.readCache ?? 0,
  read: calls.read ?? 0,
});

Deno.test("FETCH of many messages reads the store once per batch", async () => {
  await withCounted(async (t, calls) => {
    const c = await signedIn(t);
    try {
      await c.command("S SELECT INBOX");
      const headers = await callsOf(
        c,
        calls,
        "F1 UID FETCH 1:* (UID ENVELOPE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])",
      );
      assertEquals(headers.lines.filter((l) => / FETCH \(/.test(l)).length, COUNT);
      assert(headers.lines.some((l) => l.includes('"Secret subject m150"')));
      // 150 messages in batches of 64: three of each kind, never one per message.
      assertEquals(reads(headers.calls), { readCaches: 3, readMany: 3, readCache: 0, read: 0 });
      // Flags and sizes come from the session's list: no read at all.
      const flags = await callsOf(c, calls, "F2 FETCH 1:* (FLAGS RFC822.SIZE)");
      assertEquals(reads(flags.calls), { readCaches: 0, readMany: 0, readCache: 0, read: 0 });
      // The description alone.
      const envelope = await callsOf(c, calls, "F3 FETCH 1:* (ENVELOPE)");
      assertEquals(reads(envelope.calls), { readCaches: 3, readMany: 0, readCache: 0, read: 0 });
    } finally {
      c.close();
    }
  });
});

Deno.test("SEARCH, SORT and THREAD read descriptions and messages in batches", async () => {
  await withCounted(async (t, calls) => {
    const c = await signedIn(t);
    try {
      await c.command("S SELECT INBOX");
      const from = await callsOf(c, calls, 'S1 UID SEARCH FROM "sender-m7@"');
      assert(from.lines.includes("* SEARCH 7"), from.lines.join("\n"));
      assertEquals(reads(from.calls), { readCaches: 1, readMany: 0, readCache: 0, read: 0 });
      // A flag test needs no read; one that fails on flags first reads nothing more.
      const flagged = await callsOf(c, calls, 'S2 UID SEARCH FLAGGED FROM "sender-m7@"');
      assert(flagged.lines.includes("* SEARCH"), flagged.lines.join("\n"));
      assertEquals(reads(flagged.calls), { readCaches: 0, readMany: 0, readCache: 0, read: 0 });
      // BODY reads the messages, 32 at a time (150 → 5 batches), and their descriptions.
      const body = await callsOf(c, calls, 'S3 UID SEARCH BODY "m42-body"');
      assert(body.lines.includes("* SEARCH 42"), body.lines.join("\n"));
      assertEquals(reads(body.calls), { readCaches: 5, readMany: 5, readCache: 0, read: 0 });
      const sorted = await callsOf(c, calls, "S4 UID SORT (SUBJECT) UTF-8 ALL");
      const numbers = sorted.lines.find((l) => l.startsWith("* SORT "))!.split(" ").slice(2);
      assertEquals(numbers.length, COUNT);
      assertEquals(numbers.slice(0, 3), ["1", "10", "100"]); // "m1" < "m10" < "m100"
      assertEquals(reads(sorted.calls), { readCaches: 1, readMany: 0, readCache: 0, read: 0 });
      const threads = await callsOf(c, calls, "S5 UID THREAD REFERENCES UTF-8 ALL");
      assert(threads.lines.some((l) => l.startsWith("* THREAD (")), threads.lines.join("\n"));
      assertEquals(reads(threads.calls), { readCaches: 5, readMany: 5, readCache: 0, read: 0 });
    } finally {
      c.close();
    }
  });
});

Deno.test("a message expunged by another session meanwhile is skipped: EXPUNGEISSUED", async () => {
  await withCounted(async (t) => {
    const c = await signedIn(t);
    try {
      await c.command("S SELECT INBOX");
      const inbox = await t.store.mailboxes.get(t.alice.id, "INBOX");
      await t.store.messages.setFlags(inbox.id, [3, 70], "add", ["\\Deleted"]);
      await t.store.messages.expunge(inbox.id);
      // RFC 9051 §7.5.1: no EXPUNGE during FETCH; RFC 5530: say why messages are missing.
      const lines = await c.command("F1 UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
      const fetched = lines.filter((l) => / FETCH \(/.test(l));
      assertEquals(fetched.length, COUNT - 2);
      assert(!fetched.some((l) => l.includes("(UID 3 ") || l.includes("(UID 70 ")));
      assertEquals(
        lines[lines.length - 1],
        "F1 OK [EXPUNGEISSUED] Some messages were expunged meanwhile",
      );
      const body = await c.command('S1 UID SEARCH BODY "m70-body"');
      assert(body.includes("* SEARCH"), body.join("\n"));
    } finally {
      c.close();
    }
  });
});
