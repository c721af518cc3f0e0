/**
 * imapflow (npm) against the server in process, over implicit TLS and over STARTTLS on the
 * 143-style port: sign in, LIST, SELECT, FETCH of envelope, body structure and source, STORE,
 * SEARCH, MOVE, APPEND and IDLE (a delivery during IDLE raises "exists" within two seconds),
 * then LOGOUT. Everything is checked on both sides: what imapflow returned, and what the store
 * holds afterwards.
 *
 * @module
 */

import { ImapFlow, type ImapFlowOptions } from "imapflow";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { type ImapFixture, withImap } from "./imap.ts";
import { GOOD_PASSWORD, sampleMessage } from "./store.ts";

const decoder = new TextDecoder();

/** A client trusting only the test CA, checking the name localhost, with logging off. */
function client(t: ImapFixture, mode: "tls" | "starttls"): ImapFlow {
  const options: ImapFlowOptions = {
    host: "127.0.0.1",
    port: mode === "tls" ? t.ports.imaps : t.ports.imap,
    secure: mode === "tls",
    servername: "localhost",
    tls: { ca: [t.caPem], rejectUnauthorized: true },
    auth: { user: t.alice.address, pass: GOOD_PASSWORD },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  };
  if (mode === "starttls") options.doSTARTTLS = true;
  return new ImapFlow(options);
}

/** Resolves with the first "exists" event's count, or rejects after `ms`. */
function nextExists(c: ImapFlow, ms: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      c.off("exists", onExists);
      reject(new Error(`No "exists" event within ${ms} ms`));
    }, ms);
    const onExists = (event: unknown) => {
      clearTimeout(timer);
      c.off("exists", onExists);
      const count = typeof event === "object" && event !== null && "count" in event
        ? event.count
        : null;
      if (typeof count === "number") resolve(count);
      else reject(new Error(`Unexpected "exists" event ${Deno.inspect(event)}`));
    };
    c.on("exists", onExists);
  });
}

const APPENDED = [
  "From: Alice <alice@example.org>",
  "To: Bob <bob@example.org>",
  "Subject: appended by imapflow",
  "Date: Sat, 28 Nov 2026 09:00:00 +0000",
  "Message-ID: <imapflow-append@example.org>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/alternative; boundary="b1"',
  "",
  "--b1",
  "Content-Type: text/plain; charset=utf-8",
  "",
  "Plain part from imapflow.",
  "--b1",
  "Content-Type: text/html; charset=utf-8",
  "",
  "<p>HTML part from imapflow.</p>",
  "--b1--",
  "",
].join("\r\n");

