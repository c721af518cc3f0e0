/**
 * Python's smtplib against the server in process: STARTTLS with each AUTH mechanism, implicit
 * TLS, SMTPUTF8, BODY=8BITMIME, and the SIZE limit both declared and found mid-stream.
 *
 * Each test runs one `python3 -c` script that prints a JSON object of what smtplib saw; the
 * store is then checked from here.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { type SmtpFixture, withSmtp } from "./smtp.ts";
import { assertTrace, HELO, runTool } from "./smtp_clients.ts";
import { GOOD_PASSWORD } from "./store.ts";
import { mxSession, using } from "./smtp_wire.ts";

/**
 * What every script starts with: `port`, a TLS context trusting only the test CA (certificate
 * and host name checked), the password, `arg` (the test's own argument, text) and `out`.
 */
const PRELUDE = String.raw`
import json, smtplib, ssl, sys
port, ca, password, arg = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
context = ssl.create_default_context(cafile=ca)
out = {}
def connect(cls=smtplib.SMTP):
    kwargs = {"context": context} if cls is smtplib.SMTP_SSL else {}
    return cls("127.0.0.1", port, local_hostname="${HELO}", timeout=20, **kwargs)
`;

/** Runs `body` after {@link PRELUDE}; returns the JSON it printed as its last line. */
async function python(
  t: SmtpFixture,
  port: number,
  body: string,
  arg = "",
): Promise<Record<string, unknown>> {
  const script = `${PRELUDE}\n${body}\nprint(json.dumps(out))\n`;
  const result = await runTool("python3", ["-c", script, `${port}`, t.caFile, GOOD_PASSWORD, arg]);
  if (result.code !== 0) {
    throw new Error(`python3 failed (${result.code}):\n${result.stderr}\n${result.stdout}`);
  }
  const last = result.stdout.trimEnd().split("\n").at(-1) ?? "";
  return { ...JSON.parse(last), stderr: result.stderr };
}

Deno.test("smtplib: STARTTLS on submission, AUTH PLAIN and LOGIN, with and without initial response", async () => {
  await withSmtp(async (t) => {
    const out = await python(
      t,
      t.ports.submission,
      String.raw`
from email.message import EmailMessage
for mechanism in ["PLAIN", "LOGIN"]:
    for initial in [True, False]:
        with connect() as s:
            s.ehlo()
            plain_auth = s.has_extn("auth")
            s.starttls(context=context)
            s.ehlo()
            s.user, s.password = "alice@example.org", password
            code, _ = s.auth(mechanism, getattr(s, "auth_" + mechanism.lower()),
                             initial_response_ok=initial)
            msg = EmailMessage()
            msg["From"] = "Alice <alice@example.org>"
            msg["To"] = "bob@example.org"
            msg["Subject"] = f"smtplib {mechanism} {initial}"
            msg.set_content(f"Signed in with AUTH {mechanism}.\n")
            refused = s.send_message(msg)
            out[f"{mechanism} {initial}"] = [plain_auth, code, s.sock.version(), refused]
`,
    );
    for (const name of ["PLAIN True", "PLAIN False", "LOGIN True", "LOGIN False"]) {
      // No AUTH offered in clear (RFC 3207 §4); 235 under TLS; nobody refused.
      assertEquals(out[name], [false, 235, "TLSv1.3", {}], name);
    }
    const stored = await t.inbox(t.bob.id);
    assertEquals(stored.length, 4);
    for (const [i, name] of ["PLAIN True", "PLAIN False", "LOGIN True", "LOGIN False"].entries()) {
      const sent = assertTrace(stored[i]!, {
        sender: t.alice.address,
        recipient: t.bob.address,
        helo: HELO,
        protocol: "ESMTPSA",
        mx: false,
      });
      assertStringIncludes(sent, `Subject: smtplib ${name}\r\n`);
      assertStringIncludes(sent, `\r\n\r\nSigned in with AUTH ${name.split(" ")[0]}.\r\n`);
    }
  });
});

