/**
 * The SMTP server's bounds and refusals, against the server in process: recipients per message
 * and per session, command line length, error count, idle time, quota, bad HELO, DATA without
 * recipients, the null sender, the empty SASL challenge. Each test asserts the exact reply
 * (code and enhanced code) and what was, or was not, stored.
 */

import type { Check } from "../src/filter/mod.ts";
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { type SmtpFixture, withSmtp } from "./smtp.ts";
import { message, mxSession, submission, using, Wire } from "./smtp_wire.ts";

/** MAIL and the recipients, lock-step; the recipients' expected statuses in order. */
async function transaction(c: Wire, rcpts: readonly [string, string][]): Promise<void> {
  await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
  for (const [address, status] of rcpts) await c.command(`RCPT TO:<${address}>`, status);
}

/** DATA with a small message whose subject is `subject`; expects the 250. */
async function data(c: Wire, subject: string): Promise<void> {
  await c.command("DATA", "354");
  await c.send(message("From: sender@remote.example", `Subject: ${subject}`, "", "body") + ".\r\n");
  await c.expect("250 2.0.0");
}

/** The Subject of each message in an account's INBOX. */
async function subjects(t: SmtpFixture, accountId: number): Promise<string[]> {
  return (await t.inbox(accountId)).map((m) => /\r\nSubject: ([^\r]*)\r\n/.exec(m)?.[1] ?? "?");
}

Deno.test("MX: 1,001 recipients — the first 100 get 250 2.1.5, the rest 452 4.5.3", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
      // RFC 2920: pipelined, one write; RFC 5233: alice+N@ is alice's.
      let rcpts = "";
      for (let i = 0; i < 1001; i++) rcpts += `RCPT TO:<alice+${i}@example.org>\r\n`;
      await c.send(rcpts);
      const statuses: string[] = [];
      for (let i = 0; i < 1001; i++) {
        const reply = await c.reply();
        assert(reply !== null, `reply ${i} missing`);
        statuses.push(reply.split(" ", 2).join(" "));
      }
      // RFC 5321 §4.5.3.1.8 (at least 100), §4.5.3.1.10 (452, not 552, over the limit).
      assertEquals(statuses, [
        ...Array<string>(100).fill("250 2.1.5"),
        ...Array<string>(901).fill("452 4.5.3"),
      ]);
      await data(c, "many");
      // 452 is temporary: not counted as misbehaviour, the session goes on.
      await c.command("NOOP", "250 2.0.0");
    });
    const [stored, ...more] = await t.inbox(t.alice.id);
    assertEquals(more, [], "one copy for alice, however many of her addresses");
    assertStringIncludes(stored!, "Delivered-To: alice+0@example.org\r\n");
    assertStringIncludes(stored!, "Subject: many\r\n");
  });
});

Deno.test("MX: the recipients of a whole session are bounded (452 4.5.3)", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      await transaction(c, [["alice@example.org", "250 2.1.5"], ["bob@example.org", "250 2.1.5"]]);
      await data(c, "one");
      await transaction(c, [["alice+x@example.org", "250 2.1.5"], [
        "bob@example.org",
        "452 4.5.3",
      ]]);
      await data(c, "two");
      await transaction(c, [["bob@example.org", "452 4.5.3"]]);
      await c.command("DATA", "554 5.5.1");
      await c.command("RSET", "250 2.0.0");
      await c.command("NOOP", "250 2.0.0");
    });
    // The bound is per session: a new one starts afresh.
    await using(() => mxSession(t), async (c) => {
      await transaction(c, [["bob@example.org", "250 2.1.5"]]);
      await data(c, "three");
    });
    assertEquals(await subjects(t, t.alice.id), ["one", "two"]);
    assertEquals(await subjects(t, t.bob.id), ["one", "three"]);
  }, { settings: { maxRecipientsPerSession: 3 } });
});

Deno.test("MX: a 10,000-byte command line is 500 5.5.2 and the session goes on", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
      const long = `RCPT TO:<bob@example.org> X=${"x".repeat(10_000 - 29)} `;
      assertEquals(long.length, 10_000);
      const reply = await c.command(long, "500 5.5.2");
      assertStringIncludes(reply, "Line too long");
      // Exactly one reply for it: no piece of the line ran as a command of its own.
      await c.command("NOOP", "250 2.0.0");
      // The transaction is intact.
      await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
      await data(c, "after the long line");
    });
    assertEquals(await subjects(t, t.alice.id), ["after the long line"]);
    assertEquals(await t.inbox(t.bob.id), []);
  });
});

Deno.test("MX: command lines with a bare LF or CR are 500 5.5.2 and run nothing", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
      // RFC 5321 §2.3.8: lines end in CRLF. Neither RSET may run: the transaction survives.
      await c.send("RSET\n");
      await c.expect("500 5.5.2");
      await c.send("NOOP\rRSET\r\n");
      await c.expect("500 5.5.2");
      await c.send("NOOP\0RSET\r\n");
      await c.expect("500 5.5.2");
      await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
      await data(c, "after the bare line ends");
    });
    assertEquals(await subjects(t, t.alice.id), ["after the bare line ends"]);
  });
});

