/**
 * Properties of the serialiser, checked with a tiny reference reader written from the
 * RFC 9051 §9 grammar (quoted, literal, atom, NIL, lists): whatever the value, what we write
 * reads back as the same octets, and a value never escapes its place in a response.
 */

import fc from "fast-check";
import { assert, assertEquals } from "../../../tests/assert.ts";
import { parseStructure } from "../../mime/mod.ts";
import {
  astring,
  filterHeaderFields,
  imapString,
  MAX_QUOTED_OCTETS,
  ResponseWriter,
  sectionBytes,
} from "./serialize.ts";

const encoder = new TextEncoder();
const REPLACEMENT = [0xef, 0xbf, 0xbd];

type Value = Uint8Array | null | Value[];

/** Reads one value at `pos`: quoted, literal, atom (as its bytes), NIL or a list. */
function read(wire: Uint8Array, pos: number): [Value, number] {
  const c = wire[pos];
  if (c === 0x22) { // quoted = DQUOTE *QUOTED-CHAR DQUOTE
    const out: number[] = [];
    let i = pos + 1;
    for (;;) {
      const b = wire[i];
      if (b === undefined) throw new Error("unterminated quoted string");
      if (b === 0x22) return [new Uint8Array(out), i + 1];
      if (b === 0x0d || b === 0x0a || b === 0) throw new Error(`octet ${b} in a quoted string`);
      if (b === 0x5c) {
        const next = wire[i + 1];
        if (next !== 0x22 && next !== 0x5c) throw new Error("bad escape");
        out.push(next);
        i += 2;
      } else {
        out.push(b);
        i++;
      }
    }
  }
  if (c === 0x7b || (c === 0x7e && wire[pos + 1] === 0x7b)) { // literal / literal8
    const open = c === 0x7e ? pos + 1 : pos;
    const close = wire.indexOf(0x7d, open);
    const n = Number(new TextDecoder().decode(wire.subarray(open + 1, close)));
    if (!Number.isInteger(n) || wire[close + 1] !== 0x0d || wire[close + 2] !== 0x0a) {
      throw new Error("bad literal announcement");
    }
    const start = close + 3;
    if (start + n > wire.length) throw new Error("short literal");
    return [wire.slice(start, start + n), start + n];
  }
  if (c === 0x28) { // "(" list ")"
    const items: Value[] = [];
    let i = pos + 1;
    while (wire[i] !== 0x29) {
      if (items.length > 0) {
        if (wire[i] !== 0x20) throw new Error("expected a space in a list");
        i++;
      }
      const [item, next] = read(wire, i);
      items.push(item);
      i = next;
    }
    return [items, i + 1];
  }
  let end = pos; // atom (or NIL)
  while (end < wire.length && isAstringChar(wire[end]!)) end++;
  if (end === pos) throw new Error(`unexpected octet ${c} at ${pos}`);
  const atom = wire.slice(pos, end);
  return [new TextDecoder().decode(atom) === "NIL" ? null : atom, end];
}

function isAstringChar(b: number): boolean {
  return b > 0x20 && b < 0x7f && !'(){%*"\\'.includes(String.fromCharCode(b));
}

function readAll(wire: Uint8Array): Value {
  const [value, end] = read(wire, 0);
  assertEquals(end, wire.length, "trailing octets");
  return value;
}

/** The octets a value is expected to read back as: UTF-8, with NUL as U+FFFD. */
function expected(value: string | Uint8Array): Uint8Array {
  const bytes = typeof value === "string" ? encoder.encode(value) : value;
  return new Uint8Array([...bytes].flatMap((b) => b === 0 ? REPLACEMENT : [b]));
}

