import fc from "fast-check";
import { getField, getFields, MAX_HEADER_FIELDS, parseHeader } from "./headers.ts";
import { assert, assertEquals, bytes, crlf } from "./_test_support.ts";

type Fields = [string, string][];

const cases: { name: string; input: string; fields: Fields; body: string }[] = [
  {
    name: "simple CRLF header",
    input: "From: a@example.com\r\nSubject: Hello\r\n\r\nBody\r\n",
    fields: [["From", "a@example.com"], ["Subject", "Hello"]],
    body: "Body\r\n",
  },
  {
    name: "bare LF line ends",
    input: "From: a@example.com\nSubject: Hello\n\nBody\n",
    fields: [["From", "a@example.com"], ["Subject", "Hello"]],
    body: "Body\n",
  },
  {
    name: "folded value unfolds by removing only the line break (RFC 5322 §2.2.3)",
    input: "Subject: one\r\n two\r\n\tthree\r\nX: y\r\n\r\n",
    fields: [["Subject", "one two\tthree"], ["X", "y"]],
    body: "",
  },
  {
    name: "value starting on a continuation line",
    input: "Subject:\r\n   folded start\r\n\r\nb",
    fields: [["Subject", "folded start"]],
    body: "b",
  },
  {
    name: "leading white space trimmed, trailing kept, no space after colon",
    input: "A:x\r\nB: \t y  \r\nC:\r\n\r\n",
    fields: [["A", "x"], ["B", "y  "], ["C", ""]],
    body: "",
  },
  {
    name: "obsolete white space before the colon (RFC 5322 §4.5)",
    input: "Subject \t: spaced\r\n\r\n",
    fields: [["Subject", "spaced"]],
    body: "",
  },
  {
    name: "name case kept as written",
    input: "content-TYPE: text/plain\r\n\r\n",
    fields: [["content-TYPE", "text/plain"]],
    body: "",
  },
  {
    name: "no empty line: the body starts at the end",
    input: "From: a@b\r\nTo: c@d",
    fields: [["From", "a@b"], ["To", "c@d"]],
    body: "",
  },
  {
    name: "empty header section",
    input: "\r\nJust a body\r\n",
    fields: [],
    body: "Just a body\r\n",
  },
  {
    name: "mbox From_ line, lines without a colon, and orphan continuations are skipped",
    input: " orphan\r\nFrom sender Tue Jan  2 10:30:00 2024\r\nnot a field\r\n" +
      "Bad Name: x\r\n cont of bad\r\n: no name\r\nGood: yes\r\n\r\n",
    fields: [["Good", "yes"]],
    body: "",
  },
  {
    name: "UTF-8 value (RFC 6532)",
    input: "Subject: Réunion €\r\n\r\n",
    fields: [["Subject", "Réunion €"]],
    body: "",
  },
  {
    name: "mixed CRLF and LF, CR before LF only",
    input: "A: 1\nB: 2\r\n C\n\r\nrest",
    fields: [["A", "1"], ["B", "2 C"]],
    body: "rest",
  },
  {
    name: "extra CR at the end of a value is removed",
    input: "A: 1\r\r\n\r\n",
    fields: [["A", "1"]],
    body: "",
  },
  {
    name: "a line of white space is a continuation, not the end of the header",
    input: "A: 1\r\n \r\nB: 2\r\n\r\n",
    fields: [["A", "1 "], ["B", "2"]],
    body: "",
  },
];

Deno.test("parseHeader parses the table", () => {
  for (const c of cases) {
    const raw = bytes(c.input);
    const block = parseHeader(raw);
    assertEquals(block.fields.map((f) => [f.name, f.value]), c.fields, c.name);
    assertEquals(new TextDecoder().decode(raw.subarray(block.bodyStart)), c.body, c.name);
  }
});

Deno.test("parseHeader falls back to Latin-1 for bytes that are not UTF-8", () => {
  const raw = new Uint8Array([...bytes("Subject: caf"), 0xe9, ...bytes("\r\n\r\n")]);
  assertEquals(parseHeader(raw).fields, [{ name: "Subject", value: "café" }]);
});

Deno.test("parseHeader reads only the window [start, end)", () => {
  const text = "garbage\r\n\r\nA: 1\r\nB: 2\r\n\r\nbody";
  const raw = bytes(text);
  const start = text.indexOf("A:");
  const block = parseHeader(raw, start);
  assertEquals(block.fields.map((f) => f.name), ["A", "B"]);
  assertEquals(block.bodyStart, text.indexOf("body"));
  const cut = parseHeader(raw, start, text.indexOf("B:") + 2);
  assertEquals(cut.fields.map((f) => [f.name, f.value]), [["A", "1"], ["B", ""]]);
  assertEquals(cut.bodyStart, text.indexOf("B:") + 2);
});

