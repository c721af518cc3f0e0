/**
 * Hostile clients against the SMTP server in process: relaying, SMTP smuggling, talking out of
 * turn, STARTTLS command injection. Each test asserts the exact reply (code and enhanced code)
 * and what was, or was not, stored or queued. Sign-in and sender rules are in
 * smtp_auth_test.ts.
 */

import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { type SmtpFixture, withSmtp } from "./smtp.ts";
import { message, mxSession, plain, submission, using, Wire } from "./smtp_wire.ts";
import { GOOD_PASSWORD } from "./store.ts";

/** Asserts that neither user received anything and nothing waits in the outbound queue. */
async function assertNothingStored(t: SmtpFixture): Promise<void> {
  assertEquals(await t.inbox(t.alice.id), [], "alice's INBOX");
  assertEquals(await t.inbox(t.bob.id), [], "bob's INBOX");
  assertEquals(await t.store.queue.list(), [], "outbound queue");
}

Deno.test("MX: never an open relay — remote, percent hack, source routes, quoted local parts", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
      await c.command("RCPT TO:<victim@remote.example>", "554 5.7.1");
      // A local sender address does not make the client local.
      await c.command("RSET", "250 2.0.0");
      await c.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
      await c.command("RCPT TO:<victim@remote.example>", "554 5.7.1");
      // The percent hack is not interpreted: "victim%remote.example" is an unknown local user.
      await c.command("RCPT TO:<victim%remote.example@example.org>", "550 5.1.1");
      await c.command("RCPT TO:<alice%remote.example@example.org>", "550 5.1.1");
      // RFC 5321 §4.1.1.3, Appendix C: the route is accepted and ignored, so the mailbox decides.
      await c.command("RCPT TO:<@a.example,@b.example:user@remote.example>", "554 5.7.1");
      // RFC 5321 §4.1.2: a quoted local part is one local part, not an address.
      await c.command('RCPT TO:<"alice@remote.example"@example.org>', "550 5.1.1");
      await c.command("RCPT TO:<@a.example:alice@example.org>", "250 2.1.5");
      await c.command("DATA", "354");
      await c.send(message("From: alice@example.org", "Subject: routed", "", "hello") + ".\r\n");
      await c.expect("250 2.0.0");
      await c.command("QUIT", "221 2.0.0");
    });
    const [stored, ...more] = await t.inbox(t.alice.id);
    assertEquals(more, []);
    assertStringIncludes(stored!, "Delivered-To: alice@example.org\r\n");
    assertStringIncludes(stored!, "Subject: routed\r\n");
    assertEquals(await t.inbox(t.bob.id), []);
    assertEquals(await t.store.queue.list(), [], "nothing was queued for a remote domain");
  });
});

Deno.test("MX: AUTH is not available on port 25, in clear or under STARTTLS (502 5.5.1)", async () => {
  await withSmtp(async (t) => {
    await using(() => Wire.connect(t.ports.mx), async (c) => {
      await c.expect("220");
      const ehlo = await c.command("EHLO client.example", "250");
      assert(!/\nAUTH/.test(ehlo), `EHLO offers no AUTH on port 25: ${ehlo}`);
      await c.command(`AUTH PLAIN ${plain("", "alice@example.org", GOOD_PASSWORD)}`, "502 5.5.1");
      await c.command("STARTTLS", "220 2.0.0");
      await c.startTls(t.caPem);
      const secure = await c.command("EHLO client.example", "250");
      assert(!/\nAUTH/.test(secure), `EHLO offers no AUTH on port 25: ${secure}`);
      await c.command(`AUTH PLAIN ${plain("", "alice@example.org", GOOD_PASSWORD)}`, "502 5.5.1");
      // Still unauthenticated: remote recipients are relaying.
      await c.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
      await c.command("RCPT TO:<victim@remote.example>", "554 5.7.1");
    });
    assertEquals(t.delays, [], "no password was checked");
  });
});

Deno.test("submission: AUTH needs TLS first and MAIL needs AUTH (530 5.7.0)", async () => {
  await withSmtp(async (t) => {
    await using(() => Wire.connect(t.ports.submission), async (c) => {
      await c.expect("220");
      const ehlo = await c.command("EHLO client.example", "250");
      assert(!/\nAUTH/.test(ehlo), `no AUTH offered before TLS: ${ehlo}`);
      // RFC 3207 §4, RFC 8314 §3.3: no password in clear.
      await c.command(`AUTH PLAIN ${plain("", "alice@example.org", GOOD_PASSWORD)}`, "530 5.7.0");
      // RFC 4954 §6: no transaction without authentication.
      await c.command("MAIL FROM:<alice@example.org>", "530 5.7.0");
      await c.command("RCPT TO:<victim@remote.example>", "503 5.5.1");
    });
    // Implicit TLS, not signed in: still no transaction.
    await using(() => submission(t, null, ""), async (c) => {
      await c.command("MAIL FROM:<alice@example.org>", "530 5.7.0");
      await c.command("RCPT TO:<victim@remote.example>", "503 5.5.1");
      await c.command("DATA", "503 5.5.1");
    });
    assertEquals(t.delays, [], "the password sent in clear was not checked");
    await assertNothingStored(t);
  });
});

/** What a lenient server would take for a second message after the fake end of the first. */
const SMUGGLED = "MAIL FROM:<evil@remote.example>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n" +
  "From: evil@remote.example\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n.\r\n";
const HEAD = "From: sender@remote.example\r\nSubject: first\r\n\r\nfirst body";

