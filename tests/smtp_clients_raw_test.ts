/**
 * What none of the real clients (nodemailer, smtplib, swaks) speaks, driven by hand: BDAT
 * (RFC 3030 CHUNKING), SCRAM-SHA-256 (RFC 7677) with the server signature checked, and
 * PIPELINING (RFC 2920) of a whole envelope in one write.
 *
 * @module
 */

import { ScramClient } from "../src/auth/sasl/_test_support.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { withSmtp } from "./smtp.ts";
import { Wire } from "./smtp_wire.ts";
import { assertTrace, HELO } from "./smtp_clients.ts";
import { enableTwoFactor, GOOD_PASSWORD } from "./store.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A message BDAT must carry untouched: 8-bit text, a line that is a lone dot and one that
 * starts with a dot (DATA would have needed them stuffed; BDAT never does).
 */
const MESSAGE = encoder.encode(
  "From: Sender <sender@remote.example>\r\nTo: alice@example.org\r\nSubject: chunked\r\n" +
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" +
    "Content-Transfer-Encoding: 8bit\r\n\r\nFirst line, Grüße.\r\n.\r\n..two dots\r\n" +
    "Last line, 日本語.\r\n",
);

/** MESSAGE in three chunks, cut inside a CRLF and inside a UTF-8 character. */
function chunks(): Uint8Array[] {
  const crlf = MESSAGE.indexOf(0x0a, 40); // between the CR and the LF of a header line
  const text = decoder.decode(MESSAGE);
  const utf8 = encoder.encode(text.slice(0, text.indexOf("日"))).length + 1; // inside 日
  return [MESSAGE.subarray(0, crlf), MESSAGE.subarray(crlf, utf8), MESSAGE.subarray(utf8)];
}

