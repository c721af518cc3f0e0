import fc from "fast-check";
import {
  combineRfc2231Params,
  decodeBase64,
  decodeEncodedWords,
  decodeExtendedValue,
  decodeQ,
} from "./encoded_words.ts";
import { assert, assertEquals } from "./_test_support.ts";

const words: [string, string, string][] = [
  ["plain text is unchanged", "Hello, world", "Hello, world"],
  ["B in UTF-8", "=?UTF-8?B?w6nDqMOgIOKCrA==?=", "éèà €"],
  ["Q in UTF-8 with underscore", "=?utf-8?q?R=C3=A9union_demain?=", "Réunion demain"],
  ["Q in ISO-8859-1", "=?ISO-8859-1?Q?Andr=E9?= Pirard", "André Pirard"],
  ["B in ISO-8859-15 (euro sign)", "=?iso-8859-15?b?pA==?=", "€"],
  ["windows-1252", "=?windows-1252?Q?=93quoted=94?=", "\u201cquoted\u201d"],
  ["KOI8-R", "=?koi8-r?B?8NLJ18XU?=", "Привет"],
  ["Shift_JIS", "=?Shift_JIS?B?k/qWe4zq?=", "日本語"],
  ["ISO-2022-JP", "=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=", "日本語"],
  ["GB2312", "=?gb2312?B?1tDOxA==?=", "中文"],
  ["US-ASCII", "=?us-ascii?q?plain?=", "plain"],
  ["lowercase b and q", "=?utf-8?b?aGk=?= =?utf-8?q?_there?=", "hi there"],
  ["RFC 2231 §5 language suffix", "=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore"],
  // RFC 2047 §8 examples
  ["§8 single word in parentheses", "(=?ISO-8859-1?Q?a?=)", "(a)"],
  ["§8 word then text", "(=?ISO-8859-1?Q?a?= b)", "(a b)"],
  ["§8 adjacent words join", "(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"],
  ["§8 folding white space dropped", "(=?ISO-8859-1?Q?a?=\r\n   \t=?ISO-8859-1?Q?b?=)", "(ab)"],
  ["§8 encoded space kept", "(=?ISO-8859-1?Q?a_b?=)", "(a b)"],
  ["§8 words in two charsets", "(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)"],
  ["text between words is kept", "=?utf-8?q?a?= and =?utf-8?q?b?=", "a and b"],
  ["character split across two B words", "=?utf-8?B?4oI=?= =?utf-8?B?rA==?=", "€"],
  ["unknown charset left as written", "=?x-unknown?q?abc?= =?utf-8?q?d?=", "=?x-unknown?q?abc?= d"],
  ["UTF-7 is not decoded", "=?utf-7?q?abc?=", "=?utf-7?q?abc?="],
  ["not an encoded word: space inside", "=?utf-8?q?a b?=", "=?utf-8?q?a b?="],
  ["not an encoded word: bad encoding letter", "=?utf-8?x?abc?=", "=?utf-8?x?abc?="],
  ["unterminated word", "=?utf-8?q?abc", "=?utf-8?q?abc"],
  ["glued to text", "Re:=?utf-8?q?caf=C3=A9?=!", "Re:café!"],
  ["empty encoded text", "a =?utf-8?q??= b", "a  b"],
  ["bad base64 is decoded leniently", "=?utf-8?b?a#G!k?=", "hi"],
  ["malformed UTF-8 becomes U+FFFD", "=?utf-8?q?=FF?=", "\ufffd"],
  ["stray = in Q stays", "=?utf-8?q?100=_sure=ZZ?=", "100= sure=ZZ"],
];

Deno.test("decodeEncodedWords decodes the table", () => {
  for (const [name, input, expected] of words) {
    assertEquals(decodeEncodedWords(input), expected, name);
  }
});