Deno.test("smtplib: SMTP_SSL on submissions, login() picks PLAIN", async () => {
  await withSmtp(async (t) => {
    const out = await python(
      t,
      t.ports.submissions,
      String.raw`
with connect(smtplib.SMTP_SSL) as s:
    s.set_debuglevel(1)
    out["login"] = list(s.login("alice@example.org", password))[0]
    out["auth"] = s.esmtp_features["auth"].split()
    out["refused"] = s.sendmail("alice@example.org", ["bob@example.org"],
        b"From: alice@example.org\r\nTo: bob@example.org\r\nSubject: over 465\r\n\r\nImplicit TLS.\r\n")
`,
    );
    assertEquals(out.login, 235);
    assertEquals(out.auth, ["SCRAM-SHA-256", "PLAIN", "LOGIN"]);
    assertEquals(out.refused, {});
    assertStringIncludes(String(out.stderr), "send: 'AUTH PLAIN ");
    const [stored, ...more] = await t.inbox(t.bob.id);
    assertEquals(more.length, 0);
    const sent = assertTrace(stored!, {
      sender: t.alice.address,
      recipient: t.bob.address,
      helo: HELO,
      protocol: "ESMTPSA",
      mx: false,
    });
    // RFC 6409 §8.2, §8.3: the submission server adds the Date and Message-ID it lacked.
    assert(/^Date: .+\r\nMessage-ID: <.+@mail\.example\.org>\r\nFrom: alice/.test(sent), sent);
    assert(sent.endsWith("Subject: over 465\r\n\r\nImplicit TLS.\r\n"), sent);
  });
});

Deno.test("smtplib: SMTPUTF8 sender and recipient on MX, message stored byte for byte", async () => {
  await withSmtp(async (t) => {
    const jose = await t.store.accounts.create({
      address: "jösé@example.org",
      password: GOOD_PASSWORD,
    });
    // RFC 6532: UTF-8 in the header too.
    const message = "From: René <rené@remote.example>\r\nTo: José <jösé@example.org>\r\n" +
      "Subject: Grüße\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" +
      "Content-Transfer-Encoding: 8bit\r\n\r\nFür José, über SMTPUTF8.\r\n";
    const out = await python(
      t,
      t.ports.mx,
      String.raw`
with connect() as s:
    out["refused"] = s.sendmail("rené@remote.example", ["jösé@example.org"], arg.encode(),
                                mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    out["smtputf8"] = s.has_extn("smtputf8")
`,
      message,
    );
    assertEquals(out.refused, {});
    assertEquals(out.smtputf8, true);
    const [stored, ...more] = await t.inbox(jose.id);
    assertEquals(more.length, 0);
    const sent = assertTrace(stored!, {
      sender: "rené@remote.example",
      recipient: "jösé@example.org",
      helo: HELO,
      protocol: "UTF8SMTP", // RFC 6531 §4.3
      mx: true,
    });
    assertEquals(sent, message);
  });
});

Deno.test("smtplib: an 8-bit body with BODY=8BITMIME, dot-stuffed lines intact", async () => {
  await withSmtp(async (t) => {
    const message = "From: sender@remote.example\r\nTo: alice@example.org\r\nSubject: 8-bit\r\n" +
      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n" +
      "Content-Transfer-Encoding: 8bit\r\n\r\nZażółć gęślą jaźń.\r\n.\r\n..two dots\r\n" +
      `${"ü".repeat(499)}\r\n`; // 998 octets: the longest line RFC 5322 §2.1.1 allows
    const out = await python(
      t,
      t.ports.mx,
      String.raw`
with connect() as s:
    out["refused"] = s.sendmail("sender@remote.example", ["alice@example.org"], arg.encode(),
                                mail_options=["BODY=8BITMIME"])
`,
      message,
    );
    assertEquals(out.refused, {});
    const [stored, ...more] = await t.inbox(t.alice.id);
    assertEquals(more.length, 0);
    const sent = assertTrace(stored!, {
      sender: "sender@remote.example",
      recipient: t.alice.address,
      helo: HELO,
      protocol: "ESMTP",
      mx: true,
    });
    assertEquals(sent, message);
  });
});

/** A message of about `size` octets from sender@remote.example to alice. */
function bigMessage(size: number, subject: string): string {
  const head =
    `From: sender@remote.example\r\nTo: alice@example.org\r\nSubject: ${subject}\r\n\r\n`;
  const line = `${"0123456789".repeat(7)}\r\n`;
  return head + line.repeat(Math.ceil((size - head.length) / line.length));
}

