import { assert, assertEquals } from "../../../tests/assert.ts";
import { type BodyPart, parseStructure } from "../../mime/mod.ts";
import {
  filterHeaderFields,
  findPart,
  partial,
  ResponseWriter,
  type Section,
  sectionBytes,
  sectionRange,
  writeSection,
} from "./serialize.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function load(name: string): Promise<{ raw: Uint8Array; root: BodyPart }> {
  const text = await Deno.readTextFile(new URL(`./testdata/${name}.eml`, import.meta.url));
  const raw = encoder.encode(text.replace(/\n/g, "\r\n"));
  return { raw, root: parseStructure(raw) };
}

function message(text: string): { raw: Uint8Array; root: BodyPart } {
  const raw = encoder.encode(text);
  return { raw, root: parseStructure(raw) };
}

/** Parses a section-spec as a client writes it, for readable tables: "3.HEADER.FIELDS (A B)". */
function spec(text: string): Section {
  const fieldsAt = text.indexOf(" (");
  const head = fieldsAt === -1 ? text : text.slice(0, fieldsAt);
  const fields = fieldsAt === -1 ? undefined : text.slice(fieldsAt + 2, -1).split(" ");
  const words = head === "" ? [] : head.split(".");
  const part: number[] = [];
  while (words.length > 0 && /^\d+$/.test(words[0]!)) part.push(Number(words.shift()));
  const rest = words.join(".");
  const section: Section = rest === ""
    ? { part }
    : { part, text: rest as NonNullable<Section["text"]> };
  return fields === undefined ? section : { ...section, fields };
}

function show(raw: Uint8Array, root: BodyPart, section: string): string | null {
  const bytes = sectionBytes(raw, root, spec(section));
  return bytes === null ? null : decoder.decode(bytes);
}

const CRLF = (text: string) => text.replace(/\n/g, "\r\n");

const INNER_HEADER = CRLF(`From: Bob <bob@example.org>
To: carol@example.net
Subject: Note
Date: Tue, 24 Nov 2026 08:00:00 +0000
Message-ID: <inner-4@example.org>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary=inner

`);

const INNER_TEXT = CRLF(`--inner
Content-Type: text/plain

Bring the slides.
--inner
Content-Type: text/html; charset=utf-8

<p>Bring the slides.</p>
--inner--`);

Deno.test("sectionBytes: parts of a multipart with an attached multipart message (RFC 9051 §6.4.5)", async () => {
  const { raw, root } = await load("mixed");
  const all = decoder.decode(raw);
  const cases: [string, string | null][] = [
    ["", all],
    ["HEADER", all.slice(0, all.indexOf("\r\n\r\n") + 4)],
    ["TEXT", all.slice(all.indexOf("\r\n\r\n") + 4)],
    ["1", "See the agenda and Bob's note."],
    ["1.MIME", "Content-Type: text/plain; charset=us-ascii\r\n\r\n"],
    ["2", "JVBERi0xLjQKJcOkw7zDtsOfCg=="],
    ["2.MIME", all.slice(all.indexOf("Content-Type: application/pdf"), all.indexOf("JVBERi0"))],
    ["3", INNER_HEADER + INNER_TEXT],
    ["3.MIME", "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"],
    ["3.HEADER", INNER_HEADER],
    ["3.TEXT", INNER_TEXT],
    ["3.1", "Bring the slides."],
    ["3.1.MIME", "Content-Type: text/plain\r\n\r\n"],
    ["3.2", "<p>Bring the slides.</p>"],
    ["3.2.MIME", "Content-Type: text/html; charset=utf-8\r\n\r\n"],
    ["3.HEADER.FIELDS (SUBJECT from)", "From: Bob <bob@example.org>\r\nSubject: Note\r\n\r\n"],
    [
      "3.HEADER.FIELDS.NOT (Content-Type MIME-Version Date Message-ID)",
      "From: Bob <bob@example.org>\r\nTo: carol@example.net\r\nSubject: Note\r\n\r\n",
    ],
    ["HEADER.FIELDS (Message-ID X-Missing)", "Message-ID: <mixed-3@example.net>\r\n\r\n"],
    ["HEADER.FIELDS (X-Missing)", "\r\n"],
    // Sections that do not exist.
    ["4", null],
    ["0", null],
    ["1.1", null], // a leaf inside a multipart has no part 1
    ["2.1", null],
    ["3.3", null],
    ["3.1.1", null],
    ["MIME", null], // MIME needs part numbers
    ["1.HEADER", null], // HEADER and TEXT need a message/rfc822 part
    ["2.TEXT", null],
    ["3.1.HEADER", null],
    ["2.HEADER.FIELDS (From)", null],
  ];
  for (const [section, expected] of cases) {
    assertEquals(show(raw, root, section), expected, section);
  }
});

Deno.test("sectionBytes: a single-part message has only part 1, its body (RFC 9051 §6.4.5)", async () => {
  const { raw, root } = await load("plain");
  const all = decoder.decode(raw);
  const header = all.slice(0, all.indexOf("\r\n\r\n") + 4);
  const text = "Shall we meet at the café at noon?\r\n\r\nAlice\r\n";
  const cases: [string, string | null][] = [
    ["1", text],
    ["TEXT", text],
    ["1.MIME", header],
    ["HEADER", header],
    ["2", null],
    ["1.1", null],
    ["1.TEXT", null],
  ];
  for (const [section, expected] of cases) {
    assertEquals(show(raw, root, section), expected, section);
  }
  assert(findPart(root, [1]) === root);
  assert(findPart(root, []) === root);
});