const SMUGGLING: readonly { readonly name: string; readonly content: string }[] = [
  { name: "\\n.\\r\\n", content: `${HEAD}\n.\r\n${SMUGGLED}` },
  { name: "\\r.\\r\\n", content: `${HEAD}\r.\r\n${SMUGGLED}` },
  { name: "\\n.\\n", content: `${HEAD}\n.\n${SMUGGLED}` },
  { name: "\\r\\n.\\r", content: `${HEAD}\r\n.\r${SMUGGLED}` },
  {
    name: "a bare LF inside a header line",
    content: `From: sender@remote.example\r\nSubject: a\nb\r\n\r\nbody\r\n.\r\n${SMUGGLED}`,
  },
  {
    name: "a bare CR inside a header line",
    content: `From: sender@remote.example\r\nSubject: a\rb\r\n\r\nbody\r\n.\r\n${SMUGGLED}`,
  },
];

for (const { name, content } of SMUGGLING) {
  Deno.test(`MX: smuggling with ${name} in DATA ends the session (554 5.5.2), nothing stored`, async () => {
    await withSmtp(async (t) => {
      await using(() => mxSession(t), async (c) => {
        await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
        await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
        await c.command("DATA", "354");
        await c.send(content);
        await c.expect("554 5.5.2");
        await c.assertClosed();
      });
      // Neither the first message nor the one built from the bytes after the fake terminator.
      await assertNothingStored(t);
    });
  });
}

Deno.test("MX: a bare LF in a BDAT chunk fails the transaction (554 5.5.2), nothing stored", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
      await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
      // Stored, this content would turn into two messages when relayed with DATA.
      const chunk = `${HEAD}\n.\n${SMUGGLED}`;
      await c.send(`BDAT ${chunk.length} LAST\r\n${chunk}`);
      await c.expect("554 5.5.2");
      // BDAT is length-delimited, so the session can go on; the transaction is over (RFC 3030 §2).
      await c.command("RCPT TO:<alice@example.org>", "503 5.5.1");
      await c.command("NOOP", "250 2.0.0");
    });
    await assertNothingStored(t);
  });
});

Deno.test("MX: a client that talks before the greeting is cut off (554 5.5.0)", async () => {
  await withSmtp(async (t) => {
    await using(() => Wire.connect(t.ports.mx), async (c) => {
      await c.send("EHLO early.example\r\nMAIL FROM:<sender@remote.example>\r\n");
      // No 220 first: the greeting is never sent to a client that did not wait for it.
      await c.expect("554 5.5.0");
      await c.assertClosed();
    });
    await assertNothingStored(t);
  }, { settings: { greetPauseMs: 300 } });
});

Deno.test("MX: message content sent with DATA, before the 354, ends the session (554 5.5.0)", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
      await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
      // RFC 2920 §3.1: DATA ends a pipelined group; the client must wait for the 354.
      await c.send(`DATA\r\n${message("Subject: eager", "", "body")}.\r\n${SMUGGLED}`);
      await c.expect("554 5.5.0");
      await c.assertClosed();
    });
    await assertNothingStored(t);
  });
});

Deno.test("MX: a command pipelined after STARTTLS is discarded, and EHLO is needed again", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      // CVE-2011-0411: what came in clear with STARTTLS must not run inside TLS.
      await c.send("STARTTLS\r\nEHLO injected.example\r\n");
      await c.expect("220 2.0.0");
      await c.startTls(t.caPem);
      // The injected EHLO did not run (its 250 would come first, and MAIL would be accepted):
      // RFC 3207 §4.2, the session starts over.
      await c.command("MAIL FROM:<sender@remote.example>", "503 5.5.1");
      const ehlo = await c.command("EHLO client.example", "250");
      assertStringIncludes(ehlo, "Hello client.example");
      assert(!ehlo.includes("STARTTLS"), `no STARTTLS offered under TLS: ${ehlo}`);
      await c.command("STARTTLS", "503 5.5.1");
      await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
      await c.command("QUIT", "221 2.0.0");
    });
  });
});

Deno.test("submission: AUTH pipelined after STARTTLS does not sign in", async () => {
  await withSmtp(async (t) => {
    await using(() => Wire.connect(t.ports.submission), async (c) => {
      await c.expect("220");
      await c.command("EHLO client.example", "250");
      const auth = `AUTH PLAIN ${plain("", "alice@example.org", GOOD_PASSWORD)}`;
      await c.send(`STARTTLS\r\nEHLO injected.example\r\n${auth}\r\n`);
      await c.expect("220 2.0.0");
      await c.startTls(t.caPem);
      await c.command("EHLO client.example", "250");
      await c.command("MAIL FROM:<alice@example.org>", "530 5.7.0");
    });
    assertEquals(t.delays, [], "the injected password was never checked");
  });
});

Deno.test("MX: VRFY answers the same for existing and unknown users; EXPN is refused", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      const known = await c.command("VRFY alice@example.org", "252 2.5.0");
      const unknown = await c.command("VRFY nobody@example.org", "252 2.5.0");
      const bare = await c.command("VRFY alice", "252 2.5.0");
      assertEquals(unknown, known, "VRFY of a user and of no user");
      assertEquals(bare, known);
      const list = await c.command("EXPN alice@example.org", "502 5.5.1");
      assertEquals(await c.command("EXPN nobody@example.org", "502 5.5.1"), list);
      await c.command("NOOP", "250 2.0.0");
    });
  });
});