// Strings rich in what matters: quotes, backslashes, line ends, NUL, 8-bit and long runs.
const tricky = fc.array(
  fc.constantFrom(
    '"',
    "\\",
    "\r",
    "\n",
    "\r\n",
    "\0",
    "a",
    " ",
    "é",
    "😀",
    "\uD800",
    "\uFEFF",
    "{3}",
    "NIL",
  ),
  { maxLength: 40 },
).map((parts) => parts.join(""));
const strings = fc.oneof(
  fc.string({ unit: "binary", maxLength: 60 }),
  tricky,
  fc.string({ maxLength: MAX_QUOTED_OCTETS + 10, minLength: MAX_QUOTED_OCTETS - 10 }),
);
const octets = fc.oneof(
  fc.uint8Array({ maxLength: 60 }),
  tricky.map((s) => encoder.encode(s)),
);

Deno.test("imapString reads back as the same octets, in the form the client accepts (property)", () => {
  fc.assert(
    fc.property(fc.oneof(strings, octets), fc.boolean(), (value, utf8) => {
      const wire = imapString(value, { utf8 });
      assertEquals(readAll(wire), expected(value));
      if (wire[0] === 0x22) {
        assert(wire.length <= MAX_QUOTED_OCTETS * 2 + 2, "a quoted string is short");
        if (!utf8) assert(wire.every((b) => b < 0x80), "7-bit unless UTF-8 is accepted");
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("astring reads back as the same name (property)", () => {
  fc.assert(
    fc.property(fc.oneof(strings, fc.constantFrom("INBOX", "nil", "a]b", "")), fc.boolean(), (
      name,
      utf8,
    ) => {
      assertEquals(readAll(astring(name, { utf8 })), expected(name));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("values cannot break the framing of a response (property)", () => {
  const item = fc.oneof(strings, octets, fc.constant(null));
  fc.assert(
    fc.property(fc.array(item, { maxLength: 8 }), fc.boolean(), (values, utf8) => {
      const w = new ResponseWriter({ utf8 });
      w.list(values, (x, v) => x.nstring(v));
      assertEquals(readAll(w.toBytes()), values.map((v) => v === null ? null : expected(v)));
    }),
    { numRuns: 1000 },
  );
});

const field = fc.tuple(
  fc.constantFrom("From", "to", "SUBJECT", "X-A", "Received", "bad line", " cont"),
  fc.string({ unit: fc.constantFrom("a", " ", ":", "\t"), maxLength: 10 }),
  fc.constantFrom("\r\n", "\n"),
);

Deno.test("HEADER.FIELDS and HEADER.FIELDS.NOT split a header between them (property)", () => {
  fc.assert(
    fc.property(fc.array(field, { maxLength: 12 }), fc.subarray(["from", "TO", "x-a"]), (
      lines,
      names,
    ) => {
      const header = encoder.encode(
        lines.map(([name, value, eol]) => `${name}${name.includes(" ") ? "" : ":"}${value}${eol}`)
          .join("") + "\r\n",
      );
      const all = filterHeaderFields(header, [], true).length;
      const some = filterHeaderFields(header, names, false).length;
      const rest = filterHeaderFields(header, names, true).length;
      assertEquals(some + rest, all + 2); // each has its own blank line
      assert(all <= header.length);
    }),
    { numRuns: 500 },
  );
});

Deno.test("sectionBytes never throws and returns bytes of the message (property)", () => {
  const raw = encoder.encode(
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n" +
      "Content-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n\r\nx\r\n--c--\r\n--b\r\n\r\ny\r\n--b--\r\n",
  );
  const root = parseStructure(raw);
  const text = fc.constantFrom(
    undefined,
    "HEADER",
    "HEADER.FIELDS",
    "HEADER.FIELDS.NOT",
    "TEXT",
    "MIME",
  ) as fc.Arbitrary<"HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME" | undefined>;
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 5 }), text, (part, t) => {
      const bytes = sectionBytes(raw, root, t === undefined ? { part } : { part, text: t });
      if (bytes !== null && !t?.startsWith("HEADER.FIELDS")) {
        assert(bytes.buffer === raw.buffer, "a slice of the message");
        assert(bytes.byteOffset + bytes.length <= raw.length);
      }
    }),
    { numRuns: 1000 },
  );
});