Deno.test("sectionBytes: a message whose own type is message/rfc822", () => {
  const inner = "Subject: inner\r\n\r\nbody\r\n";
  const { raw, root } = message(`Subject: outer\r\nContent-Type: message/rfc822\r\n\r\n${inner}`);
  const cases: [string, string | null][] = [
    ["1", inner],
    ["1.HEADER", "Subject: inner\r\n\r\n"],
    ["1.TEXT", "body\r\n"],
    ["1.1", "body\r\n"], // part 1 of the encapsulated single-part message
    ["1.1.MIME", "Subject: inner\r\n\r\n"],
    ["1.2", null],
    ["TEXT", inner],
    ["HEADER.FIELDS (Subject)", "Subject: outer\r\n\r\n"],
  ];
  for (const [section, expected] of cases) {
    assertEquals(show(raw, root, section), expected, section);
  }
});

Deno.test("HEADER.FIELDS keeps folded lines and matches names case-insensitively", async () => {
  const { raw, root } = await load("alternative");
  assertEquals(
    show(raw, root, "HEADER.FIELDS (subject REPLY-TO)"),
    'Reply-To: "Project list" <project@lists.example.org>\r\n' +
      "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from\r\n the meeting\r\n\r\n",
  );
  const not = show(raw, root, "HEADER.FIELDS.NOT (From Sender Reply-To To Cc Date Message-ID)")!;
  assertEquals(
    not,
    "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from\r\n the meeting\r\n" +
      "In-Reply-To: <plain-1@example.com>\r\nMIME-Version: 1.0\r\n" +
      'Content-Type: multipart/alternative; boundary="=_alt"\r\n\r\n',
  );
});

Deno.test("filterHeaderFields: odd headers", () => {
  const cases: [string, string[], boolean, string][] = [
    // Bare LF lines are kept as written; the blank line is CRLF.
    ["A: 1\nB: 2\n\nbody", ["b"], false, "B: 2\n\r\n"],
    // A last field without a line end gets one.
    ["A: 1\r\nB: 2", ["b"], false, "B: 2\r\n\r\n"],
    // Obsolete white space before the colon (RFC 5322 §4.5); lines that are not fields and
    // their continuations are left out, with .NOT too.
    [
      " stray\r\nNotAField\r\n cont\r\nX-A : obs\r\n more\r\nX-B: b\r\n\r\n",
      ["x-a"],
      false,
      "X-A : obs\r\n more\r\n\r\n",
    ],
    [" stray\r\nNotAField\r\n cont\r\nX-B: b\r\n\r\n", ["x-a"], true, "X-B: b\r\n\r\n"],
    // Repeated fields all match; nothing after the blank line is read.
    [
      "Received: 1\r\nX: y\r\nReceived: 2\r\n\r\nReceived: body",
      ["received"],
      false,
      "Received: 1\r\nReceived: 2\r\n\r\n",
    ],
    ["", ["a"], false, "\r\n"],
    ["A: 1\r\n\r\n", [], true, "A: 1\r\n\r\n"],
    ["Ä: 8bit\r\nA: 1\r\n\r\n", ["ä"], false, "\r\n"], // names are ASCII (RFC 5322 §3.6.8)
  ];
  for (const [header, names, not, expected] of cases) {
    const out = filterHeaderFields(encoder.encode(header), names, not);
    assertEquals(decoder.decode(out), expected, JSON.stringify([header, names, not]));
  }
});

Deno.test("sectionRange gives the range to read, so only it need be decrypted", async () => {
  const { raw, root } = await load("mixed");
  const three = root.parts![2]!;
  assertEquals(sectionRange(root, spec("3")), { start: three.bodyStart, end: three.end });
  assertEquals(sectionRange(root, spec("3.HEADER.FIELDS.NOT (To)")), {
    start: three.bodyStart,
    end: three.message!.body.bodyStart,
    fields: { names: ["To"], not: true },
  });
  assertEquals(sectionRange(root, spec("")), { start: 0, end: raw.length });
  assertEquals(sectionRange(root, spec("9")), null);
  // Part numbers that no parser should give are refused, not thrown on.
  assertEquals(sectionRange(root, { part: [1.5] }), null);
  assertEquals(sectionRange(root, { part: [-1] }), null);
});

Deno.test("partial applies <origin.count> and is empty past the end (RFC 9051 §6.4.5)", () => {
  const bytes = encoder.encode("0123456789");
  const cases: [number, number | undefined, string][] = [
    [0, 4, "0123"],
    [2, 3, "234"],
    [8, 10, "89"],
    [10, 5, ""],
    [99, 5, ""],
    [3, 0, ""],
    [7, undefined, "789"],
  ];
  for (const [origin, count, expected] of cases) {
    assertEquals(decoder.decode(partial(bytes, origin, count)), expected, `<${origin}.${count}>`);
  }
});

Deno.test("writeSection names a section as FETCH responses do (RFC 9051 §7.5.2)", () => {
  const cases: [Section, string][] = [
    [{ part: [] }, "[]"],
    [{ part: [1, 2] }, "[1.2]"],
    [{ part: [], text: "TEXT" }, "[TEXT]"],
    [{ part: [], text: null }, "[]"],
    [{ part: [1], text: "MIME" }, "[1.MIME]"],
    [{ part: [], text: "HEADER.FIELDS", fields: ["DATE", "FROM"] }, "[HEADER.FIELDS (DATE FROM)]"],
    [
      { part: [3], text: "HEADER.FIELDS.NOT", fields: ["x y", "List-ID"] },
      '[3.HEADER.FIELDS.NOT ("x y" List-ID)]',
    ],
  ];
  for (const [section, expected] of cases) {
    const w = new ResponseWriter();
    writeSection(w, section);
    assertEquals(decoder.decode(w.toBytes()), expected);
  }
});
