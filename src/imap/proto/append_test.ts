import { assert, assertEquals } from "../../../tests/assert.ts";
import type { AppendCommand } from "./append.ts";
import { assertRefused, bytes, command, literal, refusal } from "./_parse_test_support.ts";

const decoder = new TextDecoder();

function append(input: string | Uint8Array): AppendCommand {
  const parsed = command(input);
  assert(parsed.name === "APPEND", parsed.name);
  return parsed;
}

// RFC 9051 §6.3.12's example message.
const MESSAGE = "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n" +
  "From: Fred Foobar <foobar@Blurdybloop.example>\r\n" +
  "Subject: afternoon meeting\r\n" +
  "To: mooch@owatagu.siam.edu.example\r\n" +
  "Message-Id: <B27397-0100000@Blurdybloop.example>\r\n" +
  "MIME-Version: 1.0\r\n" +
  "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n" +
  "\r\n" +
  "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";

Deno.test("APPEND: the RFC 9051 example, flags, date-time, literal forms", () => {
  const example = append(`A003 APPEND saved-messages (\\Seen) ${literal(MESSAGE)}\r\n`);
  assertEquals(example.mailbox, "saved-messages");
  assertEquals(example.flags, ["\\Seen"]);
  assertEquals(example.date, null);
  assertEquals(decoder.decode(example.message), MESSAGE);
  assertEquals([example.binary, example.utf8], [false, false]);

  const dated = append(
    `a APPEND inbox (\\seen $Forwarded) " 7-Feb-1994 21:52:25 -0800" ${literal("x", "+")}`,
  );
  assertEquals(dated.mailbox, "INBOX");
  assertEquals(dated.flags, ["\\Seen", "$Forwarded"]);
  assertEquals(dated.date?.toISOString(), "1994-02-08T05:52:25.000Z");

  const dateOnly = append(`a APPEND x "17-Jul-1996 02:44:25 -0700" ${literal("y")}`);
  assertEquals([dateOnly.flags, dateOnly.date?.toISOString()], [[], "1996-07-17T09:44:25.000Z"]);

  assertEquals(append(`a APPEND x () ${literal("z", "-")}`).flags, []);
  assertEquals(append("a APPEND x {0}\r\n").message.length, 0); // empty: the server decides

  // A literal whose content ends with CRLF, with and without the command's own CRLF.
  assertEquals(decoder.decode(append("a APPEND x {3}\r\nz\r\n").message), "z\r\n");
  assertEquals(decoder.decode(append("a APPEND x {3}\r\nz\r\n\r\n").message), "z\r\n");

  // RFC 3516 §4.4: a binary literal may hold NUL and 8-bit octets.
  const raw = new Uint8Array([0, 1, 2, 0xff, 0x0d, 0x0a, 0]);
  const binary = append(bytes("a APPEND x ~{7}\r\n", raw));
  assertEquals([binary.message, binary.binary, binary.utf8], [raw, true, false]);

  // RFC 6855 §4: UTF8 (literal8)
  const utf8 = append(bytes("a APPEND x (\\Draft) UTF8 (~{6+}\r\nSü: x)\r\n"));
  assertEquals([decoder.decode(utf8.message), utf8.binary, utf8.utf8], ["Sü: x", true, true]);

  // The message is a view of the input, not a copy.
  const input = bytes("a APPEND x {5}\r\nhello");
  const view = append(input).message;
  assertEquals(view.buffer, input.buffer);
  assertEquals(view.byteOffset, input.length - 5);

  // A mailbox name as a literal before the message literal.
  assertEquals(append(`a APPEND ${literal("Entwürfe")} ${literal("m")}`).mailbox, "Entwürfe");
});

Deno.test("APPEND: refusals", () => {
  assertRefused([
    ["a APPEND", "Missing mailbox name"],
    ["a APPEND x", "Missing message"],
    ["a APPEND x (\\Seen)", "Missing message"],
    ["a APPEND x hello", '"{" to start a literal'],
    ['a APPEND x "hello"', "Invalid date-time"],
    ['a APPEND x "31-Apr-2026 10:00:00 +0000" {1}\r\nm', "Invalid date-time"],
    ['a APPEND x "1-Feb-2026" {1}\r\nm', "Invalid date-time"],
    ["a APPEND x {5}\r\nabc", "shorter than announced"],
    ["a APPEND x {3}\r\na\x00b", "NUL in a literal"], // NUL only in ~{n}
    ["a APPEND x {1}\r\nm {1}\r\nn", "Unexpected"], // MULTIAPPEND is not parsed
    ['a APPEND x "1-Feb-2026 10:00:00 +0000" (\\Seen) {1}\r\nm', '"{" to start a literal'],
    ["a APPEND x UTF8 ({1}\r\nm)", "must be a binary literal"],
    ["a APPEND x UTF8 (~{1}\r\nm", '")" after the UTF8 message'],
    ["a APPEND x UTF8 ~{1}\r\nm", '"(" before the UTF8 message'],
    ["a APPEND x (\\Seen {1}\r\nm", 'Expected flag, found "{1}'],
    ["a APPEND x (\\Seen", '")" to close the flag list'],
    ["a APPEND x ((\\Seen)) {1}\r\nm", "Expected flag"],
    ["a APPEND x ~{4294967296}\r\nm", "too large"],
  ]);
  assertEquals(refusal("a APPEND x ~{4294967296}\r\nm").code, "TOOBIG");
});