Deno.test("MX: the 20th error ends the session with 421 4.7.0", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      for (let i = 1; i < 20; i++) await c.command(`XYZZY${"Y".repeat(i)}`, "500 5.5.2");
      await c.command("XYZZY", "500 5.5.2");
      await c.expect("421 4.7.0");
      await c.assertClosed();
    });
  });
});

for (const line of ["GET / HTTP/1.1", "POST /login HTTP/1.1", "CONNECT example.org:443 HTTP/1.1"]) {
  Deno.test(`MX: "${line}" is not an SMTP client — 421 4.3.2, closed`, async () => {
    await withSmtp(async (t) => {
      await using(() => mxSession(t), async (c) => {
        await c.send(`${line}\r\nHost: mail.example.org\r\n\r\n`);
        await c.expect("421 4.3.2");
        await c.assertClosed();
      });
    });
  });
}

Deno.test({
  name: 'MX: an HTTP header line ("Host: …") is not an SMTP client — 421 4.3.2, closed',
  fn: async () => {
    await withSmtp(async (t) => {
      await using(() => mxSession(t), async (c) => {
        await c.send("Host: mail.example.org\r\nUser-Agent: test\r\n\r\n");
        await c.expect("421 4.3.2");
        await c.assertClosed();
      });
    });
  },
});

Deno.test("MX: HELO and EHLO with a bad argument are 501 5.5.4 and greet nobody", async () => {
  await withSmtp(async (t) => {
    await using(() => Wire.connect(t.ports.mx), async (c) => {
      await c.expect("220");
      for (
        const line of [
          "HELO",
          "EHLO",
          "EHLO two words",
          "EHLO <client.example>",
          "EHLO under_score.example",
          "EHLO -dash.example",
          "EHLO [300.1.1.1]",
          "EHLO [IPv6:not::an::address]",
          "HELO client.example extra",
        ]
      ) {
        await c.command(line, "501 5.5.4");
      }
      // RFC 5321 §4.1.4: still no HELO/EHLO.
      await c.command("MAIL FROM:<sender@remote.example>", "503 5.5.1");
      await c.command("EHLO [192.0.2.1]", "250");
      await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
    });
  });
});

Deno.test("MX: DATA and BDAT without an accepted recipient are 554 5.5.1 (RFC 5321 §3.3)", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      await c.command("DATA", "503 5.5.1"); // no MAIL yet
      await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
      await c.command("DATA", "554 5.5.1");
      await c.command("RCPT TO:<nobody@example.org>", "550 5.1.1");
      await c.command("DATA", "554 5.5.1");
      // The chunk is consumed even though it is refused: "QUIT" in it is not a command.
      await c.send("BDAT 6 LAST\r\nQUIT\r\n");
      await c.expect("554 5.5.1");
      // The transaction is still open: a recipient can be added and the message sent.
      await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
      await data(c, "late recipient");
    });
    assertEquals(await subjects(t, t.alice.id), ["late recipient"]);
  });
});

Deno.test("MX: the null sender <> is accepted and stored with Return-Path: <>", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      // RFC 5321 §4.5.5: bounces come from the null reverse-path.
      await c.command("MAIL FROM:<>", "250 2.1.0");
      await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
      await data(c, "bounce");
    });
    const [stored] = await t.inbox(t.alice.id);
    assert(stored!.startsWith("Return-Path: <>\r\n"), stored);
  });
});

Deno.test("MX: an idle client is disconnected with 421 4.4.2", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
      const started = Date.now();
      await c.expect("421 4.4.2");
      const waited = Date.now() - started;
      assert(waited >= 250 && waited < 5000, `timed out after ${waited} ms`);
      await c.assertClosed();
    });
    assertEquals(await t.inbox(t.alice.id), []);
  }, { settings: { idleTimeoutMs: 300 } });
});

Deno.test("MX: message content trickled in slower than dataTotalMs allows is cut off", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
      await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
      await c.command("DATA", "354");
      // Each byte comes well within the per-read timeout; all of them together do not.
      const started = Date.now();
      for (let i = 0; i < 12 && Date.now() - started < 3000; i++) {
        try {
          await c.send("x");
        } catch {
          break; // the server closed the connection
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await c.expect("421 4.4.2");
      const waited = Date.now() - started;
      assert(waited >= 500 && waited < 3000, `cut off after ${waited} ms`);
    });
    assertEquals(await t.inbox(t.alice.id), []);
  }, { settings: { dataTimeoutMs: 1000, dataTotalMs: 600 } });
});

Deno.test("MX: a recipient over quota is 452 4.2.2; the others still get the message", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      await transaction(c, [["alice@example.org", "250 2.1.5"]]);
      await data(c, "fills the quota");
    });
    await t.store.accounts.setQuota("alice@example.org", 100);
    await using(() => mxSession(t), async (c) => {
      await transaction(c, [
        ["alice@example.org", "452 4.2.2"],
        ["alice+tag@example.org", "452 4.2.2"],
        ["bob@example.org", "250 2.1.5"],
      ]);
      await data(c, "for bob");
      await c.command("NOOP", "250 2.0.0");
    });
    assertEquals(await subjects(t, t.alice.id), ["fills the quota"]);
    assertEquals(await subjects(t, t.bob.id), ["for bob"]);
  });
});

