import fc from "fast-check";
import { assertEquals } from "../../../tests/assert.ts";
import { decodeMailboxName, encodeMailboxName } from "./mutf7.ts";

Deno.test("modified UTF-7: the RFC 3501 §5.1.3 example and others", () => {
  const cases: [string, string][] = [
    ["~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"], // RFC 3501 §5.1.3
    ["", ""],
    ["INBOX", "INBOX"],
    ["Tom & Jerry", "Tom &- Jerry"],
    ["&", "&-"],
    ["&&", "&-&-"],
    ["-", "-"],
    ["Entwürfe", "Entw&APw-rfe"],
    ["Gelöschte Elemente", "Gel&APY-schte Elemente"],
    ["Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"],
    ["😀", "&2D3eAA-"], // a surrogate pair
    ["a\u0001b", "a&AAE-b"], // controls are encoded
    ["\u007f", "&AH8-"],
    ["日本語&", "&ZeVnLIqe-&-"],
    ["x/y", "x/y"],
  ];
  for (const [utf8, mutf7] of cases) {
    assertEquals(encodeMailboxName(utf8), mutf7, utf8);
    assertEquals(decodeMailboxName(mutf7), utf8, mutf7);
  }
  assertEquals(encodeMailboxName("a\ud800b"), "a&,,0-b", "a lone surrogate becomes U+FFFD");
});

Deno.test("modified UTF-7: decoding refuses non-canonical and broken forms", () => {
  const bad = [
    "&", // unterminated
    "&U,BTFw", // unterminated
    "&AGE-", // "a" in base64
    "&ACY-", // "&" in base64 (must be "&-")
    "&U,BTFw-&ZeVnLIqe-", // two shifts side by side ("-&")
    "&U,BTFx-", // leftover bits not zero
    "&U,BTFwA-", // a superfluous base64 character
    "&U/BTFw-", // "/" instead of ","
    "&U,BTFw=-", // padding
    "&2D0-", // a lone high surrogate
    "&3gA-", // a lone low surrogate
    "&ZeVnLIqe", // ends in base64
    "Entwürfe", // raw non-ASCII
    "a\tb", // raw control
    "a\u007fb",
    "& -",
  ];
  for (const text of bad) assertEquals(decodeMailboxName(text), null, text);
});

Deno.test("decodeMailboxName(encodeMailboxName(s)) is s (property)", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (s) => {
      const encoded = encodeMailboxName(s);
      assertEquals(/^[\x20-\x7e]*$/.test(encoded), true);
      assertEquals(decodeMailboxName(encoded), s);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 30 }), (s) => {
      assertEquals(decodeMailboxName(encodeMailboxName(s)), s.toWellFormed());
    }),
    { numRuns: 300 },
  );
});

Deno.test("encodeMailboxName(decodeMailboxName(t)) is t when t decodes (property)", () => {
  const mutf7ish = fc.array(
    fc.oneof(
      fc.constantFrom("&", "-", "&-", ",", "+", "A", "a", "0", "/", " "),
      fc.stringMatching(/^&[A-Za-z0-9+,]{0,8}-$/),
    ),
    { maxLength: 8 },
  ).map((parts) => parts.join(""));
  fc.assert(
    fc.property(fc.oneof(mutf7ish, fc.string({ maxLength: 20 })), (t) => {
      const decoded = decodeMailboxName(t);
      if (decoded !== null) assertEquals(encodeMailboxName(decoded), t);
    }),
    { numRuns: 1000 },
  );
});
