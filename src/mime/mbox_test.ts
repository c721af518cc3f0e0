import { assertEquals } from "../../tests/assert.ts";
import { asctime, fromLineDate, type MboxMessage, MboxReader, writeMboxrd } from "./mbox.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const MESSAGE = enc.encode(
  "From: Alice <alice@example.org>\r\nSubject: quoting\r\n\r\n" +
    "From the start of a line.\r\n>From quoted once.\r\n>>From quoted twice.\r\n" +
    "From: not a header here\r\n\r\nFrom after an empty line.\r\n",
);

function readAll(file: Uint8Array, chunk = file.length, max = 1 << 20): MboxMessage[] {
  const reader = new MboxReader(max);
  const out: MboxMessage[] = [];
  for (let i = 0; i < file.length; i += chunk) {
    out.push(...reader.push(file.subarray(i, i + chunk)));
  }
  out.push(...reader.end());
  return out;
}

Deno.test("mboxrd quotes From lines and reads the same bytes back, split anywhere", () => {
  const date = new Date("2026-11-08T06:07:08Z");
  const first = writeMboxrd(MESSAGE, {
    sender: "alice@example.org",
    date,
    flags: ["\\Seen", "\\Answered", "\\Flagged", "\\Draft", "$Forwarded", "project-x"],
  });
  const text = dec.decode(first);
  assertEquals(text.split("\n")[0], "From alice@example.org Sun Nov  8 06:07:08 2026");
  assertEquals(text.includes("\n>From the start"), true);
  assertEquals(text.includes("\n>>From quoted once"), true);
  assertEquals(text.includes("\n>>>From quoted twice"), true);
  assertEquals(text.includes("\n>From after an empty line"), true);
  assertEquals(text.includes("\r"), false);
  assertEquals(
    text.includes(
      "Subject: quoting\nStatus: RO\nX-Status: AFT\nX-Keywords: $Forwarded project-x\n\n",
    ),
    true,
  );
  const second = writeMboxrd(enc.encode("Subject: two\r\n\r\nbody\r\n"), {
    sender: "",
    date,
    flags: [],
    mailbox: "Projects/2026",
  });
  const file = new Uint8Array([...first, ...second]);
  for (const chunk of [1, 2, 3, 7, 64, file.length]) {
    const messages = readAll(file, chunk);
    assertEquals(messages.length, 2);
    assertEquals(dec.decode(messages[0]!.raw), dec.decode(MESSAGE));
    assertEquals(messages[0]!.flags, [
      "$Forwarded",
      "\\Answered",
      "\\Draft",
      "\\Flagged",
      "\\Seen",
      "project-x",
    ]);
    assertEquals(messages[0]!.date, date);
    assertEquals(messages[0]!.mailbox, null);
    assertEquals(dec.decode(messages[1]!.raw), "Subject: two\r\n\r\nbody\r\n");
    assertEquals(messages[1]!.fromLine.startsWith("From MAILER-DAEMON "), true);
    assertEquals(messages[1]!.flags, []);
    assertEquals(messages[1]!.mailbox, "Projects/2026");
  }
});

Deno.test("a foreign mbox: From only after an empty line starts a message; CRLF files; junk", () => {
  const file = enc.encode(
    "junk before\n" +
      "From someone@example.net Thu Jan  1 00:00:00 1970\r\nSubject: a\r\n\r\nline\r\nFrom inside, unquoted (mboxo)\r\n\r\n" +
      "From other@example.net Fri Feb 13 23:31:30 2009\nSubject: b\nStatus: O\nX-UID: 7\n\nx\n",
  );
  const messages = readAll(file, 5);
  assertEquals(messages.length, 2);
  assertEquals(
    dec.decode(messages[0]!.raw),
    "Subject: a\r\n\r\nline\r\nFrom inside, unquoted (mboxo)\r\n",
  );
  assertEquals(messages[0]!.date, new Date(0));
  assertEquals(dec.decode(messages[1]!.raw), "Subject: b\r\n\r\nx\r\n");
  assertEquals(messages[1]!.date, new Date("2009-02-13T23:31:30Z"));
  const reader = new MboxReader(100);
  reader.push(file);
  reader.end();
  assertEquals(reader.junkLines, 1);
});

Deno.test("a message over the limit is reported, not held", () => {
  const big = writeMboxrd(enc.encode("Subject: big\r\n\r\n" + "x".repeat(5000) + "\r\n"), {
    sender: "a@b",
    date: new Date(0),
    flags: [],
  });
  const small = writeMboxrd(enc.encode("Subject: small\r\n\r\nok\r\n"), {
    sender: "a@b",
    date: new Date(0),
    flags: ["\\Seen"],
  });
  const messages = readAll(new Uint8Array([...big, ...small]), 100, 1000);
  assertEquals(messages.map((m) => m.tooLarge), [true, false]);
  assertEquals(messages[0]!.raw.length, 0);
  assertEquals(messages[1]!.flags, ["\\Seen"]);
});

Deno.test("asctime and From_ line dates", () => {
  assertEquals(asctime(new Date("2026-01-02T03:04:05Z")), "Fri Jan  2 03:04:05 2026");
  assertEquals(
    fromLineDate("From x@y Fri Jan  2 03:04:05 2026"),
    new Date("2026-01-02T03:04:05Z"),
  );
  assertEquals(fromLineDate("From x@y Fri Jan 2 03:04 GMT 2026"), new Date("2026-01-02T03:04:00Z"));
  assertEquals(fromLineDate("From x@y"), null);
});
