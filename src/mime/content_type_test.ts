import fc from "fast-check";
import {
  getParam,
  MAX_PARAMS,
  parseContentType,
  parseDisposition,
  parseEncoding,
  parseLanguage,
} from "./content_type.ts";
import { assert, assertEquals } from "./_test_support.ts";

const types: [string, string, ReturnType<typeof parseContentType>][] = [
  ["plain", "text/plain", { type: "text", subtype: "plain", params: [] }],
  ["case folded", "Text/HTML; Charset=UTF-8", {
    type: "text",
    subtype: "html",
    params: [["charset", "UTF-8"]],
  }],
  ["quoted with escapes and ;", 'multipart/mixed; boundary="a;b \\"c\\""', {
    type: "multipart",
    subtype: "mixed",
    params: [["boundary", 'a;b "c"']],
  }],
  [
    "comments and spaces (RFC 2045 §5.1)",
    "(c) text / plain (x) ; charset = us-ascii (Plain text)",
    {
      type: "text",
      subtype: "plain",
      params: [["charset", "us-ascii"]],
    },
  ],
  ["folded parameters", "multipart/alternative;\r\n boundary=inner-b;\r\n\tcharset=x", {
    type: "multipart",
    subtype: "alternative",
    params: [["boundary", "inner-b"], ["charset", "x"]],
  }],
  ["unquoted value with spaces and 8-bit text", "application/pdf; name=mon fichier é.pdf", {
    type: "application",
    subtype: "pdf",
    params: [["name", "mon fichier é.pdf"]],
  }],
  ["malformed parameters dropped", "text/plain; ; =x; novalue; charset=utf-8;", {
    type: "text",
    subtype: "plain",
    params: [["charset", "utf-8"]],
  }],
  [
    "RFC 2231 continuation",
    "application/x-stuff; title*0*=us-ascii'en'This%20is; title*1=\" it\"",
    {
      type: "application",
      subtype: "x-stuff",
      params: [["title", "This is it"]],
    },
  ],
  ["unterminated quote runs to the end", 'text/plain; name="abc', {
    type: "text",
    subtype: "plain",
    params: [["name", "abc"]],
  }],
  ["no subtype", "text", null],
  ["no subtype after slash", "text/", null],
  ["empty", "", null],
  ["garbage", "@@@/x", null],
];

Deno.test("parseContentType parses the table", () => {
  for (const [name, input, expected] of types) {
    assertEquals(parseContentType(input), expected, name);
  }
});

Deno.test("parseDisposition parses RFC 2183 values", () => {
  assertEquals(parseDisposition('Attachment; filename="a.pdf"; size=10'), {
    type: "attachment",
    params: [["filename", "a.pdf"], ["size", "10"]],
  });
  assertEquals(parseDisposition("inline"), { type: "inline", params: [] });
  assertEquals(parseDisposition("attachment; filename*=utf-8''%E2%82%AC.txt"), {
    type: "attachment",
    params: [["filename", "€.txt"]],
  });
  assertEquals(parseDisposition("  ; filename=x"), null);
});

Deno.test("parseEncoding and parseLanguage read their tokens", () => {
  assertEquals(parseEncoding(" Base64 (comment)"), "base64");
  assertEquals(parseEncoding("Quoted-Printable"), "quoted-printable");
  assertEquals(parseEncoding("  "), null);
  assertEquals(parseLanguage("fr, en-GB (British)"), ["fr", "en-GB"]);
  assertEquals(parseLanguage(" , ,"), null);
  assertEquals(parseLanguage("de"), ["de"]);
});

Deno.test("parameters are capped at MAX_PARAMS", () => {
  const value = "text/plain" + Array.from({ length: 300 }, (_, i) => `; p${i}=${i}`).join("");
  assertEquals(parseContentType(value)?.params.length, MAX_PARAMS);
});

Deno.test("getParam finds a parameter case-insensitively", () => {
  assertEquals(getParam([["charset", "utf-8"]], "CHARSET"), "utf-8");
  assertEquals(getParam([["charset", "utf-8"]], "name"), null);
});

Deno.test("the parsers never throw (property)", () => {
  const piece = fc.oneof(
    fc.string({ maxLength: 6 }),
    fc.constantFrom("text/plain", ";", "=", '"', "\\", "(", ")", "*0*", "*1", "'", "%", " ", "/"),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 25 }), (pieces) => {
      const value = pieces.join("");
      const ct = parseContentType(value);
      if (ct !== null) {
        assertEquals(ct.type, ct.type.toLowerCase());
        for (const [name] of ct.params) assertEquals(name, name.toLowerCase());
      }
      parseDisposition(value);
      parseEncoding(value);
      parseLanguage(value);
    }),
    { numRuns: 500 },
  );
});

Deno.test("hostile parameter lists stay linear", () => {
  const n = 50_000;
  for (
    const tail of [
      ";".repeat(n),
      ";(;".repeat(n),
      "; a*0*=%".repeat(n),
      '; a="'.repeat(n),
      "(".repeat(n),
    ]
  ) {
    const t0 = performance.now();
    parseContentType("text/plain" + tail);
    parseLanguage(tail);
    assert(performance.now() - t0 < 1000, `too slow on ${tail.slice(0, 12)}…`);
  }
});
