import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { InvalidInputError } from "./errors.ts";
import { decodePunycode, encodePunycode, PUNYCODE_MAX_INPUT } from "./punycode.ts";

// RFC 3492 §7.1 sample strings, plus a few well-known IDN labels.
const SAMPLES: ReadonlyArray<readonly [string, string]> = [
  ["ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"],
  ["3年B組金八先生", "3B-ww4c5e180e575a65lsy2b"],
  ["安室奈美恵-with-SUPER-MONKEYS", "-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n"],
  ["Hello-Another-Way-それぞれの場所", "Hello-Another-Way--fc4qua05auwb3674vfr0b"],
  ["ひとつ屋根の下2", "2-u9tlzr9756bt3uc0v"],
  ["MajiでKoiする5秒前", "MajiKoi5-783gue6qz075azm5e"],
  ["パフィーdeルンバ", "de-jg4avhby1noc0d"],
  ["そのスピードで", "d9juau41awczczp"],
  ["-> $1.00 <-", "-> $1.00 <--"],
  ["bücher", "bcher-kva"],
  ["münchen", "mnchen-3ya"],
  ["😀a😀b", "ab-mo82aba"],
  ["", ""],
];

Deno.test("encodePunycode matches the RFC 3492 §7.1 samples", () => {
  for (const [unicode, puny] of SAMPLES) {
    assertEquals(encodePunycode(unicode), puny, unicode);
  }
});

Deno.test("decodePunycode matches the RFC 3492 §7.1 samples", () => {
  for (const [unicode, puny] of SAMPLES) {
    assertEquals(decodePunycode(puny), unicode, puny);
  }
});

Deno.test("decodePunycode accepts upper-case digits", () => {
  assertEquals(decodePunycode("BCHER-KVA"), "BüCHER");
});

Deno.test("decodePunycode rejects malformed input with InvalidInputError", () => {
  for (
    const bad of [
      "-", // delimiter with nothing to decode, then "-" read as a digit
      "a-9", // truncated variable-length integer
      "zzzzzzzzzzzzzz", // truncated
      "99999999999", // overflow
      "a-b-ü", // non-basic code point
      "ü-abc", // non-basic before the delimiter
      "a-%", // invalid digit
      "x".repeat(PUNYCODE_MAX_INPUT + 1),
    ]
  ) {
    assertThrows(() => decodePunycode(bad), InvalidInputError);
  }
});

Deno.test("decodePunycode rejects input that decodes to a surrogate", () => {
  // A single inserted code point with delta 0xD800 - 0x80, worked through RFC 3492 §6.3 by hand.
  assertThrows(() => decodePunycode("ib9b"), InvalidInputError);
});

Deno.test("encodePunycode rejects unpaired surrogates and over-long input", () => {
  assertThrows(() => encodePunycode("a\ud800b"), InvalidInputError);
  assertThrows(() => encodePunycode("é".repeat(PUNYCODE_MAX_INPUT + 1)), InvalidInputError);
});

Deno.test("property: decode(encode(s)) === s for any well-formed string", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
      assertEquals(decodePunycode(encodePunycode(s)), s);
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: decodePunycode throws nothing but InvalidInputError", () => {
  const unit = fc.constantFrom(..."abcxyz0189-ABZ-ü%".split(""));
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 30 }), (s) => {
      try {
        const decoded = decodePunycode(s);
        assert(decoded.isWellFormed());
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
      }
    }),
    { numRuns: 1000 },
  );
});