for (const mode of ["tls", "starttls"] as const) {
  const name = mode === "tls" ? "implicit TLS" : "STARTTLS";
  Deno.test(`imapflow: ${name}, a whole session checked on both sides`, async () => {
    await withImap(async (t) => {
      const { mailboxes, messages } = t.store;
      for (const marker of ["one", "two", "three"]) {
        await messages.deliver(sampleMessage(marker), [{ accountId: t.alice.id }]);
      }
      const c = client(t, mode);
      let connected = false;
      try {
        await c.connect();
        connected = true;
        assert(c.usable, "usable after connect");
        assert(c.authenticated !== false, "signed in");
        assertEquals(c.secureConnection, true);

        // LIST: the default mailboxes with their special uses.
        const list = await c.list();
        const uses = new Map(list.map((m) => [m.path, m.specialUse ?? ""]));
        assertEquals(uses.get("INBOX"), "\\Inbox");
        assertEquals(uses.get("Sent"), "\\Sent");
        assertEquals(uses.get("Trash"), "\\Trash");
        assertEquals(uses.get("Archive"), "\\Archive");
        assertEquals(list.every((m) => m.delimiter === "/"), true);

        // SELECT.
        const box = await c.mailboxOpen("INBOX");
        assertEquals(box.path, "INBOX");
        assertEquals(box.exists, 3);
        assertEquals(box.uidNext, 4);
        assertEquals(box.readOnly, false);
        const inbox = await mailboxes.get(t.alice.id, "INBOX");
        assertEquals(box.uidValidity, BigInt(inbox.uidValidity));

        // FETCH envelope, body structure, source, flags.
        const fetched = await c.fetchAll("1:*", {
          uid: true,
          flags: true,
          envelope: true,
          bodyStructure: true,
          source: true,
          size: true,
        });
        assertEquals(fetched.map((m) => m.uid), [1, 2, 3]);
        const first = fetched[0]!;
        assertEquals(first.envelope?.subject, "Secret subject one");
        assertEquals(first.envelope?.messageId, "<one@remote.example>");
        assertEquals(first.envelope?.from?.map((a) => [a.name, a.address]), [[
          "Sender one",
          "sender-one@remote.example",
        ]]);
        assertEquals(first.envelope?.to?.map((a) => a.address), [
          "alice@example.org",
          "list-one@lists.example",
        ]);
        const sent = first.envelope?.date;
        assert(sent instanceof Date, `envelope date ${String(sent)}`);
        assertEquals(sent.toISOString(), "2026-11-27T12:00:00.000Z");
        assertEquals(first.bodyStructure?.type, "text/plain");
        assertEquals(first.bodyStructure?.parameters?.charset, "utf-8");
        const source = decoder.decode(first.source!);
        assertEquals(source, decoder.decode(sampleMessage("one")));
        assertEquals(first.size, sampleMessage("one").length);
        assertEquals([...(first.flags ?? [])], []);

        // STORE +FLAGS, then SEARCH by flag and by text.
        assertEquals(await c.messageFlagsAdd("1:2", ["\\Seen"]), true);
        assertEquals(await c.messageFlagsAdd({ uid: "3" }, ["\\Flagged", "$Important"]), true);
        assertEquals(await c.search({ seen: true }), [1, 2]);
        assertEquals(await c.search({ seen: false }, { uid: true }), [3]);
        assertEquals(await c.search({ subject: "two" }), [2]);
        assertEquals(await c.search({ flagged: true, keyword: "$Important" }), [3]);
        assertEquals(await c.search({ body: "three-body" }, { uid: true }), [3]);

        // MOVE UID 2 to Archive: COPYUID maps it.
        const moved = await c.messageMove({ uid: "2" }, "Archive");
        assert(moved !== false, "MOVE answered");
        assertEquals(moved.destination, "Archive");
        assertEquals([...(moved.uidMap ?? new Map())], [[2, 1]]);

        // APPEND a multipart message with flags and a date; APPENDUID tells its UID.
        const idate = new Date("2026-11-28T09:00:00Z");
        const appended = await c.append("INBOX", APPENDED, ["\\Draft", "\\Seen"], idate);
        assert(appended !== false, "APPEND answered");
        assertEquals(appended.destination, "INBOX");
        assertEquals(appended.uid, 4);
        assertEquals(appended.uidValidity, BigInt(inbox.uidValidity));
        const again = await c.fetchOne(
          "4",
          { uid: true, flags: true, bodyStructure: true, internalDate: true, envelope: true },
          { uid: true },
        );
        assert(again !== false, "fetched the appended message");
        assertEquals(again.envelope?.subject, "appended by imapflow");
        assertEquals([...(again.flags ?? [])].sort(), ["\\Draft", "\\Seen"]);
        assertEquals(again.bodyStructure?.type, "multipart/alternative");
        assertEquals(again.bodyStructure?.childNodes?.map((p) => p.type), [
          "text/plain",
          "text/html",
        ]);
        const internal = again.internalDate;
        assert(internal instanceof Date, `internalDate ${String(internal)}`);
        assertEquals(internal.toISOString(), idate.toISOString());
        const part = await c.download("4", "2", { uid: true });
        assert("content" in part && part.content !== undefined, "part 2 downloaded");
        let html = "";
        for await (const chunk of part.content) {
          html += typeof chunk === "string" ? chunk : decoder.decode(chunk);
        }
        assertEquals(html.trim(), "<p>HTML part from imapflow.</p>");

        // IDLE: a delivery by the store raises "exists" within two seconds.
        const exists = nextExists(c, 2000);
        const idling = c.idle();
        await new Promise((resolve) => setTimeout(resolve, 100));
        const started = Date.now();
        await messages.deliver(sampleMessage("pushed"), [{ accountId: t.alice.id }]);
        assertEquals(await exists, 4);
        assert(Date.now() - started < 2000, `pushed after ${Date.now() - started} ms`);
        await c.noop(); // breaks IDLE
        await idling;
        assertEquals(c.mailbox === false ? null : c.mailbox.exists, 4);
        const pushed = await c.fetchOne("*", { uid: true, envelope: true });
        assert(pushed !== false, "fetched the pushed message");
        assertEquals([pushed.uid, pushed.envelope?.subject], [5, "Secret subject pushed"]);

        await c.logout();
        connected = false;

        // The store agrees.
        const left = await messages.list(inbox.id);
        assertEquals(left.map((m) => [m.uid, m.flags]), [
          [1, ["\\Seen"]],
          [3, ["$Important", "\\Flagged"]],
          [4, ["\\Draft", "\\Seen"]],
          [5, []],
        ]);
        const stored = await messages.read(t.alice.id, left[2]!.messageId);
        assertEquals(decoder.decode(stored), APPENDED);
        assertEquals(left[2]!.internalDate.toISOString(), idate.toISOString());
        const archive = await mailboxes.get(t.alice.id, "Archive");
        const archived = await messages.list(archive.id);
        assertEquals(archived.map((m) => [m.uid, m.flags]), [[1, ["\\Seen"]]]);
        const moveBody = await messages.read(t.alice.id, archived[0]!.messageId);
        assertStringIncludes(decoder.decode(moveBody), "Subject: Secret subject two");
        // Bob's INBOX was never touched.
        const bobInbox = await mailboxes.get(t.bob.id, "INBOX");
        assertEquals((await messages.list(bobInbox.id)).length, 0);
      } finally {
        if (connected) await c.logout().catch(() => c.close());
        c.close();
      }
    });
  });
}

Deno.test("imapflow: STARTTLS, then a wrong password is refused with AUTHENTICATIONFAILED", async () => {
  await withImap(async (t) => {
    const c = new ImapFlow({
      host: "127.0.0.1",
      port: t.ports.imap,
      secure: false,
      doSTARTTLS: true,
      servername: "localhost",
      tls: { ca: [t.caPem] },
      auth: { user: t.alice.address, pass: "not the password" },
      logger: false,
      disableAutoIdle: true,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
    });
    try {
      let failure: unknown = null;
      await c.connect().catch((error: unknown) => failure = error);
      assert(failure instanceof Error, `connect failed: ${String(failure)}`);
      const code = "serverResponseCode" in failure ? String(failure.serverResponseCode) : "";
      assertMatch(code, /^AUTHENTICATIONFAILED$/);
    } finally {
      c.close();
    }
  });
});
