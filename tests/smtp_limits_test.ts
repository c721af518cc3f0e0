/**
 * Sending limits on submission (issue 6): messages per hour (450 4.7.1 beyond, a rate, so
 * temporary) and recipients per day (452 4.5.3 beyond, RFC 5321 §4.5.3.1.10), per account,
 * counted in the database; an account's own limits override the configured ones.
 *
 * @module
 */

import { assertEquals } from "./assert.ts";
import { withSmtp } from "./smtp.ts";
import { message, submission, using } from "./smtp_wire.ts";
import { GOOD_PASSWORD } from "./store.ts";

Deno.test("submission: messages per hour and recipients per day are bounded per account", async () => {
  await withSmtp(async (t) => {
    await t.store.sending.setLimits(t.alice.id, { messagesPerHour: 2, recipientsPerDay: 3 });
    const body = message("From: alice@example.org", "Subject: limits", "", "x");
    await using(() => submission(t, "alice@example.org", GOOD_PASSWORD), async (c) => {
      await c.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
      await c.command("RCPT TO:<bob@example.org>", "250 2.1.5");
      await c.command("RCPT TO:<carol@remote.example>", "250 2.1.5");
      await c.command("DATA", "354");
      await c.send(`${body}.\r\n`);
      await c.expect("250 2.0.0");
      // One recipient left today: the second RCPT is refused, the message still goes.
      await c.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
      await c.command("RCPT TO:<bob@example.org>", "250 2.1.5");
      const refused = await c.command("RCPT TO:<dave@remote.example>", "452 4.5.3");
      assertEquals(refused.includes("recipients per day"), true, refused);
      await c.command("DATA", "354");
      await c.send(`${body}.\r\n`);
      await c.expect("250 2.0.0");
      // Two messages this hour: the third waits.
      const waiting = await c.command("MAIL FROM:<alice@example.org>", "450 4.7.1");
      assertEquals(waiting.includes("2 messages per hour"), true, waiting);
    });
    // Bob has the configured limits, untouched by alice's.
    await using(() => submission(t, "bob@example.org", GOOD_PASSWORD), async (c) => {
      await c.command("MAIL FROM:<bob@example.org>", "250 2.1.0");
      await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
    });
    const use = await t.store.sending.use(t.alice.id);
    assertEquals([use.messagesLastHour, use.recipientsLastDay], [2, 3]);
    // 0: no limit for alice; null: back to the configuration's.
    await t.store.sending.setLimits(t.alice.id, { messagesPerHour: 0 });
    assertEquals((await t.store.sending.use(t.alice.id)).messagesPerHour, null);
    await t.store.sending.setLimits(t.alice.id, { messagesPerHour: null });
    assertEquals((await t.store.sending.use(t.alice.id)).messagesPerHour, 200);
  });
});

Deno.test("submission: parallel sessions together stay within messages per hour", async () => {
  await withSmtp(async (t) => {
    const limit = 3;
    const sessions = 6;
    await t.store.sending.setLimits(t.alice.id, { messagesPerHour: limit });
    const body = message("From: alice@example.org", "Subject: parallel", "", "x");
    // Every session passes the check at MAIL (nothing is counted yet), then all send DATA.
    const opened = await Promise.all(
      Array.from({ length: sessions }, () => submission(t, "alice@example.org", GOOD_PASSWORD)),
    );
    try {
      for (const c of opened) {
        await c.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
        await c.command("RCPT TO:<bob@example.org>", "250 2.1.5");
        await c.command("DATA", "354");
      }
      const replies = await Promise.all(opened.map(async (c) => {
        await c.send(`${body}.\r\n`);
        return (await c.reply()) ?? "";
      }));
      const accepted = replies.filter((r) => r.startsWith("250 2.0.0"));
      const waiting = replies.filter((r) => r.startsWith("450 4.7.1 Sending limit reached"));
      assertEquals(
        [accepted.length, waiting.length],
        [limit, sessions - limit],
        replies.join("\n"),
      );
    } finally {
      for (const c of opened) c.close();
    }
    assertEquals((await t.store.sending.use(t.alice.id)).messagesLastHour, limit);
    assertEquals((await t.inbox(t.bob.id)).length, limit);
  });
});

Deno.test("submission: a sudden burst puts the account on outbound hold; its mail is queued held", async () => {
  await withSmtp(async (t) => {
    const body = message("From: alice@example.org", "Subject: burst", "", "x");
    const replies: string[] = [];
    await using(() => submission(t, "alice@example.org", GOOD_PASSWORD), async (c) => {
      for (let i = 0; i < 3; i++) {
        await c.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
        await c.command(`RCPT TO:<r${i}@remote.example>`, "250 2.1.5");
        await c.command("DATA", "354");
        await c.send(`${body}.\r\n`);
        replies.push(await c.expect("250 2.0.0"));
      }
    });
    assertEquals(replies.map((r) => r.includes("held for review")), [false, false, true]);
    assertEquals(await t.store.queueAdmin.isAccountHeld(t.alice.id), true);
    // Everything alice queued waits for an administrator (fumi queue release).
    const held = await t.store.queueAdmin.list({ held: true });
    assertEquals(held.length, 3);
  }, { settings: { burstHold: { floor: 3, factor: 10 } } });
});

Deno.test("submission: too many attachments are refused after DATA (552 5.3.4)", async () => {
  await withSmtp(async (t) => {
    const attachment = (name: string) => [
      "--b",
      `Content-Type: application/pdf; name="${name}"`,
      "Content-Disposition: attachment",
      "Content-Transfer-Encoding: base64",
      "",
      "JVBERi0xLjQK",
    ];
    const body = message(
      "From: alice@example.org",
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain",
      "",
      "Two files.",
      ...attachment("one.pdf"),
      ...attachment("two.pdf"),
      "--b--",
    );
    await using(() => submission(t, "alice@example.org", GOOD_PASSWORD), async (c) => {
      await c.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
      await c.command("RCPT TO:<bob@example.org>", "250 2.1.5");
      await c.command("DATA", "354");
      await c.send(`${body}.\r\n`);
      const refused = await c.expect("552 5.3.4");
      assertEquals(refused.includes("Too many attachments: at most 1"), true, refused);
    });
    assertEquals((await t.inbox(t.bob.id)).length, 0);
  }, { settings: { attachments: { maxSize: 0, maxCount: 1 } } });
});
