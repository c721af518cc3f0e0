/**
 * App passwords and the second factor end to end, with real clients against the servers in
 * process (tests/imap.ts, tests/smtp.ts): Python's imaplib (LOGIN and AUTHENTICATE PLAIN over
 * implicit TLS) and smtplib (AUTH PLAIN on submission, STARTTLS and implicit TLS). With 2FA on,
 * the account password is refused and an app password in scope signs in; a revoked one is
 * refused; the server's log says why.
 *
 * @module
 */

import { createLogger, type Logger } from "../src/ops/log.ts";
import { assertEquals, assertStringIncludes } from "./assert.ts";
import { withImap } from "./imap.ts";
import { withSmtp } from "./smtp.ts";
import { HELO, runTool } from "./smtp_clients.ts";
import { enableTwoFactor, GOOD_PASSWORD } from "./store.ts";

/** Each attempt: a label, the user name and the password. */
type Attempt = [label: string, user: string, password: string];

async function python(
  script: string,
  port: number,
  caFile: string,
  attempts: Attempt[],
): Promise<Record<string, unknown>> {
  const result = await runTool("python3", [
    "-c",
    script,
    `${port}`,
    caFile,
    JSON.stringify(attempts),
  ]);
  if (result.code !== 0) {
    throw new Error(`python3 failed (${result.code}):\n${result.stderr}\n${result.stdout}`);
  }
  return JSON.parse(result.stdout.trimEnd().split("\n").at(-1) ?? "");
}

function recordingLog(): { log: Logger; reasons: () => string[] } {
  const lines: string[] = [];
  const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
  return {
    log,
    reasons: () =>
      lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "auth failed").map((l) =>
        `${l.protocol} ${l.reason}`
      ),
  };
}

/** One fresh connection per attempt: LOGIN (or AUTHENTICATE PLAIN), then SELECT INBOX. */
const IMAPLIB = String.raw`
import imaplib, json, ssl, sys
port, ca, attempts = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
context = ssl.create_default_context(cafile=ca)
out = {}
for label, user, password in attempts:
    m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=context, timeout=20)
    try:
        if label.endswith("AUTHENTICATE"):
            typ, _ = m.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())
        else:
            typ, _ = m.login(user, password)
        typ, data = m.select("INBOX")
        out[label] = [typ, int(data[0])]
    except imaplib.IMAP4.error as e:
        out[label] = ["NO", str(e)]
    m.logout()
print(json.dumps(out))
`;

Deno.test("imaplib: with 2FA on, IMAP takes app passwords only; a revoked one no more", async () => {
  const { log, reasons } = recordingLog();
  await withImap(async (t) => {
    const alice = t.alice.id;
    const laptop = await t.store.appPasswords.create(alice, "Laptop", ["imap"]);
    const sender = await t.store.appPasswords.create(alice, "Sender", ["smtp"]);
    const user = "alice@example.org";

    // 2FA off: the account password and the app password both sign in.
    const before = await python(IMAPLIB, t.ports.imaps, t.caFile, [
      ["account password", user, GOOD_PASSWORD],
      ["app password", user, laptop.password],
    ]);
    assertEquals(before, { "account password": ["OK", 0], "app password": ["OK", 0] });

    await enableTwoFactor(t.store, alice);
    const on = await python(IMAPLIB, t.ports.imaps, t.caFile, [
      ["account password", user, GOOD_PASSWORD],
      ["account password AUTHENTICATE", user, GOOD_PASSWORD],
      ["app password", user, laptop.password],
      ["app password AUTHENTICATE", user, laptop.password],
      ["smtp-only app password", user, sender.password],
    ]);
    assertEquals(on["app password"], ["OK", 0]);
    assertEquals(on["app password AUTHENTICATE"], ["OK", 0]);
    for (
      const label of ["account password", "account password AUTHENTICATE", "smtp-only app password"]
    ) {
      const [status, text] = on[label] as [string, string];
      assertEquals(status, "NO", label);
      assertStringIncludes(text, "[AUTHENTICATIONFAILED] Authentication failed", label);
    }
    const used = (await t.store.appPasswords.list(alice)).find((p) => p.name === "Laptop");
    assertEquals(used?.lastUsedAt instanceof Date, true, "last use recorded");

    await t.store.appPasswords.revoke(alice, "Laptop");
    const revoked = await python(IMAPLIB, t.ports.imaps, t.caFile, [
      ["revoked app password", user, laptop.password],
    ]);
    assertEquals((revoked["revoked app password"] as string[])[0], "NO");

    assertEquals(reasons(), [
      "imap app-password-required",
      "imap app-password-required",
      "imap app-password-scope",
      "imap bad-password",
    ]);
  }, { log });
});

