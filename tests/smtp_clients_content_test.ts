/**
 * nodemailer with what messages carry: a 20 MiB attachment (delivered intact, and refused at the
 * default SIZE), SMTPUTF8 addresses and an 8-bit body.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
} from "./assert.ts";
import { type SmtpFixture, withSmtp } from "./smtp.ts";
import { assertTrace, HELO, sha256 } from "./smtp_clients.ts";
import { type Mail, send, transport } from "./smtp_clients_nodemailer.ts";
import { GOOD_PASSWORD } from "./store.ts";

/** `size` random bytes (getRandomValues fills at most 64 KiB at a time). */
function randomBytes(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
  return bytes;
}

/** A message from alice to bob with `content` attached as big.bin. */
function withAttachment(t: SmtpFixture, content: Uint8Array<ArrayBuffer>): Mail {
  return {
    from: t.alice.address,
    to: t.bob.address,
    subject: "Big attachment",
    text: "See the attachment big.bin.\n",
    attachments: [{
      filename: "big.bin",
      content: Buffer.from(content.buffer),
      contentType: "application/octet-stream",
    }],
  };
}

Deno.test("nodemailer: a 20 MiB attachment is delivered intact", async () => {
  // 20 MiB in base64 is about 27.3 MiB on the wire, more than the 25 MiB default SIZE; the
  // limit is raised so that the attachment, not the limit, is what is tested.
  await withSmtp(async (t) => {
    const content = randomBytes(20 * 1024 * 1024);
    const { info } = await send(
      t,
      { port: t.ports.submission, tls: "starttls", auth: {} },
      withAttachment(t, content),
    );
    assertEquals(info.accepted, [t.bob.address]);
    const [stored, ...more] = await t.inbox(t.bob.id);
    assertEquals(more.length, 0);
    const sent = assertTrace(stored!, {
      sender: t.alice.address,
      recipient: t.bob.address,
      helo: HELO,
      protocol: "ESMTPSA",
      mx: false,
    });
    assertStringIncludes(sent, "See the attachment big.bin.");
    const part = /filename=big\.bin\r\n(?:[^\r\n]+\r\n)*\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/.exec(
      sent,
    );
    assert(part !== null, "The attachment part is in the stored message");
    const decoded = Uint8Array.fromBase64(part[1]!.replace(/\r\n/g, ""));
    assertEquals(decoded.length, content.length);
    assertEquals(await sha256(decoded), await sha256(content));
  }, { settings: { maxMessageSize: 32 * 1024 * 1024 } });
});

Deno.test("nodemailer: at the default 25 MiB SIZE, the 20 MiB attachment is refused with 552", async () => {
  // nodemailer declares no SIZE=, so the server learns the size as the content streams in and
  // answers 552 after the final dot (RFC 1870 §6); nothing is stored.
  await withSmtp(async (t) => {
    const mailer = transport(t, { port: t.ports.submission, tls: "starttls", auth: {} }, []);
    try {
      const error = await assertRejects(() =>
        mailer.sendMail(withAttachment(t, randomBytes(20 * 1024 * 1024)))
      );
      assertEquals("responseCode" in error ? error.responseCode : null, 552);
      assertStringIncludes(error.message, "552 5.3.4 Message too big for this server");
    } finally {
      mailer.close();
    }
    assertEquals(await t.inbox(t.bob.id), []);
  });
});

Deno.test("nodemailer: SMTPUTF8 senders and recipients, on MX and on submission", async () => {
  await withSmtp(async (t) => {
    const jose = await t.store.accounts.create({
      address: "jösé@example.org",
      password: GOOD_PASSWORD,
    });
    const mx = await send(t, { port: t.ports.mx, tls: "starttls" }, {
      from: "René <rené@remote.example>",
      to: "jösé@example.org",
      subject: "Grüße",
      text: "Für José.\n",
    });
    assertEquals(mx.info.accepted, ["jösé@example.org"]);
    assert(mx.lines.includes("MAIL FROM:<rené@remote.example> SMTPUTF8"), `${mx.lines}`);
    assert(mx.lines.includes("RCPT TO:<jösé@example.org>"), `${mx.lines}`);
    const sub = await send(t, { port: t.ports.submission, tls: "starttls", auth: {} }, {
      from: t.alice.address,
      to: "jösé@example.org",
      subject: "Hola",
      text: "De Alice.\n",
    });
    assert(sub.lines.includes(`MAIL FROM:<${t.alice.address}> SMTPUTF8`), `${sub.lines}`);
    // José signs in with his UTF-8 name (AUTH PLAIN) and sends as himself.
    const own = await send(t, {
      port: t.ports.submission,
      tls: "starttls",
      auth: { method: "PLAIN", user: "jösé@example.org" },
    }, { from: "José <jösé@example.org>", to: t.alice.address, subject: "Hi", text: "José.\n" });
    assert(own.lines.includes("MAIL FROM:<jösé@example.org> SMTPUTF8"), `${own.lines}`);
    const [toAlice, ...others] = await t.inbox(t.alice.id);
    assertEquals(others.length, 0);
    const fromJose = assertTrace(toAlice!, {
      sender: "jösé@example.org",
      recipient: t.alice.address,
      helo: HELO,
      protocol: "UTF8SMTPSA",
      mx: false,
    });
    assertMatch(fromJose, /^From: =\?UTF-8\?Q\?Jos=C3=A9\?= <jösé@example\.org>\r$/m);
    const stored = await t.inbox(jose.id);
    assertEquals(stored.length, 2);
    const fromMx = assertTrace(stored[0]!, {
      sender: "rené@remote.example",
      recipient: "jösé@example.org",
      helo: HELO,
      protocol: "UTF8SMTPS", // RFC 6531 §4.3
      mx: true,
    });
    assertStringIncludes(fromMx, "rené@remote.example>\r\n");
    assertStringIncludes(fromMx, "To: jösé@example.org\r\n");
    assertStringIncludes(fromMx, "\r\n\r\nF=C3=BCr Jos=C3=A9.\r\n");
    const fromSubmission = assertTrace(stored[1]!, {
      sender: t.alice.address,
      recipient: "jösé@example.org",
      helo: HELO,
      protocol: "UTF8SMTPSA",
      mx: false,
    });
    assertStringIncludes(fromSubmission, "Subject: Hola\r\n");
  });
});

Deno.test("nodemailer: an 8-bit UTF-8 body with BODY=8BITMIME is stored byte for byte", async () => {
  await withSmtp(async (t) => {
    const raw = [
      "From: Sender <sender@remote.example>",
      `To: ${t.alice.address}`,
      "Subject: 8-bit",
      "Message-ID: <8bit@remote.example>",
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      "Grüße aus Köln — 日本語のテキスト, ελληνικά, emoji 📬.",
      ".A line that starts with a dot.",
      "",
    ].join("\r\n");
    // use8BitMime is a nodemailer envelope option its type declarations do not list.
    const envelope = { from: "sender@remote.example", to: t.alice.address, use8BitMime: true };
    const { lines } = await send(t, { port: t.ports.mx, tls: "none" }, { envelope, raw });
    assert(lines.includes("MAIL FROM:<sender@remote.example> BODY=8BITMIME"), `${lines}`);
    const [stored, ...more] = await t.inbox(t.alice.id);
    assertEquals(more.length, 0);
    const sent = assertTrace(stored!, {
      sender: "sender@remote.example",
      recipient: t.alice.address,
      helo: HELO,
      protocol: "ESMTP",
      mx: true,
    });
    assertEquals(sent, raw);
  });
});