Deno.test("smtplib: a message over SIZE without SIZE= is refused after DATA with 552, nothing stored", async () => {
  await withSmtp(async (t) => {
    const out = await python(
      t,
      t.ports.mx,
      String.raw`
with connect() as s:
    s.ehlo()
    out["size"] = s.esmtp_features["size"]
    del s.esmtp_features["size"]  # send no SIZE=: the server finds out as the content streams
    try:
        s.sendmail("sender@remote.example", ["alice@example.org"], arg.encode())
        out["big"] = "accepted"
    except smtplib.SMTPDataError as e:
        out["big"] = [e.smtp_code, e.smtp_error.decode()]
    # The session goes on (smtplib sent RSET): a small message is accepted.
    out["small"] = s.sendmail("sender@remote.example", ["alice@example.org"],
        b"From: sender@remote.example\r\nSubject: small\r\n\r\nSmall one.\r\n")
`,
      bigMessage(100 * 1024, "too big"),
    );
    assertEquals(out.size, `${64 * 1024}`);
    assertEquals(out.big, [552, "5.3.4 Message too big for this server"]);
    assertEquals(out.small, {});
    const stored = await t.inbox(t.alice.id);
    assertEquals(stored.length, 1, "only the small message is stored");
    assertStringIncludes(stored[0]!, "\r\nSubject: small\r\n\r\nSmall one.\r\n");
  }, { settings: { maxMessageSize: 64 * 1024 } });
});

Deno.test("smtplib: SIZE= over the limit is refused at MAIL with 552; under it is accepted", async () => {
  await withSmtp(async (t) => {
    const out = await python(
      t,
      t.ports.mx,
      String.raw`
big = arg.encode()
with connect() as s:
    try:
        s.sendmail("sender@remote.example", ["alice@example.org"], big)  # adds SIZE=len(big)
        out["big"] = "accepted"
    except smtplib.SMTPSenderRefused as e:
        out["big"] = [e.smtp_code, e.smtp_error.decode()]
    fits = big[:big.index(b"\r\n", 60 * 1024) + 2]  # whole lines, under the limit
    out["fits"] = s.sendmail("sender@remote.example", ["alice@example.org"], fits)
`,
      bigMessage(100 * 1024, "declared too big"),
    );
    // RFC 1870 §6.
    assertEquals(out.big, [552, "5.3.4 Message size exceeds fixed maximum message size"]);
    assertEquals(out.fits, {});
    const stored = await t.inbox(t.alice.id);
    assertEquals(stored.length, 1, "only the message that fits is stored");
    assertStringIncludes(stored[0]!, "Subject: declared too big\r\n");
  }, { settings: { maxMessageSize: 64 * 1024 } });
});

Deno.test("smtplib: REQUIRETLS offered after STARTTLS only, and kept with the queued message (RFC 8689)", async () => {
  await withSmtp(async (t) => {
    const out = await python(
      t,
      t.ports.submission,
      String.raw`
body = b"From: alice@example.org\r\nSubject: %s\r\n%s\r\nSecret.\r\n"
with connect() as s:
    s.ehlo()
    out["clear"] = s.has_extn("requiretls")
    s.starttls(context=context)
    s.ehlo()
    out["tls"] = s.has_extn("requiretls")
    s.login("alice@example.org", password)
    out["bound"] = s.sendmail("alice@example.org", ["carol@remote.example"],
        body % (b"bound", b""), mail_options=["REQUIRETLS"])
    out["waived"] = s.sendmail("alice@example.org", ["dave@remote.example"],
        body % (b"waived", b"TLS-Required: No\r\n"))
    out["plain"] = s.sendmail("alice@example.org", ["erin@remote.example"],
        body % (b"plain", b""))
`,
    );
    assertEquals([out.clear, out.tls], [false, true]);
    // RFC 8689 §4.1 (and RFC 3207 §4 for the code): only in a TLS session.
    const inClear = await using(
      () => mxSession(t),
      (c) => c.command("MAIL FROM:<x@remote.example> REQUIRETLS", "530 5.7.10"),
    );
    assertStringIncludes(inClear, "REQUIRETLS needs a TLS session: send STARTTLS first");
    assertEquals([out.bound, out.waived, out.plain], [{}, {}, {}]);
    const queued = await t.store.queue.list();
    const byRecipient = Object.fromEntries(
      queued.map((q) => [q.recipients[0]!.address, q.requireTls]),
    );
    assertEquals(byRecipient, {
      "carol@remote.example": true,
      "dave@remote.example": false,
      "erin@remote.example": null,
    });
  });
});
