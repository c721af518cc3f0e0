import fc from "fast-check";
import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { InvalidInputError } from "../../util/errors.ts";
import { decodeXtext, encodeXtext } from "./xtext.ts";

Deno.test("decodeXtext decodes xchars and +HH (RFC 3461 §4)", () => {
  const cases: [string, string][] = [
    ["", ""],
    ["alice@example.org", "alice@example.org"],
    ["a+2Bb+3Dc", "a+b=c"],
    ["+20+09+41", " \tA"],
    ["<>", "<>"],
    ["QQ+2C+2C", "QQ,,"],
    ["caf+C3+A9", "café"],
  ];
  for (const [input, expected] of cases) assertEquals(decodeXtext(input), expected, input);
});

Deno.test("decodeXtext refuses bad escapes, raw '=' and non-xchars", () => {
  const bad = [
    "+", // no digits
    "+2", // one digit
    "+2b", // lower-case hex (RFC 3461 §4: upper case)
    "+G0",
    "a=b", // "=" must be encoded
    "a b", // SP
    "a\tb",
    "é", // non-ASCII must be encoded
    "\x7f",
    "+FF", // not UTF-8
    "+C3", // truncated UTF-8
  ];
  for (const input of bad) {
    assertThrows(() => decodeXtext(input), InvalidInputError, "Cannot decode xtext");
  }
});

Deno.test("encodeXtext encodes '+', '=', space, controls and non-ASCII", () => {
  assertEquals(encodeXtext("a+b=c d"), "a+2Bb+3Dc+20d");
  assertEquals(encodeXtext("café\n"), "caf+C3+A9+0A");
  assertEquals(encodeXtext("<>"), "<>");
  assertEquals(encodeXtext(""), "");
});

Deno.test("decodeXtext(encodeXtext(s)) is s (property)", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 60 }), (s) => {
      const encoded = encodeXtext(s);
      assertEquals(/^[!-~]*$/.test(encoded) && !encoded.includes("="), true);
      assertEquals(decodeXtext(encoded), s);
    }),
    { numRuns: 300 },
  );
});

Deno.test("decodeXtext throws only InvalidInputError on arbitrary text (property)", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      try {
        decodeXtext(s);
      } catch (error) {
        assertEquals(error instanceof InvalidInputError, true);
      }
    }),
    { numRuns: 300 },
  );
});
