/**
 * Sign-in and sender rules on submission, against the server in process: refused passwords
 * with their brute-force delays and bans, SASL exchanges cut short or garbled, and an
 * authenticated user trying to send as someone else. Each test asserts the exact reply and
 * what was, or was not, stored or queued.
 */

import { assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { type SmtpFixture, withSmtp } from "./smtp.ts";
import { message, plain, submission, using, Wire } from "./smtp_wire.ts";
import { GOOD_PASSWORD } from "./store.ts";

/** Delays of the first 20 failures (src/auth/bans.ts `delayFor` with the default policy). */
const DELAYS = [0, 0, 0, 0, 0, 250, 500, 1000, 2000, 4000, 8000, ...Array<number>(9).fill(10_000)];

interface Failure {
  readonly protocol: string;
  readonly ip: string;
  readonly account: string;
  readonly reason: string;
}

/** The failed sign-ins the bans recorded, oldest first. */
async function failures(t: SmtpFixture): Promise<Failure[]> {
  const rows = await t.store.sql<Failure[]>`
    select protocol, host(ip) as ip, account, reason from auth_failures order by id`;
  return rows.map((row) => ({ ...row }));
}

Deno.test("submission: wrong passwords get 535 5.7.8, are delayed, counted, and end in a ban", async () => {
  await withSmtp(async (t) => {
    const wrong = (i: number) => `AUTH PLAIN ${plain("", "alice@example.org", `wrong ${i}`)}`;
    await using(() => submission(t, null, ""), async (c) => {
      for (let i = 1; i <= 6; i++) {
        await c.command(wrong(i), "535 5.7.8");
        assertEquals(t.delays, DELAYS.slice(0, i), `delays after ${i} failures`);
      }
      // Not signed in by any of them.
      await c.command("MAIL FROM:<alice@example.org>", "530 5.7.0");
      await c.command("QUIT", "221 2.0.0");
    });
    assertEquals((await failures(t)).length, 6);
    // A new session does not start the count again: it is kept per address, in the database.
    await using(() => submission(t, null, ""), async (c) => {
      for (let i = 7; i <= 20; i++) {
        await c.command(wrong(i), "535 5.7.8");
        assertEquals(t.delays, DELAYS.slice(0, i), `delays after ${i} failures`);
      }
    });
    const rows = await failures(t);
    assertEquals(rows.length, 20);
    for (const row of rows) {
      assertEquals(row, {
        protocol: "smtp",
        ip: "127.0.0.1",
        account: "alice@example.org",
        reason: "bad-password",
      });
    }
    // The 20th failure banned the address: it is refused at connect (RFC 5321 §3.1, 421).
    assertEquals(await t.bans.isBanned("127.0.0.1"), true);
    await using(() => Wire.connect(t.ports.mx), async (c) => {
      await c.expect("421 4.7.0");
      await c.assertClosed();
    });
    await using(() => Wire.connect(t.ports.submission), async (c) => {
      await c.expect("421 4.7.0");
      await c.assertClosed();
    });
  });
});

Deno.test("submission: PLAIN with another user's authorization identity is refused (535 5.7.8)", async () => {
  await withSmtp(async (t) => {
    await using(() => submission(t, null, ""), async (c) => {
      // RFC 4616 §2: authzid "bob", authcid alice with alice's right password.
      await c.command(
        `AUTH PLAIN ${plain("bob@example.org", "alice@example.org", GOOD_PASSWORD)}`,
        "535 5.7.8",
      );
      await c.command("MAIL FROM:<alice@example.org>", "530 5.7.0");
      await c.command("MAIL FROM:<bob@example.org>", "530 5.7.0");
      // One's own identity as authzid is fine.
      await c.command(
        `AUTH PLAIN ${plain("alice@example.org", "alice@example.org", GOOD_PASSWORD)}`,
        "235 2.7.0",
      );
      await c.command("MAIL FROM:<bob@example.org>", "553 5.7.1");
      await c.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
    });
  });
});

Deno.test("submission: a cancelled SASL exchange is 501 5.0.0, bad base64 501 5.5.2", async () => {
  await withSmtp(async (t) => {
    await using(() => submission(t, null, ""), async (c) => {
      // RFC 4954 §4: "*" cancels.
      await c.command("AUTH PLAIN", "334");
      await c.command("*", "501 5.0.0");
      await c.command("AUTH LOGIN", "334");
      await c.command(btoa("alice@example.org"), "334");
      await c.command("*", "501 5.0.0");
      // Not base64, as an initial response and as a response to a challenge.
      await c.command("AUTH PLAIN !!!not-base64!!!", "501 5.5.2");
      await c.command("AUTH PLAIN", "334");
      await c.command("%%%", "501 5.5.2");
      await c.command("AUTH LOGIN", "334");
      await c.command("YWxpY2U", "501 5.5.2"); // "alice" with its padding cut off
      // Decodes, but is not a PLAIN message (one NUL).
      await c.command(`AUTH PLAIN ${btoa("alice@example.org\0pw")}`, "501 5.5.2");
      await c.command("AUTH NOSUCH", "504 5.5.4");
      // Nothing was signed in, and the session still works.
      await c.command("MAIL FROM:<alice@example.org>", "530 5.7.0");
      await c.command(`AUTH PLAIN ${plain("", "alice@example.org", GOOD_PASSWORD)}`, "235 2.7.0");
    });
    assertEquals(t.delays, [], "no password was checked for a malformed or cancelled exchange");
    assertEquals(await failures(t), []);
  });
});

/** Sends one message on an authenticated session; returns the final reply. */
async function submit(
  c: Wire,
  from: string,
  recipients: readonly string[],
  content: string,
  status: string,
): Promise<string> {
  await c.command(`MAIL FROM:<${from}>`, "250 2.1.0");
  for (const rcpt of recipients) await c.command(`RCPT TO:<${rcpt}>`, "250 2.1.5");
  await c.command("DATA", "354");
  await c.send(`${content}.\r\n`);
  return await c.expect(status);
}

Deno.test("submission: alice cannot send as bob, in MAIL FROM or in From: (553 5.7.1)", async () => {
  await withSmtp(async (t) => {
    await using(() => submission(t, "alice@example.org", GOOD_PASSWORD), async (c) => {
      await c.command("MAIL FROM:<bob@example.org>", "553 5.7.1");
      // RFC 5321 §4.5.5: the null sender is for bounces, which users do not send.
      await c.command("MAIL FROM:<>", "553 5.7.1");
      await c.command("MAIL FROM:<bob+tag@example.org>", "553 5.7.1");
      await submit(
        c,
        "alice@example.org",
        ["bob@example.org", "carol@remote.example"],
        message("From: Bob <bob@example.org>", "Subject: spoofed", "", "hi"),
        "553 5.7.1",
      );
      // Every From: address must be hers, not just the first.
      await submit(
        c,
        "alice@example.org",
        ["bob@example.org"],
        message("From: alice@example.org, bob@example.org", "Subject: spoofed too", "", "hi"),
        "553 5.7.1",
      );
      // The refused transactions are over: RCPT needs a new MAIL.
      await c.command("RCPT TO:<bob@example.org>", "503 5.5.1");
    });
    assertEquals(await t.inbox(t.bob.id), []);
    assertEquals(await t.inbox(t.alice.id), []);
    assertEquals(await t.store.queue.list(), [], "nothing queued for the remote recipient");
  });
});

Deno.test("submission: allowed senders and alice's subaddresses may be used", async () => {
  await withSmtp(async (t) => {
    await using(() => submission(t, "alice@example.org", GOOD_PASSWORD), async (c) => {
      // RFC 5233: alice+tag@ is alice's.
      await submit(
        c,
        "alice+lists@example.org",
        ["bob@example.org"],
        message("From: Alice <alice+lists@example.org>", "Subject: tagged", "", "hi"),
        "250 2.0.0",
      );
      await c.command("MAIL FROM:<bob@example.org>", "553 5.7.1");
    });
    await t.store.accounts.setAllowedSenders("alice@example.org", ["@example.org"]);
    await using(() => submission(t, "alice@example.org", GOOD_PASSWORD), async (c) => {
      await submit(
        c,
        "bob@example.org",
        ["bob@example.org"],
        message("From: bob@example.org", "Subject: on behalf", "", "hi"),
        "250 2.0.0",
      );
      // The domain pattern covers example.org only.
      await c.command("MAIL FROM:<someone@remote.example>", "553 5.7.1");
    });
    const stored = await t.inbox(t.bob.id);
    assertEquals(stored.length, 2);
    assertStringIncludes(stored[0]!, "Subject: tagged\r\n");
    assertStringIncludes(stored[1]!, "Subject: on behalf\r\n");
    assertStringIncludes(stored[1]!, "Return-Path: <bob@example.org>\r\n");
  });
});

Deno.test("submission: a message without Date and Message-ID gets both (RFC 6409 §8.2, §8.3)", async () => {
  await withSmtp(async (t) => {
    await using(() => submission(t, "alice@example.org", GOOD_PASSWORD), async (c) => {
      await submit(
        c,
        "alice@example.org",
        ["bob@example.org"],
        message("From: alice@example.org", "Subject: bare", "", "hi"),
        "250 2.0.0",
      );
      await submit(
        c,
        "alice@example.org",
        ["bob@example.org"],
        message(
          "From: alice@example.org",
          "Date: Fri, 27 Nov 2026 12:00:00 +0000",
          "Message-ID: <own@client.example>",
          "Subject: complete",
          "",
          "hi",
        ),
        "250 2.0.0",
      );
    });
    const [bare, complete] = await t.inbox(t.bob.id);
    assertMatch(
      bare!,
      /\r\nDate: [A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\n/,
    );
    assertMatch(bare!, /\r\nMessage-ID: <[^@\s>]+@mail\.example\.org>\r\n/);
    assertEquals(bare!.match(/^Date:/gm)?.length, 1);
    assertEquals(bare!.match(/^Message-ID:/gim)?.length, 1);
    // A message that has them keeps its own and gets no second one.
    assertEquals(complete!.match(/^Date:/gm), ["Date:"]);
    assertEquals(complete!.match(/^Message-ID:.*$/gim), ["Message-ID: <own@client.example>"]);
  });
});

Deno.test("submission: a From: hiding another address, or a foreign Sender:, is refused", async () => {
  await withSmtp(async (t) => {
    for (
      const header of [
        "From: <alice@example.org> bob@example.org",
        'From: "bob@example.org" <alice@example.org>',
        "From: alice@example.org\r\nSender: bob@example.org",
      ]
    ) {
      await using(() => submission(t, "alice@example.org", GOOD_PASSWORD), async (c) => {
        await c.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
        await c.command("RCPT TO:<bob@example.org>", "250 2.1.5");
        await c.command("DATA", "354");
        await c.send(`${header}\r\nSubject: spoof\r\n\r\nbody\r\n.\r\n`);
        await c.expect("553 5.7.1");
      });
    }
    assertEquals(await t.inbox(t.bob.id), []);
  });
});