Deno.test("decodeBase64 and decodeQ are lenient", () => {
  assertEquals([...decodeBase64("AAEC")], [0, 1, 2]);
  assertEquals([...decodeBase64("AAE")], [0, 1]);
  assertEquals([...decodeBase64("AA==")], [0]);
  assertEquals([...decodeBase64("A")], []);
  assertEquals([...decodeBase64("A A\nE C")], [0, 1, 2]);
  assertEquals([...decodeQ("a_=3D=3d=")], [0x61, 0x20, 0x3d, 0x3d, 0x3d]);
});

Deno.test("decodeExtendedValue decodes charset'lang'%XX (RFC 2231 §4)", () => {
  assertEquals(
    decodeExtendedValue("us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A"),
    "This is ***fun***",
  );
  assertEquals(decodeExtendedValue("utf-8''%E2%82%AC%20rates"), "€ rates");
  assertEquals(decodeExtendedValue("iso-8859-1'fr'caf%E9"), "café");
  assertEquals(decodeExtendedValue("''%C3%A9"), "é", "empty charset: UTF-8 when valid");
  assertEquals(decodeExtendedValue("x-nope''%E9"), "é", "unknown charset: Latin-1 fallback");
  assertEquals(decodeExtendedValue("no-quotes%41"), "no-quotesA");
  assertEquals(decodeExtendedValue("utf-8''100%"), "100%");
  assertEquals(decodeExtendedValue("utf-8''%zz"), "%zz");
});

Deno.test("combineRfc2231Params joins continuations and decodes (RFC 2231 §3, §4.1)", () => {
  // RFC 2231 §3 example
  assertEquals(
    combineRfc2231Params([
      ["URL*0", "ftp://"],
      ["URL*1", "cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"],
    ]),
    [["url", "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"]],
  );
  // RFC 2231 §4.1 example: encoded and plain sections mixed
  assertEquals(
    combineRfc2231Params([
      ["title*0*", "us-ascii'en'This%20is%20even%20more%20"],
      ["title*1*", "%2A%2A%2Afun%2A%2A%2A%20"],
      ["title*2", "isn't it!"],
    ]),
    [["title", "This is even more ***fun*** isn't it!"]],
  );
  assertEquals(
    combineRfc2231Params([["charset", "utf-8"], ["name*", "utf-8''%C3%A9.txt"], ["name", "e.txt"]]),
    [["charset", "utf-8"], ["name", "é.txt"]],
    "the extended value wins over the plain one",
  );
  assertEquals(
    combineRfc2231Params([["f*1*", "%A9"], ["f*0*", "utf-8''%C3"], ["f*2", "!"]]),
    [["f", "é!"]],
    "out of order sections, a character split across two sections",
  );
  assertEquals(
    combineRfc2231Params([["a*0", "x"], ["a*0", "y"], ["a*2", "z"]]),
    [["a", "xz"]],
    "duplicate section: the first wins; gaps tolerated",
  );
  assertEquals(combineRfc2231Params([["a*1234", "v"], ["*", "w"]]), [["a*1234", "v"], ["*", "w"]]);
});

Deno.test("decoders never throw (property)", () => {
  const piece = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom("=?", "?=", "?q?", "?B?", "utf-8", "x-bad", "=C3", "_", " ", "=?utf-8?b?", "'"),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 20 }), (pieces) => {
      const text = pieces.join("");
      decodeEncodedWords(text);
      decodeExtendedValue(text);
      combineRfc2231Params([[`n*${pieces.length % 3}*`, text], ["n*0", text], [text, text]]);
    }),
    { numRuns: 500 },
  );
});

Deno.test("hostile encoded-word text stays linear", () => {
  const n = 50_000;
  const madeUp = Array.from({ length: n }, (_, i) => `=?x-${i}?q?a?=`).join(" ");
  const texts = ["=?".repeat(n), "=?a?q?".repeat(n), "=?utf-8?q?a?= ".repeat(n), madeUp];
  for (const text of texts) {
    const t0 = performance.now();
    decodeEncodedWords(text);
    decodeExtendedValue(text);
    assert(performance.now() - t0 < 1000, `too slow on ${text.slice(0, 12)}…`);
  }
  assertEquals(decodeEncodedWords(madeUp).slice(0, 13), "=?x-0?q?a?= =", "left as written");
});