function bdat(chunk: Uint8Array, last: boolean): Uint8Array {
  const command = encoder.encode(`BDAT ${chunk.length}${last ? " LAST" : ""}\r\n`);
  const out = new Uint8Array(command.length + chunk.length);
  out.set(command);
  out.set(chunk, command.length);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Checks that alice's only message is MESSAGE, byte for byte after the trace fields. */
function assertStoredIntact(inbox: string[]): void {
  assertEquals(inbox.length, 1);
  const sent = assertTrace(inbox[0]!, {
    sender: "sender@remote.example",
    recipient: "alice@example.org",
    helo: HELO,
    protocol: "ESMTP",
    mx: true,
  });
  assertEquals(encoder.encode(sent), MESSAGE);
}

Deno.test("BDAT: two chunks then BDAT n LAST, one reply each; stored byte for byte", async () => {
  await withSmtp(async (t) => {
    const c = await Wire.connect(t.ports.mx);
    try {
      await c.expect("220");
      assertStringIncludes(await c.command(`EHLO ${HELO}`, "250"), "\n250-CHUNKING\n");
      await c.command("MAIL FROM:<sender@remote.example> BODY=8BITMIME", "250 2.1.0");
      await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
      const [a, b, last] = chunks();
      await c.send(bdat(a!, false));
      assertEquals(await c.reply(), `250 2.0.0 ${a!.length} octets received`);
      await c.send(bdat(b!, false));
      assertEquals(await c.reply(), `250 2.0.0 ${b!.length} octets received`);
      await c.send(bdat(last!, true));
      assertMatch((await c.reply())!, /^250 2\.0\.0 OK: queued as [0-9a-z]+$/);
      await c.command("QUIT", "221 2.0.0");
    } finally {
      c.close();
    }
    assertStoredIntact(await t.inbox(t.alice.id));
  });
});

Deno.test("BDAT: the whole transaction pipelined in one write, BDAT 0 LAST at the end", async () => {
  await withSmtp(async (t) => {
    const c = await Wire.connect(t.ports.mx);
    try {
      await c.expect("220");
      await c.command(`EHLO ${HELO}`, "250");
      const [a, b, last] = chunks();
      const whole = concat([
        encoder.encode("MAIL FROM:<sender@remote.example> BODY=8BITMIME\r\n"),
        encoder.encode("RCPT TO:<alice@example.org>\r\n"),
        bdat(a!, false),
        bdat(b!, false),
        bdat(last!, false),
        bdat(new Uint8Array(0), true), // RFC 3030 §2: a last chunk may be empty
        encoder.encode("QUIT\r\n"),
      ]);
      await c.send(whole);
      assertEquals(await c.reply(), "250 2.1.0 Sender OK");
      assertEquals(await c.reply(), "250 2.1.5 Recipient OK");
      for (const chunk of [a!, b!, last!]) {
        assertEquals(await c.reply(), `250 2.0.0 ${chunk.length} octets received`);
      }
      assertMatch((await c.reply())!, /^250 2\.0\.0 OK: queued as [0-9a-z]+$/);
      await c.expect("221 2.0.0");
      assert(await c.closedByServer(), "The server closes after QUIT");
    } finally {
      c.close();
    }
    assertStoredIntact(await t.inbox(t.alice.id));
  });
});

Deno.test("PIPELINING: MAIL, RCPT ×3 and DATA in one write, replies in order", async () => {
  await withSmtp(async (t) => {
    const c = await Wire.connect(t.ports.mx);
    try {
      await c.expect("220");
      assertStringIncludes(await c.command(`EHLO ${HELO}`, "250"), "\n250-PIPELINING\n");
      await c.send(
        "MAIL FROM:<sender@remote.example>\r\nRCPT TO:<alice@example.org>\r\n" +
          "RCPT TO:<nobody@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n",
      );
      assertEquals(await c.reply(), "250 2.1.0 Sender OK");
      assertEquals(await c.reply(), "250 2.1.5 Recipient OK");
      assertEquals(await c.reply(), "550 5.1.1 No such user here");
      assertEquals(await c.reply(), "250 2.1.5 Recipient OK");
      await c.expect("354");
      // RFC 2920 §3.1: after the end of data the client may pipeline again.
      await c.send("Subject: pipelined\r\n\r\nBoth of you.\r\n.\r\nQUIT\r\n");
      assertMatch((await c.reply())!, /^250 2\.0\.0 OK: queued as [0-9a-z]+$/);
      await c.expect("221 2.0.0");
    } finally {
      c.close();
    }
    for (const account of [t.alice, t.bob]) {
      const [stored, ...more] = await t.inbox(account.id);
      assertEquals(more.length, 0);
      const sent = assertTrace(stored!, {
        sender: "sender@remote.example",
        recipient: account.address,
        helo: HELO,
        protocol: "ESMTP",
        mx: true,
        single: false,
      });
      assertEquals(sent, "Subject: pipelined\r\n\r\nBoth of you.\r\n");
    }
  });
});

/** A line client over implicit TLS, closed by a watchdog if the exchange stalls. */
class TlsLines {
  #buffer = "";
  #chunk = new Uint8Array(16384);
  #watchdog: ReturnType<typeof setTimeout>;
  private constructor(private conn: Deno.TlsConn) {
    this.#watchdog = setTimeout(() => this.close(), 20_000);
  }

  static async connect(port: number, caPem: string): Promise<TlsLines> {
    return new TlsLines(await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caPem] }));
  }

  async send(line: string): Promise<void> {
    const bytes = encoder.encode(`${line}\r\n`);
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  /** One whole reply, lines joined with "\n". */
  async reply(): Promise<string> {
    for (;;) {
      const match = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\n/.exec(this.#buffer);
      if (match) {
        this.#buffer = this.#buffer.slice(match[0].length);
        return match[0].replace(/\r\n/g, "\n").trimEnd();
      }
      const n = await this.conn.read(this.#chunk);
      if (n === null) throw new Error(`Connection closed; have ${JSON.stringify(this.#buffer)}`);
      this.#buffer += decoder.decode(this.#chunk.subarray(0, n), { stream: true });
    }
  }

  async command(line: string): Promise<string> {
    await this.send(line);
    return await this.reply();
  }

  close(): void {
    clearTimeout(this.#watchdog);
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

const base64 = (text: string) => encoder.encode(text).toBase64();
const unbase64 = (text: string) => decoder.decode(Uint8Array.fromBase64(text));

Deno.test("SCRAM-SHA-256 over implicit TLS: server signature checked, then a message", async () => {
  await withSmtp(async (t) => {
    const c = await TlsLines.connect(t.ports.submissions, t.caPem);
    try {
      assertMatch(await c.reply(), /^220 mail\.example\.org ESMTP/);
      assertStringIncludes(await c.command(`EHLO ${HELO}`), "\n250 AUTH SCRAM-SHA-256 ");
      const scram = new ScramClient(t.alice.address, GOOD_PASSWORD);
      const first = await c.command(`AUTH SCRAM-SHA-256 ${base64(scram.first())}`);
      assertMatch(first, /^334 [A-Za-z0-9+/=]+$/);
      const final = await scram.final(unbase64(first.slice(4)));
      assert(final.iterations >= 4096, `RFC 7677 §4: at least 4096 iterations`);
      const verifier = await c.command(base64(final.message));
      assertMatch(verifier, /^334 [A-Za-z0-9+/=]+$/);
      // RFC 5802 §5: the server proves it knows the password too.
      assertEquals(unbase64(verifier.slice(4)), `v=${final.expectedSignature}`);
      assertEquals(await c.command(""), "235 2.7.0 Authentication successful");
      assertEquals(await c.command(`MAIL FROM:<${t.alice.address}>`), "250 2.1.0 Sender OK");
      assertEquals(await c.command(`RCPT TO:<${t.bob.address}>`), "250 2.1.5 Recipient OK");
      assertMatch(await c.command("DATA"), /^354 /);
      await c.send(`From: ${t.alice.address}\r\nSubject: scram\r\n\r\nSigned in with SCRAM.\r\n.`);
      assertMatch(await c.reply(), /^250 2\.0\.0 OK: queued as [0-9a-z]+$/);
      assertMatch(await c.command("QUIT"), /^221 /);
    } finally {
      c.close();
    }
    const [stored, ...more] = await t.inbox(t.bob.id);
    assertEquals(more.length, 0);
    const sent = assertTrace(stored!, {
      sender: t.alice.address,
      recipient: t.bob.address,
      helo: HELO,
      protocol: "ESMTPSA",
      mx: false,
    });
    assert(sent.endsWith("Subject: scram\r\n\r\nSigned in with SCRAM.\r\n"), sent);
  });
});

Deno.test("SCRAM-SHA-256 with a wrong password: 535 and no server signature", async () => {
  await withSmtp(async (t) => {
    const c = await TlsLines.connect(t.ports.submissions, t.caPem);
    try {
      await c.reply();
      await c.command(`EHLO ${HELO}`);
      const scram = new ScramClient(t.alice.address, "not the password");
      const first = await c.command(`AUTH SCRAM-SHA-256 ${base64(scram.first())}`);
      assertMatch(first, /^334 /);
      const final = await scram.final(unbase64(first.slice(4)));
      assertEquals(
        await c.command(base64(final.message)),
        "535 5.7.8 Authentication credentials invalid",
      );
      assertEquals(
        await c.command(`MAIL FROM:<${t.alice.address}>`),
        "530 5.7.0 Authentication required",
      );
    } finally {
      c.close();
    }
  });
});

Deno.test("SCRAM-SHA-256 for an account with 2FA on: 535 for the account password and an app password", async () => {
  await withSmtp(async (t) => {
    const { password: appPassword } = await t.store.appPasswords.create(t.alice.id, "Phone");
    await enableTwoFactor(t.store, t.alice.id);
    for (const password of [GOOD_PASSWORD, appPassword]) {
      const c = await TlsLines.connect(t.ports.submissions, t.caPem);
      try {
        await c.reply();
        // SCRAM is still offered: whether an account has 2FA on is nobody else's business.
        assertStringIncludes(await c.command(`EHLO ${HELO}`), "\n250 AUTH SCRAM-SHA-256 ");
        const scram = new ScramClient(t.alice.address, password);
        const first = await c.command(`AUTH SCRAM-SHA-256 ${base64(scram.first())}`);
        assertMatch(first, /^334 /);
        const final = await scram.final(unbase64(first.slice(4)));
        assertEquals(
          await c.command(base64(final.message)),
          "535 5.7.8 Authentication credentials invalid",
        );
        // The same client, PLAIN with the app password: signed in.
        const plain = base64(`\u0000${t.alice.address}\u0000${appPassword}`);
        assertEquals(await c.command(`AUTH PLAIN ${plain}`), "235 2.7.0 Authentication successful");
      } finally {
        c.close();
      }
    }
  });
});