/** One connection per attempt: AUTH PLAIN, then a message to bob. */
const SMTPLIB = String.raw`
import json, smtplib, ssl, sys
port, ca, attempts = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
context = ssl.create_default_context(cafile=ca)
out = {}
for label, user, password in attempts:
    if label.startswith("starttls"):
        s = smtplib.SMTP("127.0.0.1", port, local_hostname="${HELO}", timeout=20)
        s.starttls(context=context)
    else:
        s = smtplib.SMTP_SSL("127.0.0.1", port, local_hostname="${HELO}", timeout=20, context=context)
    with s:
        s.ehlo()
        s.user, s.password = user, password
        try:
            code, _ = s.auth("PLAIN", s.auth_plain)
            msg = f"From: {user}\r\nTo: bob@example.org\r\nSubject: {label}\r\n\r\nSent with an app password.\r\n"
            out[label] = [code, s.sendmail(user, ["bob@example.org"], msg.encode())]
        except smtplib.SMTPAuthenticationError as e:
            out[label] = [e.smtp_code, e.smtp_error.decode()]
print(json.dumps(out))
`;

Deno.test("smtplib: with 2FA on, submission takes app passwords only; a revoked one no more", async () => {
  const { log, reasons } = recordingLog();
  await withSmtp(async (t) => {
    const alice = t.alice.id;
    const phone = await t.store.appPasswords.create(alice, "Phone");
    const reader = await t.store.appPasswords.create(alice, "Reader", ["imap"]);
    const user = "alice@example.org";
    await enableTwoFactor(t.store, alice);

    const tls = await python(SMTPLIB, t.ports.submissions, t.caFile, [
      ["account password", user, GOOD_PASSWORD],
      ["app password", user, phone.password],
      ["imap-only app password", user, reader.password],
    ]);
    const starttls = await python(SMTPLIB, t.ports.submission, t.caFile, [
      ["starttls account password", user, GOOD_PASSWORD],
      ["starttls app password", user, phone.password],
    ]);
    assertEquals(tls["app password"], [235, {}]);
    assertEquals(starttls["starttls app password"], [235, {}]);
    for (
      const result of [
        tls["account password"],
        tls["imap-only app password"],
        starttls["starttls account password"],
      ]
    ) {
      const [code, text] = result as [number, string];
      assertEquals(code, 535);
      assertStringIncludes(text, "5.7.8");
    }
    const delivered = await t.inbox(t.bob.id);
    assertEquals(delivered.length, 2);
    assertStringIncludes(delivered[0]!, "Subject: app password\r\n");
    assertStringIncludes(delivered[1]!, "Subject: starttls app password\r\n");

    await t.store.appPasswords.revoke(alice, "Phone");
    const revoked = await python(SMTPLIB, t.ports.submissions, t.caFile, [
      ["revoked app password", user, phone.password],
    ]);
    assertEquals((revoked["revoked app password"] as [number, string])[0], 535);
    assertEquals((await t.inbox(t.bob.id)).length, 2);

    assertEquals(reasons(), [
      "smtp app-password-required",
      "smtp app-password-scope",
      "smtp app-password-required",
      "smtp bad-password",
    ]);
  }, { log });
});
