/**
 * Real clients against the server in process (issue: "Real clients, not only our own").
 * nodemailer here: MX in clear and with STARTTLS, submission with each AUTH mechanism, implicit
 * TLS, a pooled session. Beside this file: nodemailer with large, UTF-8 and 8-bit content
 * (smtp_clients_content_test.ts), Python's smtplib, swaks, and our raw client for what none of
 * them speaks (BDAT, SCRAM-SHA-256, pipelining by hand).
 *
 * Every message is checked in the store: the trace fields the server added on top, then the
 * content as the client sent it.
 *
 * @module
 */

// @ts-types="@types/nodemailer"
import nodemailer from "nodemailer";
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { withSmtp } from "./smtp.ts";
import { assertTrace, HELO } from "./smtp_clients.ts";
import { commandLog, send } from "./smtp_clients_nodemailer.ts";
import { GOOD_PASSWORD } from "./store.ts";

Deno.test("nodemailer: MX in clear, then with opportunistic STARTTLS", async () => {
  await withSmtp(async (t) => {
    for (const tls of ["none", "starttls"] as const) {
      const { info, lines } = await send(t, { port: t.ports.mx, tls }, {
        from: "Remote Sender <sender@remote.example>",
        to: t.alice.address,
        subject: `MX ${tls}`,
        text: `Hello over port 25 (${tls}).\n`,
      });
      assertEquals(info.accepted, [t.alice.address]);
      assertEquals(lines.includes("STARTTLS"), tls === "starttls");
    }
    const stored = await t.inbox(t.alice.id);
    assertEquals(stored.length, 2);
    for (const [i, protocol] of ["ESMTP", "ESMTPS"].entries()) {
      const sent = assertTrace(stored[i]!, {
        sender: "sender@remote.example",
        recipient: t.alice.address,
        helo: HELO,
        protocol,
        mx: true,
      });
      assert(sent.startsWith("From: Remote Sender <sender@remote.example>\r\n"), sent);
      assertStringIncludes(sent, `Subject: MX ${i === 0 ? "none" : "starttls"}\r\n`);
      assertStringIncludes(sent, "\r\n\r\nHello over port 25");
    }
  });
});

Deno.test("nodemailer: submission with STARTTLS and AUTH PLAIN, then AUTH LOGIN", async () => {
  await withSmtp(async (t) => {
    for (const method of ["PLAIN", "LOGIN"] as const) {
      const { info, lines } = await send(t, {
        port: t.ports.submission,
        tls: "starttls",
        auth: { method },
      }, {
        from: `Alice <${t.alice.address}>`,
        to: t.bob.address,
        subject: `Submitted with ${method}`,
        text: `Signed in with AUTH ${method}.\n`,
      });
      assertEquals(info.accepted, [t.bob.address]);
      // The mechanism asked for is the one used, after STARTTLS and a second EHLO.
      const auth = lines.findIndex((l) => l.startsWith("AUTH "));
      assert(auth > lines.indexOf("STARTTLS") && lines.indexOf("STARTTLS") > 0, `${lines}`);
      assert(lines[auth]!.startsWith(`AUTH ${method}`), lines[auth]);
      assertEquals(lines.filter((l) => l === `EHLO ${HELO}`).length, 2);
    }
    const stored = await t.inbox(t.bob.id);
    assertEquals(stored.length, 2);
    for (const [i, method] of ["PLAIN", "LOGIN"].entries()) {
      const sent = assertTrace(stored[i]!, {
        sender: t.alice.address,
        recipient: t.bob.address,
        helo: HELO,
        protocol: "ESMTPSA",
        mx: false,
      });
      assertStringIncludes(sent, `From: Alice <${t.alice.address}>\r\n`);
      assertStringIncludes(sent, `Subject: Submitted with ${method}\r\n`);
      assertStringIncludes(sent, `\r\n\r\nSigned in with AUTH ${method}.\r\n`);
    }
    assertEquals(await t.inbox(t.alice.id), []);
  });
});

Deno.test("nodemailer: implicit TLS on submissions (secure: true)", async () => {
  await withSmtp(async (t) => {
    const { lines } = await send(t, { port: t.ports.submissions, tls: "tls", auth: {} }, {
      from: t.alice.address,
      to: [t.bob.address, t.alice.address],
      subject: "Over implicit TLS",
      text: "Port 465 style.\n",
    });
    assertEquals(lines.includes("STARTTLS"), false);
    assert(lines.some((l) => l.startsWith("AUTH ")), `${lines}`);
    for (const account of [t.bob, t.alice]) {
      const [stored, ...more] = await t.inbox(account.id);
      assertEquals(more.length, 0);
      const sent = assertTrace(stored!, {
        sender: t.alice.address,
        recipient: account.address,
        helo: HELO,
        protocol: "ESMTPSA",
        mx: false,
        single: false, // two recipients: Received names neither (RFC 5321 §7.2)
      });
      assertStringIncludes(sent, "Subject: Over implicit TLS\r\n");
      assertStringIncludes(sent, "\r\n\r\nPort 465 style.\r\n");
    }
  });
});

Deno.test("nodemailer: a pooled connection carries three messages in one session", async () => {
  await withSmtp(async (t) => {
    const lines: string[] = [];
    const mailer = nodemailer.createTransport({
      pool: true,
      maxConnections: 1,
      host: "127.0.0.1",
      port: t.ports.submission,
      requireTLS: true,
      name: HELO,
      tls: { ca: t.caPem, servername: "mail.example.org" },
      auth: { user: t.alice.address, pass: GOOD_PASSWORD },
      logger: commandLog(lines),
      transactionLog: true,
    });
    try {
      for (const n of [1, 2, 3]) {
        const info = await mailer.sendMail({
          from: t.alice.address,
          to: t.bob.address,
          subject: `Pooled ${n}`,
          text: `Message ${n} of 3.\n`,
        });
        assertEquals(info.accepted, [t.bob.address]);
      }
    } finally {
      mailer.close();
    }
    // One connection: one STARTTLS, one AUTH, three transactions.
    assertEquals(lines.filter((l) => l === "STARTTLS").length, 1);
    assertEquals(lines.filter((l) => l.startsWith("AUTH ")).length, 1);
    assertEquals(lines.filter((l) => l.startsWith("MAIL FROM:")).length, 3);
    const stored = await t.inbox(t.bob.id);
    assertEquals(stored.length, 3);
    for (const [i, message] of stored.entries()) {
      const sent = assertTrace(message, {
        sender: t.alice.address,
        recipient: t.bob.address,
        helo: HELO,
        protocol: "ESMTPSA",
        mx: false,
      });
      assertStringIncludes(sent, `Subject: Pooled ${i + 1}\r\n`);
      assertStringIncludes(sent, `\r\n\r\nMessage ${i + 1} of 3.\r\n`);
    }
  });
});
