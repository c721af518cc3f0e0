import fc from "fast-check";
import { assertEquals } from "../../../tests/assert.ts";
import { type LiteralAnnouncement, literalAtEnd } from "./literal.ts";

const encoder = new TextEncoder();

Deno.test("literalAtEnd finds {n}, {n+} and {n-} at the end of a line", () => {
  const cases: [string, LiteralAnnouncement][] = [
    ["A1 LOGIN {5}", { size: 5, form: "sync" }],
    ["A1 LOGIN alice {11+}", { size: 11, form: "plus" }],
    ["A1 APPEND x {4096-}", { size: 4096, form: "minus" }],
    ["A1 APPEND x {0}", { size: 0, form: "sync" }],
    ["A1 APPEND x ~{310}", { size: 310, form: "sync" }], // literal8 (RFC 3516)
    ["A1 APPEND x UTF8 (~{12+}", { size: 12, form: "plus" }],
    ["A1 SEARCH SUBJECT {007}", { size: 7, form: "sync" }], // leading zeros
    ["{4294967295}", { size: 4294967295, form: "sync" }],
    ["A1 LOGIN {4294967296}", { size: Infinity, form: "sync" }], // over 2^32-1
    ["A1 LOGIN {99999999999999999999999+}", { size: Infinity, form: "plus" }],
    ["A1 LOGIN {00000000000000000000012}", { size: 12, form: "sync" }],
    ['A1 LOGIN "unclosed {5}', { size: 5, form: "sync" }], // the parser refuses it later
  ];
  for (const [line, expected] of cases) {
    assertEquals(literalAtEnd(encoder.encode(line)), expected, line);
  }
});

Deno.test("literalAtEnd: no announcement", () => {
  const lines = [
    "",
    "A1 NOOP",
    "}",
    "{}",
    "{+}",
    "{-}",
    "{5",
    "5}",
    "{5}x",
    "{5} ",
    "{5}\r", // the line is given without its CRLF; a stray CR is not stripped
    "{ 5}",
    "{5 }",
    "{5++}",
    "{+5}",
    "{-5}",
    "{5+-}",
    "{0x10}",
    "{1e3}",
    "{٣}", // Arabic-Indic digit three
  ];
  for (const line of lines) assertEquals(literalAtEnd(encoder.encode(line)), null, line);
});

Deno.test("literalAtEnd agrees with the digits it is given (property)", () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 30 }),
      fc.bigInt({ min: 0n, max: 10n ** 25n }),
      fc.constantFrom("", "+", "-"),
      (prefix, n, form) => {
        const found = literalAtEnd(encoder.encode(`${prefix}{${n}${form}}`));
        const size = n > 0xffff_ffffn ? Infinity : Number(n);
        const name = form === "" ? "sync" : form === "+" ? "plus" : "minus";
        assertEquals(found, { size, form: name });
      },
    ),
  );
});

Deno.test("literalAtEnd never throws on arbitrary bytes (property)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (line) => {
      const found = literalAtEnd(line);
      if (found !== null) assertEquals(line[line.length - 1], 0x7d);
    }),
  );
});