Deno.test("parseHeader clamps offsets out of range", () => {
  const raw = bytes("A: 1\r\n\r\n");
  for (const [s, e] of [[-5, 100], [100, 200], [NaN, NaN], [3, 1], [Infinity, -Infinity]]) {
    const block = parseHeader(raw, s, e);
    assert(block.bodyStart >= 0 && block.bodyStart <= raw.length, `${s} ${e}`);
  }
  assertEquals(parseHeader(raw, -5, 100).fields.length, 1);
});

Deno.test("parseHeader keeps at most MAX_HEADER_FIELDS fields and still finds the body", () => {
  const many = Array.from({ length: MAX_HEADER_FIELDS + 50 }, (_, i) => `X-${i}: ${i}\r\n`);
  const text = many.join("") + "\r\nbody";
  const block = parseHeader(bytes(text));
  assertEquals(block.fields.length, MAX_HEADER_FIELDS);
  assertEquals(block.fields.at(-1), { name: `X-${MAX_HEADER_FIELDS - 1}`, value: "999" });
  assertEquals(block.bodyStart, text.length - 4);
});

Deno.test("the header ends in the same place whatever the line ends", () => {
  const text = crlf("A: 1\n  2\nB: 3\n\nbody\n");
  for (const variant of [text, text.replaceAll("\r\n", "\n")]) {
    const block = parseHeader(bytes(variant));
    assertEquals(block.fields, [{ name: "A", value: "1  2" }, { name: "B", value: "3" }]);
    assertEquals(variant.slice(block.bodyStart), variant.endsWith("\r\n") ? "body\r\n" : "body\n");
  }
});

Deno.test("getField and getFields compare names case-insensitively", () => {
  const block = parseHeader(bytes("Received: a\r\nRECEIVED: b\r\nSubject: s\r\n\r\n"));
  assertEquals(getField(block, "subject"), "s");
  assertEquals(getField(block, "received"), "a");
  assertEquals(getFields(block, "Received"), ["a", "b"]);
  assertEquals(getField(block, "to"), null);
  assertEquals(getFields(block, "to"), []);
});

const fragment = fc.constantFrom(
  "From: a@b",
  "Subject:",
  " folded",
  "\t",
  ":",
  "X",
  "\r\n",
  "\n",
  "\r",
  "\r\n\r\n",
  "é",
  "=?utf-8?q?x?=",
);

Deno.test("parseHeader never throws and keeps offsets within the window (property)", () => {
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.array(fragment, { maxLength: 30 }).map((parts) => bytes(parts.join(""))),
  );
  fc.assert(
    fc.property(input, fc.integer({ min: -3, max: 250 }), fc.integer({ min: -3, max: 250 }), (
      raw,
      s,
      e,
    ) => {
      const block = parseHeader(raw, s, e);
      const end = Math.min(Math.max(e, 0), raw.length);
      const start = Math.min(Math.max(s, 0), end);
      assert(start <= block.bodyStart && block.bodyStart <= end);
      for (const f of block.fields) {
        assert(f.name.length > 0 && !f.name.includes(":") && !/\s/.test(f.name));
        assert(!f.value.startsWith(" ") && !f.value.includes("\n"));
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("folding at any white space and mixing line ends give the same fields (property)", () => {
  const text = crlf(
    "From: Alice Example <alice@example.com>\nSubject: a subject with several words\n" +
      "Content-Type: multipart/mixed; boundary=xyz\n\nbody\n",
  );
  const expected = parseHeader(bytes(text)).fields;
  const lines = text.split("\r\n");
  fc.assert(
    fc.property(
      fc.array(fc.boolean(), { minLength: lines.length, maxLength: lines.length }),
      fc.nat({ max: 200 }),
      (lfOnly, foldAt) => {
        // Fold at the foldAt-th space of the header section, then pick each line's end.
        let spaces = 0;
        const header = text.slice(0, text.indexOf("\r\n\r\n"));
        const folded = header.replace(/ /g, (s) => (spaces++ === foldAt ? "\r\n " : s)) +
          text.slice(header.length);
        const varied = folded.split("\r\n").map((l, i) =>
          l + (lfOnly[i % lfOnly.length] ? "\n" : "\r\n")
        )
          .join("");
        assertEquals(parseHeader(bytes(varied)).fields, expected);
      },
    ),
    { numRuns: 200 },
  );
});
