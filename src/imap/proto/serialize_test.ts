import { assert, assertEquals, assertThrows } from "../../../tests/assert.ts";
import {
  astring,
  formatDateTime,
  formatFlags,
  formatNumberSet,
  imapString,
  isFlag,
  MAX_QUOTED_OCTETS,
  nstring,
  quoted,
  ResponseWriter,
} from "./serialize.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (bytes: Uint8Array) => decoder.decode(bytes);
const UTF8 = { utf8: true };

Deno.test("imapString quotes short ASCII text and escapes DQUOTE and backslash (RFC 9051 §4.3)", () => {
  const cases: [string, string][] = [
    ["", '""'],
    ["hello", '"hello"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["C:\\dir", '"C:\\\\dir"'],
    ["tab\there", '"tab\there"'], // TEXT-CHAR: any CHAR but CR and LF
    ["NIL", '"NIL"'],
    ["(a) {3} %*]", '"(a) {3} %*]"'],
  ];
  for (const [value, wire] of cases) {
    assertEquals(text(imapString(value)), wire, value);
    assertEquals(text(imapString(value, UTF8)), wire, `${value} (utf8)`);
  }
});

Deno.test("imapString uses a literal for CR, LF, 8-bit text without UTF8=ACCEPT, and long text", () => {
  const cases: [string, boolean, string][] = [
    ["a\r\nb", false, "{4}\r\na\r\nb"],
    ["a\r\nb", true, "{4}\r\na\r\nb"],
    ["bare\rCR", true, "{7}\r\nbare\rCR"],
    ["bare\nLF", true, "{7}\r\nbare\nLF"],
    ["Café", false, "{5}\r\nCafé"],
    ["Café", true, '"Café"'], // RFC 9051 §9 QUOTED-CHAR includes UTF8-2
    ["日本 😀", true, '"日本 😀"'],
    ["日本", false, "{6}\r\n日本"],
  ];
  for (const [value, utf8, wire] of cases) {
    assertEquals(text(imapString(value, { utf8 })), wire, JSON.stringify([value, utf8]));
  }
  const limit = "x".repeat(MAX_QUOTED_OCTETS);
  assertEquals(text(imapString(limit)), `"${limit}"`);
  assertEquals(text(imapString(limit + "x")), `{${MAX_QUOTED_OCTETS + 1}}\r\n${limit}x`);
  const wide = "é".repeat(MAX_QUOTED_OCTETS / 2); // exactly the limit in octets
  assertEquals(text(imapString(wide, UTF8)), `"${wide}"`);
  assertEquals(
    text(imapString(wide + "é", UTF8)).startsWith(`{${MAX_QUOTED_OCTETS + 2}}\r\n`),
    true,
  );
});

Deno.test("imapString sends NUL, which no IMAP string can hold, as U+FFFD", () => {
  assertEquals(text(imapString("a\0b")), "{5}\r\na\uFFFDb");
  assertEquals(text(imapString("a\0b", UTF8)), '"a\uFFFDb"');
  assertEquals(text(imapString(new Uint8Array([0x61, 0, 0x62]))), "{5}\r\na\uFFFDb");
});

Deno.test("imapString of bytes: quoted only when ASCII, or valid UTF-8 with utf8", () => {
  const cases: [number[], boolean, string][] = [
    [[0x61, 0x22, 0x62], false, '"a\\"b"'],
    [[0xc3, 0xa9], true, '"é"'],
    [[0xc3, 0xa9], false, "{2}\r\n\xc3\xa9"],
    [[0xe9], true, "{1}\r\n\xe9"], // Latin-1 é is not UTF-8: a literal keeps the octet
    [[0xed, 0xa0, 0x80], true, "{3}\r\n"], // an encoded surrogate is not UTF-8
    [[0xf0, 0x9f, 0x98], true, "{3}\r\n"], // truncated sequence
    [[0xef, 0xbb, 0xbf, 0x61], true, '"\uFEFFa"'], // a leading BOM is kept
  ];
  for (const [octets, utf8, head] of cases) {
    const wire = imapString(new Uint8Array(octets), { utf8 });
    const expected = head.startsWith("{")
      ? new Uint8Array([...encoder.encode(head.split("\n")[0] + "\n"), ...octets])
      : encoder.encode(head);
    assertEquals(wire, expected, JSON.stringify([octets, utf8]));
  }
});

Deno.test("nstring writes NIL for null and a string otherwise (RFC 9051 §4.5)", () => {
  assertEquals(text(nstring(null)), "NIL");
  assertEquals(text(nstring("NIL")), '"NIL"');
  assertEquals(text(nstring("")), '""');
});

Deno.test("astring writes an atom when it can, else a string (RFC 9051 §9)", () => {
  const cases: [string, boolean, string][] = [
    ["INBOX", false, "INBOX"],
    ["Archive/2026", false, "Archive/2026"],
    ["[Gmail]/Sent", false, "[Gmail]/Sent"], // "]" is an ASTRING-CHAR
    ["My Folder", false, '"My Folder"'],
    ["a%b", false, '"a%b"'],
    ["a*b", false, '"a*b"'],
    ["a{b", false, '"a{b"'],
    ["a(b)", false, '"a(b)"'],
    ['a"b', false, '"a\\"b"'],
    ["a\\b", false, '"a\\\\b"'],
    ["", false, '""'],
    ["nil", false, '"nil"'],
    ["Entwürfe", false, "{9}\r\nEntwürfe"],
    ["Entwürfe", true, '"Entwürfe"'],
    ["a\x7fb", false, '"a\x7fb"'],
    ["line\r\nbreak", true, "{11}\r\nline\r\nbreak"],
  ];
  for (const [value, utf8, wire] of cases) {
    assertEquals(text(astring(value, { utf8 })), wire, JSON.stringify(value));
  }
});

Deno.test("quoted returns null exactly when a literal is needed", () => {
  assertEquals(quoted("x", false), '"x"');
  assertEquals(quoted("é", false), null);
  assertEquals(quoted("é", true), '"é"');
  assertEquals(quoted("a\nb", true), null);
});

Deno.test("ResponseWriter builds a FETCH response with literals kept as bytes", () => {
  const body = new Uint8Array([0x48, 0x69, 0xff, 0x0d, 0x0a]); // 8-bit, sent unchanged
  const w = new ResponseWriter();
  w.text("* 1 FETCH (UID ").number(7).text(" FLAGS ").text(formatFlags(["\\Seen"]));
  w.text(" BODY[] ").literal(body).text(" BINARY[] ").literal(new Uint8Array([0]), {
    binary: true,
  });
  w.text(" X ").nil().sp().nstring(null).sp().list(["a", "b c"], (x, s) => x.string(s));
  w.sp().list([], () => {}).text(")").crlf();
  const expected = [
    ...encoder.encode("* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[] {5}\r\n"),
    ...body,
    ...encoder.encode(' BINARY[] ~{1}\r\n\0 X NIL NIL ("a" "b c") ())\r\n'),
  ];
  assertEquals(w.toBytes(), new Uint8Array(expected));
  assertEquals(w.byteLength, expected.length);
  assertEquals(w.toBytes(), new Uint8Array(expected), "toBytes keeps the content");
});

Deno.test("ResponseWriter.drain hands over chunks without copying literals, then starts empty", () => {
  const big = new Uint8Array(1000).fill(0x61);
  const w = new ResponseWriter();
  w.text("* 1 FETCH (BODY[] ").literal(big).text(")\r\n");
  const chunks = w.drain();
  assertEquals(chunks.length, 3);
  assert(chunks[1] === big, "the literal is the caller's array");
  assertEquals(text(chunks[0]!), "* 1 FETCH (BODY[] {1000}\r\n");
  assertEquals(text(chunks[2]!), ")\r\n");
  assertEquals(w.byteLength, 0);
  assertEquals(w.toBytes(), new Uint8Array());
  w.literal(new Uint8Array()); // an empty literal is its announcement only
  assertEquals(text(w.toBytes()), "{0}\r\n");
});

Deno.test("ResponseWriter.number refuses what is not a non-negative integer", () => {
  const w = new ResponseWriter();
  assertEquals(
    text(w.number(0).sp().number(4294967295).sp().number(2n ** 63n - 1n).toBytes()),
    "0 4294967295 9223372036854775807",
  );
  for (const n of [-1, 1.5, NaN, Infinity, 2 ** 53, -1n]) {
    assertThrows(() => new ResponseWriter().number(n), RangeError);
  }
});

Deno.test("ResponseWriter writes a 1,000-message FETCH in linear time", () => {
  const literal = new Uint8Array(2000).fill(0x78);
  const build = (count: number) => {
    const started = performance.now();
    const w = new ResponseWriter();
    for (let i = 1; i <= count; i++) {
      w.text(`* ${i} FETCH (UID `).number(i).text(" FLAGS ").text(formatFlags(["\\Seen"]));
      w.text(" ENVELOPE (").nstring("Fri, 27 Nov 2026 12:00:00 +0000").sp().nstring("Subject");
      w.text(") BODY[HEADER] ").literal(literal).text(")\r\n");
    }
    const size = w.toBytes().length;
    return { size, ms: performance.now() - started };
  };
  build(1000); // warm up
  // The fastest of three runs each: a garbage collection or another process taking the CPU
  // slows one run, not the shape of the work.
  const best = (count: number) =>
    [build(count), build(count), build(count)].reduce((a, b) => (b.ms < a.ms ? b : a));
  const small = best(2000);
  const large = best(20_000);
  assert(large.size > small.size * 9, "sizes");
  assert(large.ms < small.ms * 40 + 50, `20,000 messages took ${large.ms} ms vs ${small.ms} ms`);
});

Deno.test("formatFlags writes a flag list and leaves out what is not a flag", () => {
  assertEquals(formatFlags([]), "()");
  assertEquals(
    formatFlags(["\\Seen", "\\Answered", "$Forwarded", "Junk"]),
    "(\\Seen \\Answered $Forwarded Junk)",
  );
  assertEquals(formatFlags(new Set(["\\Deleted", "\\*"])), "(\\Deleted \\*)");
  assertEquals(
    formatFlags(["ok", "two words", "a)b", "", "\\", "x]", "é", "a\r\nb", "\\\\x"]),
    "(ok)",
  );
  for (const flag of ["\\Seen", "$MDNSent", "\\*", "NonJunk", "$label1"]) {
    assert(isFlag(flag), flag);
  }
  for (const flag of ["*", "%", "a{1}", '"q"', "\\Se en", "\\*x"]) assert(!isFlag(flag), flag);
});

Deno.test("formatDateTime writes RFC 9051 §9 date-time with a space-padded day", () => {
  const cases: [Date | number, number, string][] = [
    [new Date(Date.UTC(2026, 10, 27, 12, 0, 0)), 0, '"27-Nov-2026 12:00:00 +0000"'],
    [Date.UTC(2026, 10, 7, 3, 4, 5), 0, '" 7-Nov-2026 03:04:05 +0000"'],
    [Date.UTC(2026, 10, 27, 23, 30, 0), 120, '"28-Nov-2026 01:30:00 +0200"'],
    [Date.UTC(1996, 6, 17, 9, 44, 25), -420, '"17-Jul-1996 02:44:25 -0700"'], // RFC 3501 example
    [Date.UTC(2024, 0, 1, 0, 0, 0), -330, '"31-Dec-2023 18:30:00 -0530"'],
    [Date.UTC(2024, 1, 29, 12, 0, 59, 999), 0, '"29-Feb-2024 12:00:59 +0000"'],
  ];
  for (const [date, offset, wire] of cases) assertEquals(formatDateTime(date, offset), wire);
  assertThrows(() => formatDateTime(new Date(NaN)), RangeError);
  assertThrows(() => formatDateTime(0, 24 * 60), RangeError);
  assertThrows(() => formatDateTime(0, 1.5), RangeError);
  assertThrows(() => formatDateTime(Date.UTC(10000, 0, 1)), RangeError);
});

Deno.test("formatNumberSet keeps the order and joins ascending runs (RFC 4315 §3 pairing)", () => {
  const cases: [number[], string][] = [
    [[1], "1"],
    [[1, 2, 3, 5, 9, 10], "1:3,5,9:10"],
    [[304, 319, 320], "304,319:320"],
    [[7, 3], "7,3"],
    [[3, 3], "3,3"],
    [[4294967294, 4294967295], "4294967294:4294967295"],
  ];
  for (const [numbers, wire] of cases) assertEquals(formatNumberSet(numbers), wire);
  for (const bad of [[], [0], [1.5], [4294967296], [-1]]) {
    assertThrows(() => formatNumberSet(bad), RangeError);
  }
});