Deno.test({
  name: "MX: a mailbox filled exactly to its quota is 452 4.2.2 at RCPT",
  fn: async () => {
    await withSmtp(async (t) => {
      await using(() => mxSession(t), async (c) => {
        await transaction(c, [["alice@example.org", "250 2.1.5"]]);
        await data(c, "fills the quota");
      });
      const { usedBytes } = await t.store.accounts.get("alice@example.org");
      assert(usedBytes > 0);
      await t.store.accounts.setQuota("alice@example.org", usedBytes);
      await using(() => mxSession(t), async (c) => {
        await transaction(c, [
          ["alice@example.org", "452 4.2.2"],
          ["bob@example.org", "250 2.1.5"],
        ]);
        await data(c, "for bob");
      });
      assertEquals(await subjects(t, t.alice.id), ["fills the quota"]);
      assertEquals(await subjects(t, t.bob.id), ["for bob"]);
    });
  },
});

Deno.test({
  name: 'submission: an empty SASL challenge is "334 " with its space (RFC 4954 §8)',
  fn: async () => {
    await withSmtp(async (t) => {
      await using(() => submission(t, null, ""), async (c) => {
        await c.send("AUTH PLAIN\r\n");
        assertEquals(await c.rawReply(), "334 \r\n");
        await c.command("*", "501 5.0.0");
      });
    });
  },
});

Deno.test("MX: a looping message is refused with 554 5.4.6 (RFC 5321 §6.3)", async () => {
  await withSmtp(async (t) => {
    const hops = "Received: from a by b; Sat, 28 Nov 2026 00:00:00 +0000\r\n".repeat(101);
    for (const head of [hops, "Delivered-To: alice@example.org\r\n"]) {
      await using(() => mxSession(t), async (c) => {
        await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
        await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
        await c.command("DATA", "354");
        await c.send(`${head}From: sender@remote.example\r\nSubject: loop\r\n\r\nx\r\n.\r\n`);
        await c.expect("554 5.4.6");
      });
    }
    assertEquals(await t.inbox(t.alice.id), []);
  });
});

Deno.test("MX: commands that move nothing forward are bounded (421 4.7.0)", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      for (let i = 0; i < 4; i++) await c.command("NOOP", "250 2.0.0");
      await c.command("RSET", "421 4.7.0");
      await c.assertClosed();
    });
  }, { settings: { maxJunkCommands: 5 } });
});

Deno.test("MX: one time bound covers a message's BDAT chunks together", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      await c.command("MAIL FROM:<sender@remote.example>", "250 2.1.0");
      await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
      const started = Date.now();
      let reply = "";
      // Each chunk is quick; together they take longer than dataTotalMs.
      for (let i = 0; i < 20 && !reply.startsWith("421"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await c.send("BDAT 1\r\nx");
        reply = (await c.reply()) ?? "";
      }
      assertEquals(reply.slice(0, 9), "421 4.4.2");
      const waited = Date.now() - started;
      assert(waited >= 500 && waited < 1500, `cut off after ${waited} ms`);
    });
    assertEquals(await t.inbox(t.alice.id), []);
  }, { settings: { dataTotalMs: 600 } });
});

Deno.test("MX: messages per session are bounded; the client reconnects (421 4.7.0)", async () => {
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      for (const subject of ["one", "two"]) {
        await transaction(c, [["alice@example.org", "250 2.1.5"]]);
        await data(c, subject);
      }
      await c.command("MAIL FROM:<sender@remote.example>", "421 4.7.0");
      await c.assertClosed();
    });
    assertEquals(await subjects(t, t.alice.id), ["one", "two"]);
  }, { settings: { maxMessagesPerSession: 2 } });
});

Deno.test("MX: the filter chain sees each stage, the data stage with the whole envelope", async () => {
  const seen: string[] = [];
  const check: Check = {
    name: "recorder",
    stages: ["connect", "helo", "mail", "rcpt", "data"],
    run(context) {
      const recipients = context.recipients.map((r) => r.canonical).join(",");
      seen.push(
        `${context.stage} sender=${
          context.sender?.canonical ?? context.sender
        } rcpts=${recipients}` +
          (context.message ? ` size=${context.message.size}` : ""),
      );
      return { action: "accept" };
    },
  };
  await withSmtp(async (t) => {
    await using(() => mxSession(t), async (c) => {
      await transaction(c, [["alice@example.org", "250 2.1.5"], ["bob@example.org", "250 2.1.5"]]);
      await data(c, "filtered");
    });
  }, { checks: [check] });
  assertEquals(seen.map((s) => s.replace(/ size=\d+/, " size=N")), [
    "connect sender=undefined rcpts=",
    "helo sender=undefined rcpts=",
    "mail sender=sender@remote.example rcpts=",
    "rcpt sender=sender@remote.example rcpts=",
    "rcpt sender=sender@remote.example rcpts=alice@example.org",
    "data sender=sender@remote.example rcpts=alice@example.org,bob@example.org size=N",
  ]);
});
