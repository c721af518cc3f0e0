import fc from "fast-check";
import { addressDisplay, buildEnvelope, type Envelope, summarize } from "./envelope.ts";
import { parseHeader } from "./headers.ts";
import { assertEquals, bytes, crlf, MIXED } from "./_test_support.ts";

function header(text: string) {
  return parseHeader(bytes(crlf(text)));
}

Deno.test("buildEnvelope reads the ten fields of a real message", () => {
  const alice = { name: "=?UTF-8?B?QWxpY2Ugw4lsw6hyZQ==?=", mailbox: "alice", host: "example.com" };
  const expected: Envelope = {
    date: "Tue, 2 Jan 2024 10:30:00 +0100",
    subject: "=?UTF-8?Q?R=C3=A9union_de?= =?UTF-8?Q?_demain?=",
    from: [alice],
    sender: [alice],
    replyTo: [alice],
    to: [
      { name: "Doe, John", mailbox: "john", host: "example.net" },
      { name: null, mailbox: "team", host: null },
      { name: null, mailbox: "carol", host: "example.net" },
      { name: null, mailbox: "dave", host: "example.net" },
      { name: null, mailbox: null, host: null },
    ],
    cc: [{ name: "Eve Example", mailbox: "eve", host: "example.net" }],
    bcc: null,
    inReplyTo: "<inner@example.org>",
    messageId: "<outer@example.com>",
  };
  assertEquals(buildEnvelope(header(MIXED)), expected);
});

Deno.test("sender and reply-to default to from when absent or empty (RFC 3501 §7.4.2)", () => {
  const from = [{ name: null, mailbox: "a", host: "x" }];
  const cases: [string, Partial<Envelope>][] = [
    ["From: a@x\n\n", { sender: from, replyTo: from }],
    ["From: a@x\nSender:\nReply-To: (none)\n\n", { sender: from, replyTo: from }],
    ["From: a@x\nSender: s@y\nReply-To: r@z\n\n", {
      sender: [{ name: null, mailbox: "s", host: "y" }],
      replyTo: [{ name: null, mailbox: "r", host: "z" }],
    }],
    ["Subject: no from\n\n", { sender: null, replyTo: null }],
  ];
  for (const [text, want] of cases) {
    const env = buildEnvelope(header(text));
    assertEquals({ sender: env.sender, replyTo: env.replyTo }, want, text);
  }
  const env = buildEnvelope(header("From: a@x\n\n"));
  env.sender![0]!.name = "changed";
  assertEquals(env.from![0]!.name, null, "sender is a copy, not the same objects");
});

Deno.test("buildEnvelope: absent fields are null, the first of duplicates counts", () => {
  const env = buildEnvelope(header("Subject: one\nSubject: two\nTo:\n\n"));
  assertEquals(env, {
    date: null,
    subject: "one",
    from: null,
    sender: null,
    replyTo: null,
    to: null,
    cc: null,
    bcc: null,
    inReplyTo: null,
    messageId: null,
  });
});

Deno.test("summarize decodes subject and sender and parses the date", () => {
  assertEquals(summarize(header(MIXED)), {
    subject: "Réunion de demain",
    from: "Alice Élère",
    date: Date.UTC(2024, 0, 2, 9, 30),
  });
  assertEquals(summarize(header("X: y\n\n")), { subject: "", from: "", date: null });
  assertEquals(
    summarize(header(
      'From: team: a@x, "Bee" <b@y>;, <c@z>, d\nSubject: a=?utf-8?q?=0D=0A?=b\tc\nDate: bogus\n\n',
    )),
    { subject: "a  b c", from: "a@x, Bee, c@z, d", date: null },
  );
});

Deno.test("addressDisplay prefers the decoded name", () => {
  assertEquals(addressDisplay({ name: "=?utf-8?q?J=C3=B6rg?=", mailbox: "j", host: "x" }), "Jörg");
  assertEquals(addressDisplay({ name: "  ", mailbox: "j", host: "x" }), "j@x");
  assertEquals(addressDisplay({ name: null, mailbox: "j", host: "" }), "j");
  assertEquals(addressDisplay({ name: null, mailbox: null, host: null }), "");
});

Deno.test("buildEnvelope and summarize never throw (property)", () => {
  const line = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom("From: ", "Sender: ", "Reply-To: ", "To: ", "Date: ", "Subject: ", " "),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
      const block = parseHeader(bytes(lines.join("\r\n")));
      buildEnvelope(block);
      const s = summarize(block);
      // deno-lint-ignore no-control-regex
      assertEquals(/[\x00-\x1f\x7f]/.test(s.subject + s.from), false);
    }),
    { numRuns: 300 },
  );
});
