/**
 * Python's imaplib against the server in process: STARTTLS on the 143-style port (LOGIN
 * refused before it) and implicit TLS, then a session of the commands a desktop client uses,
 * checked on both sides: what imaplib saw, and what the store holds afterwards.
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { type ImapFixture, withImap } from "./imap.ts";
import { runTool } from "./smtp_clients.ts";
import { GOOD_PASSWORD, sampleMessage } from "./store.ts";

/** `port`, a TLS context trusting only the test CA, the password, `mode`, and `out`. */
const PRELUDE = String.raw`
import imaplib, json, ssl, sys, time
port, ca, password, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
context = ssl.create_default_context(cafile=ca)
out = {}
def text(data):
    return [d.decode() if isinstance(d, bytes) else [x.decode() for x in d] for d in data if d is not None]
`;

async function python(t: ImapFixture, port: number, body: string, mode: string) {
  const script = `${PRELUDE}\n${body}\nprint(json.dumps(out))\n`;
  const result = await runTool("python3", ["-c", script, `${port}`, t.caFile, GOOD_PASSWORD, mode]);
  if (result.code !== 0) {
    throw new Error(`python3 failed (${result.code}):\n${result.stderr}\n${result.stdout}`);
  }
  const last = result.stdout.trimEnd().split("\n").at(-1) ?? "";
  return JSON.parse(last) as Record<string, unknown>;
}

const SESSION = String.raw`
if mode == "starttls":
    m = imaplib.IMAP4("127.0.0.1", port, timeout=20)
    out["before"] = sorted(m.capabilities)
    try:
        m.login("alice@example.org", password)
        out["clear_login"] = "accepted"
    except imaplib.IMAP4.error as e:
        out["clear_login"] = "refused"
    m.starttls(ssl_context=context)
else:
    m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=context, timeout=20)
out["caps"] = sorted(m.capabilities)
out["login"] = m.login("alice@example.org", password)[0]
out["create"] = m.create("Projects/2026")[0]
out["list"] = text(m.list()[1])
typ, data = m.select("INBOX")
out["exists"] = int(data[0])
msg = b"From: Me <alice@example.org>\r\nTo: bob@example.org\r\nSubject: appended here\r\n\r\nHello from imaplib.\r\n"
typ, data = m.append("INBOX", "(\\Flagged)", imaplib.Time2Internaldate(time.time()), msg)
out["append"] = [typ, text(data)]
m.noop()
typ, data = m.fetch("1:*", "(FLAGS RFC822.SIZE)")
out["flags"] = text(data)
typ, data = m.fetch("2", "(RFC822)")
out["rfc822"] = data[0][1].decode()
typ, data = m.fetch("1", "(BODY.PEEK[HEADER])")
out["header"] = data[0][1].decode()
out["store"] = text(m.store("1", "+FLAGS", "\\Seen")[1])
out["unseen"] = text(m.search(None, "UNSEEN")[1])
out["subject"] = text(m.search(None, "SUBJECT", '"appended"')[1])
out["uid_search"] = text(m.uid("SEARCH", None, "ALL")[1])
typ, data = m.copy("1", "Archive")
out["copy"] = [typ, text(data)]
m.store("1", "+FLAGS", "\\Deleted")
typ, data = m.expunge()
out["expunge"] = text(data)
typ, data = m.fetch("1:*", "(UID FLAGS)")
out["after"] = text(data)
out["close"] = m.close()[0]
out["logout"] = m.logout()[0]
`;

for (const mode of ["starttls", "tls"]) {
  Deno.test(`imaplib: ${mode === "tls" ? "implicit TLS" : "STARTTLS"}, a whole session`, async () => {
    await withImap(async (t) => {
      await t.store.messages.deliver(sampleMessage("imaplib"), [{ accountId: t.alice.id }]);
      const port = mode === "tls" ? t.ports.imaps : t.ports.imap;
      const out = await python(t, port, SESSION, mode);
      if (mode === "starttls") {
        assertEquals(out.clear_login, "refused");
        const before = out.before as string[];
        assert(before.includes("LOGINDISABLED") && before.includes("STARTTLS"), String(before));
        assert(!before.some((c) => c.startsWith("AUTH=")), String(before));
      }
      const caps = out.caps as string[];
      assert(caps.includes("IMAP4REV1") && caps.includes("AUTH=PLAIN"), String(caps));
      assertEquals(out.login, "OK");
      assertEquals(out.create, "OK");
      const list = (out.list as string[]).join("\n");
      assertStringIncludes(list, '(\\HasNoChildren) "/" INBOX');
      assertStringIncludes(list, '(\\HasNoChildren \\Sent) "/" Sent');
      assertStringIncludes(list, '(\\HasChildren) "/" Projects');
      assertStringIncludes(list, '(\\HasNoChildren) "/" Projects/2026');
      assertEquals(out.exists, 1);
      const [appendStatus, appendData] = out.append as [string, string[]];
      assertEquals(appendStatus, "OK");
      assertMatch(appendData[0]!, /^\[APPENDUID \d+ 2\] APPEND completed$/);
      const flags = out.flags as string[];
      assertMatch(flags[0]!, /^1 \(FLAGS \(\) RFC822\.SIZE \d+\)$/);
      assertMatch(flags[1]!, /^2 \(FLAGS \(\\Flagged\) RFC822\.SIZE 98\)$/);
      assertStringIncludes(out.rfc822 as string, "Hello from imaplib.");
      assertStringIncludes(out.header as string, "Subject: Secret subject imaplib");
      assert(!(out.header as string).includes("Body line"), "HEADER only");
      assertEquals(out.store, ["1 (FLAGS (\\Seen))"]);
      // FETCH RFC822 of message 2 set \Seen (RFC 9051 §6.4.5); PEEK of 1 did not, STORE did.
      assertEquals(out.unseen, [""]);
      assertEquals(out.subject, ["2"]);
      assertEquals(out.uid_search, ["1 2"]);
      const [copyStatus, copyData] = out.copy as [string, string[]];
      assertEquals(copyStatus, "OK");
      assertMatch(copyData[0]!, /^\[COPYUID \d+ 1 1\] COPY completed$/);
      assertEquals(out.expunge, ["1"]);
      assertEquals(out.after, ["1 (UID 2 FLAGS (\\Flagged \\Seen))"]);
      assertEquals([out.close, out.logout], ["OK", "BYE"]);

      // The store agrees.
      const { mailboxes, messages } = t.store;
      const inbox = await mailboxes.get(t.alice.id, "INBOX");
      const left = await messages.list(inbox.id);
      assertEquals(left.map((m) => [m.uid, m.flags]), [[2, ["\\Flagged", "\\Seen"]]]);
      const body = new TextDecoder().decode(await messages.read(t.alice.id, left[0]!.messageId));
      assertStringIncludes(body, "Hello from imaplib.");
      const archive = await mailboxes.get(t.alice.id, "Archive");
      const archived = await messages.list(archive.id);
      assertEquals(archived.map((m) => m.flags), [["\\Seen"]]);
      assert(await mailboxes.find(t.alice.id, "Projects/2026") !== null);
      // Bob's mailboxes were never touched.
      const bobInbox = await mailboxes.get(t.bob.id, "INBOX");
      assertEquals((await messages.list(bobInbox.id)).length, 0);
    });
  });
}
