import fc from "fast-check";
import {
  bytesToText,
  decodeCharset,
  decoderFor,
  isUtf8,
  latin1,
  normalizeCharset,
} from "./_text.ts";
import { assertEquals } from "./_test_support.ts";

Deno.test("isUtf8 follows RFC 3629 §4", () => {
  const cases: [number[], boolean][] = [
    [[0x41], true],
    [[0xc3, 0xa9], true],
    [[0xe2, 0x82, 0xac], true],
    [[0xf0, 0x9f, 0x98, 0x80], true],
    [[0xc0, 0x80], false], // overlong
    [[0xe0, 0x80, 0x80], false], // overlong
    [[0xed, 0xa0, 0x80], false], // surrogate
    [[0xf4, 0x90, 0x80, 0x80], false], // above U+10FFFF
    [[0xf5, 0x80, 0x80, 0x80], false],
    [[0xc3], false], // truncated
    [[0xe2, 0x82], false],
    [[0x80], false], // lone continuation
    [[0xe9, 0x41], false],
  ];
  for (const [b, ok] of cases) assertEquals(isUtf8(new Uint8Array(b)), ok, JSON.stringify(b));
  assertEquals(
    isUtf8(new Uint8Array([0x41, 0xc3, 0xa9, 0x42]), 1, 2),
    false,
    "window cuts a sequence",
  );
});

Deno.test("isUtf8 agrees with a fatal TextDecoder (property)", () => {
  const fatal = new TextDecoder("utf-8", { fatal: true });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12 }), (b) => {
      let valid = true;
      try {
        fatal.decode(b);
      } catch {
        valid = false;
      }
      assertEquals(isUtf8(b), valid);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("bytesToText: UTF-8 when valid, else Latin-1", () => {
  assertEquals(bytesToText(new TextEncoder().encode("Grüße €")), "Grüße €");
  assertEquals(bytesToText(new Uint8Array([0x47, 0x72, 0xfc, 0xdf, 0x65])), "Grüße");
  assertEquals(bytesToText(new Uint8Array([0x61, 0x62, 0x63]), 1, 2), "b");
  assertEquals(latin1(new Uint8Array([0x80, 0xff])), "\u0080\u00ff");
  assertEquals(latin1(new Uint8Array(20000).fill(0x61)).length, 20000);
});

Deno.test("decodeCharset knows WHATWG labels and refuses others", () => {
  assertEquals(decodeCharset(new Uint8Array([0xe9]), "ISO-8859-1"), "é");
  assertEquals(decodeCharset(new Uint8Array([0xa4]), " iso-8859-15 "), "€");
  assertEquals(decodeCharset(new Uint8Array([0x41]), "x-unknown"), null);
  assertEquals(
    decodeCharset(new Uint8Array([0x41]), "iso-2022-kr"),
    null,
    "the replacement encoding",
  );
  assertEquals(decodeCharset(new Uint8Array([0x41]), ""), null);
  assertEquals(decoderFor("UTF-8*en") !== null, true);
  assertEquals(normalizeCharset(" UTF-8*EN "), "utf-8");
});
