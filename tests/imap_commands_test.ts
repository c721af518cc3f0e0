/**
 * IMAP commands as transcripts against the server in process: names (patterns, modified
 * UTF-7, another user's name, control characters), STATUS and LIST-STATUS, quota, SASL-IR,
 * CONDSTORE's UNCHANGEDSINCE, MOVE, and two sessions on one mailbox (no EXPUNGE during FETCH).
 *
 * @module
 */

import { ScramClient } from "../src/auth/sasl/_test_support.ts";
import { decodeBase64, encodeBase64 } from "../src/util/base64.ts";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { ImapClient, signedIn, withImap } from "./imap.ts";
import { GOOD_PASSWORD, sampleMessage } from "./store.ts";

function last(lines: string[]): string {
  return lines[lines.length - 1]!;
}

Deno.test("IMAP: AUTHENTICATE PLAIN with an initial response (SASL-IR), and a wrong password", async () => {
  await withImap(async (t) => {
    const c = await ImapClient.connectTls(t.ports.imaps, t.caPem);
    try {
      await c.line();
      const wrong = encodeBase64(new TextEncoder().encode("\0alice@example.org\0nope"));
      assertMatch(
        last(await c.command(`a1 AUTHENTICATE PLAIN ${wrong}`)),
        /^a1 NO \[AUTHENTICATIONFAILED\]/,
      );
      const good = encodeBase64(new TextEncoder().encode(`\0alice@example.org\0${GOOD_PASSWORD}`));
      assertMatch(last(await c.command(`a2 AUTHENTICATE PLAIN ${good}`)), /^a2 OK \[CAPABILITY /);
      assertMatch(last(await c.command("a3 LOGIN x y")), /^a3 BAD/); // not in this state
    } finally {
      c.close();
    }
  });
});

Deno.test("IMAP: AUTHENTICATE SCRAM-SHA-256 with SASL-IR; the server proves the password too", async () => {
  await withImap(async (t) => {
    const c = await ImapClient.connectTls(t.ports.imaps, t.caPem);
    const b64 = (s: string) => encodeBase64(new TextEncoder().encode(s));
    const unb64 = (s: string) => new TextDecoder().decode(decodeBase64(s)!);
    try {
      await c.line();
      const scram = new ScramClient(t.alice.address, GOOD_PASSWORD);
      await c.send(`a1 AUTHENTICATE SCRAM-SHA-256 ${b64(scram.first())}\r\n`);
      const first = (await c.line())!;
      assertMatch(first, /^\+ [A-Za-z0-9+/=]+$/);
      const final = await scram.final(unb64(first.slice(2)));
      await c.send(`${b64(final.message)}\r\n`);
      const verifier = (await c.line())!;
      assertEquals(unb64(verifier.slice(2)), `v=${final.expectedSignature}`);
      await c.send("\r\n");
      assertMatch((await c.line())!, /^a1 OK \[CAPABILITY /);
    } finally {
      c.close();
    }
  });
});

Deno.test("IMAP: names stay in the user's namespace; patterns, UTF-7, LIST-STATUS, quota", async () => {
  await withImap(async (t) => {
    await t.store.mailboxes.create(t.bob.id, "Secret");
    await t.store.messages.deliver(sampleMessage("q"), [{ accountId: t.alice.id }]);
    const c = await signedIn(t);
    try {
      assertEquals(last(await c.command("c1 CREATE Caf&AOk-/Menu")), "c1 OK CREATE completed");
      let lines = await c.command('l1 LIST "" %');
      assert(lines.includes('* LIST (\\HasChildren) "/" Caf&AOk-'), lines.join("\n"));
      assert(!lines.some((l) => l.includes("Menu")), "% stops at the separator");
      lines = await c.command('l2 LIST "" "Caf&AOk-/*"');
      assertEquals(lines[0], '* LIST (\\HasNoChildren) "/" Caf&AOk-/Menu');
      // Another user's mailbox, or a path, is just a name that does not exist here.
      for (const name of ["Secret", '"bob@example.org/Secret"', '"../bob/Secret"', '"%"']) {
        assertMatch(last(await c.command(`s1 SELECT ${name}`)), /^s1 NO \[NONEXISTENT\]/);
      }
      assertMatch(last(await c.command('c2 CREATE "a*b"')), /^c2 NO \[CANNOT\]/);
      await c.send("c3 CREATE {3}\r\n");
      assertMatch((await c.line())!, /^\+ /);
      await c.send("a\x01b\r\n");
      assertMatch(last(await c.until("c3 ")), /^c3 BAD/);
      lines = await c.command("s2 STATUS INBOX (MESSAGES UNSEEN UIDNEXT SIZE HIGHESTMODSEQ)");
      assertMatch(
        lines[0]!,
        /^\* STATUS INBOX \(MESSAGES 1 UNSEEN 1 UIDNEXT 2 SIZE \d+ HIGHESTMODSEQ \d+\)$/,
      );
      lines = await c.command('l3 LIST "" "Sent" RETURN (SPECIAL-USE STATUS (MESSAGES))');
      assertEquals(lines.slice(0, 2), [
        '* LIST (\\HasNoChildren \\Sent) "/" Sent',
        "* STATUS Sent (MESSAGES 0)",
      ]);
      assertEquals((await c.command("n1 NAMESPACE"))[0], '* NAMESPACE (("" "/")) NIL NIL');
      lines = await c.command("q1 GETQUOTAROOT INBOX");
      assertEquals(lines[0], '* QUOTAROOT INBOX ""');
      assertMatch(lines[1]!, /^\* QUOTA "" \((STORAGE \d+ \d+)?\)$/);
      // With UTF-8 enabled, names are UTF-8.
      assertEquals((await c.command("e1 ENABLE IMAP4rev2"))[0], "* ENABLED IMAP4rev2");
      lines = await c.command('l4 LIST "" "Caf*"');
      assert(lines.includes('* LIST (\\HasChildren) "/" "Café"'), lines.join("\n"));
    } finally {
      c.close();
    }
  });
});

Deno.test("IMAP: STORE UNCHANGEDSINCE reports MODIFIED; MOVE answers COPYUID and EXPUNGE", async () => {
  await withImap(async (t) => {
    for (const m of ["a", "b"]) {
      await t.store.messages.deliver(sampleMessage(m), [{ accountId: t.alice.id }]);
    }
    const c = await signedIn(t);
    try {
      await c.command("e1 ENABLE CONDSTORE");
      const select = await c.command("s1 SELECT INBOX");
      const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(select.join("\n"))![1]);
      let lines = await c.command(`u1 UID STORE 1 (UNCHANGEDSINCE ${modseq}) +FLAGS (\\Seen)`);
      assertMatch(lines[0]!, /^\* 1 FETCH \(UID 1 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$/);
      lines = await c.command(`u2 UID STORE 1 (UNCHANGEDSINCE ${modseq}) +FLAGS (\\Flagged)`);
      assertEquals(last(lines), "u2 OK [MODIFIED 1] Some messages were modified meanwhile");
      lines = await c.command("m1 UID MOVE 2 Archive");
      assertMatch(lines[0]!, /^\* OK \[COPYUID \d+ 2 1\] Moved$/);
      assertEquals(lines[1], "* 2 EXPUNGE");
      assertEquals(last(lines), "m1 OK MOVE completed");
      const archive = await t.store.mailboxes.get(t.alice.id, "Archive");
      assertEquals((await t.store.messages.list(archive.id)).length, 1);
    } finally {
      c.close();
    }
  });
});

Deno.test("IMAP: two sessions; an expunge reaches the other at NOOP, never during FETCH", async () => {
  await withImap(async (t) => {
    for (const m of ["a", "b", "c"]) {
      await t.store.messages.deliver(sampleMessage(m), [{ accountId: t.alice.id }]);
    }
    const one = await signedIn(t);
    const two = await signedIn(t);
    try {
      await one.command("s1 SELECT INBOX");
      await two.command("s2 SELECT INBOX");
      await one.command("f1 STORE 2 +FLAGS.SILENT (\\Deleted)");
      assertEquals(await one.command("x1 EXPUNGE"), ["* 2 EXPUNGE", "x1 OK EXPUNGE completed"]);
      // The other still numbers three messages; FETCH sends no EXPUNGE.
      const fetched = await two.command("f2 FETCH 1:* (UID)");
      assert(!fetched.some((l) => l.includes("EXPUNGE")), fetched.join("\n"));
      assertEquals(fetched.filter((l) => l.startsWith("* 3 FETCH")).length, 1);
      const noop = await two.command("n2 NOOP");
      assertEquals(noop, ["* 2 EXPUNGE", "n2 OK NOOP completed"]);
      assertEquals((await two.command("f3 FETCH 1:* (UID)")).slice(0, 2), [
        "* 1 FETCH (UID 1)",
        "* 2 FETCH (UID 3)",
      ]);
      // A flag change by one session reaches the other as FETCH FLAGS.
      await one.command("f4 STORE 1 +FLAGS (\\Answered)");
      assertEquals(await two.command("n3 NOOP"), [
        "* 1 FETCH (FLAGS (\\Answered))",
        "n3 OK NOOP completed",
      ]);
    } finally {
      one.close();
      two.close();
    }
  });
});

Deno.test("IMAP: each command is refused outside its states (checked at dispatch)", async () => {
  await withImap(async (t) => {
    const selectedOnly = [
      "CHECK",
      "CLOSE",
      "UNSELECT",
      "EXPUNGE",
      "SEARCH ALL",
      "FETCH 1 FLAGS",
      "STORE 1 +FLAGS (\\Seen)",
      "COPY 1 Trash",
      "MOVE 1 Trash",
      "UID FETCH 1 FLAGS",
      "UID EXPUNGE 1",
    ];
    const authenticated = [
      "ENABLE IMAP4rev2",
      "SELECT INBOX",
      "EXAMINE INBOX",
      "CREATE x",
      "DELETE x",
      "RENAME x y",
      "SUBSCRIBE INBOX",
      "UNSUBSCRIBE INBOX",
      'LIST "" *',
      'LSUB "" *',
      "NAMESPACE",
      "STATUS INBOX (MESSAGES)",
      "APPEND INBOX {0+}\r\n",
      "IDLE",
      'GETQUOTA ""',
      "GETQUOTAROOT INBOX",
    ];
    const c = await ImapClient.connectTls(t.ports.imaps, t.caPem);
    try {
      await c.line();
      let n = 0;
      // Not authenticated: all of them refused (and counted, so stay under the limit).
      for (const command of [...authenticated.slice(0, 8), ...selectedOnly.slice(0, 8)]) {
        const tag = `n${++n}`;
        assertMatch(last(await c.command(`${tag} ${command}`)), new RegExp(`^${tag} BAD`));
      }
      for (const command of ["CAPABILITY", "NOOP", 'ID ("name" "test")']) {
        assertMatch(last(await c.command(`a${++n} ${command}`)), /OK/);
      }
    } finally {
      c.close();
    }
    const d = await signedIn(t);
    try {
      let n = 0;
      for (const command of selectedOnly) {
        const tag = `s${++n}`;
        assertMatch(last(await d.command(`${tag} ${command}`)), new RegExp(`^${tag} BAD`));
      }
      assertMatch(last(await d.command("x1 STARTTLS")), /^x1 BAD/);
      assertMatch(last(await d.command("x2 LOGIN a b")), /^x2 BAD/);
      assertMatch(last(await d.command("x3 LOGOUT")), /^x3 OK/);
    } finally {
      d.close();
    }
  });
});

Deno.test("IMAP: APPEND answers TRYCREATE, OVERQUOTA, and takes literals beyond the pre-auth bound", async () => {
  await withImap(async (t) => {
    const c = await signedIn(t);
    try {
      const message = `Subject: big\r\n\r\n${"x".repeat(20_000)}\r\n`;
      await c.send(`p1 APPEND Nowhere {${message.length}}\r\n`);
      // Signed in, 20,000 octets are within the limit: the continuation comes.
      assertMatch((await c.line())!, /^\+ /);
      await c.send(`${message}\r\n`);
      assertMatch(last(await c.until("p1 ")), /^p1 NO \[TRYCREATE\]/);
      await c.send(`p2 APPEND INBOX (\\Seen) {${message.length}+}\r\n${message}\r\n`);
      assertMatch(last(await c.until("p2 ")), /^p2 OK \[APPENDUID \d+ 1\]/);
      await t.store.accounts.setQuota(t.alice.address, 30_000);
      const lines = await c.command('q1 GETQUOTA ""');
      assertEquals(lines[0], '* QUOTA "" (STORAGE 20 29)');
      await c.send(`p3 APPEND INBOX {${message.length}+}\r\n${message}\r\n`);
      assertMatch(last(await c.until("p3 ")), /^p3 NO \[OVERQUOTA\]/);
      const inbox = await t.store.mailboxes.get(t.alice.id, "INBOX");
      assertEquals((await t.store.messages.list(inbox.id)).map((m) => m.flags), [["\\Seen"]]);
    } finally {
      c.close();
    }
  });
});

Deno.test("IMAP: QRESYNC: VANISHED instead of EXPUNGE, and a resynchronising SELECT", async () => {
  await withImap(async (t) => {
    for (const m of ["a", "b", "c"]) {
      await t.store.messages.deliver(sampleMessage(m), [{ accountId: t.alice.id }]);
    }
    const c = await signedIn(t);
    try {
      assertEquals((await c.command("e1 ENABLE QRESYNC"))[0], "* ENABLED QRESYNC CONDSTORE");
      const select = (await c.command("s1 SELECT INBOX")).join("\n");
      const validity = Number(/UIDVALIDITY (\d+)/.exec(select)![1]);
      const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(select)![1]);
      await c.command("f1 UID STORE 1,3 +FLAGS.SILENT (\\Deleted)");
      assertEquals(await c.command("x1 UID EXPUNGE 1"), [
        "* VANISHED 1",
        "x1 OK EXPUNGE completed",
      ]);
      await c.command("f2 UID STORE 2 +FLAGS.SILENT (\\Seen)");
      const lines = await c.command(`s2 SELECT INBOX (QRESYNC (${validity} ${modseq}))`);
      assert(lines.includes("* OK [CLOSED] Previous mailbox is now closed"), lines.join("\n"));
      assert(lines.includes("* VANISHED (EARLIER) 1"), lines.join("\n"));
      assert(lines.some((l) => /^\* 1 FETCH \(UID 2 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$/.test(l)));
      assert(lines.some((l) => /^\* 2 FETCH \(UID 3 FLAGS \(\\Deleted\) MODSEQ/.test(l)));
      assertMatch(last(lines), /^s2 OK \[READ-WRITE\]/);
    } finally {
      c.close();
    }
  });
});
