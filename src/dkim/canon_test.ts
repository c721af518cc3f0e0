import { assertEquals } from "../../tests/assert.ts";
import { relaxedBody, relaxedHeader, splitMessage, toCrlf } from "./canon.ts";

const encoder = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

// RFC 6376 §3.4.5, the example message, written out octet by octet.
const EXAMPLE = "A: X\r\n" +
  "B : Y\t\r\n" +
  "\tZ  \r\n" +
  "\r\n" +
  " C \r\n" +
  "D \t E\r\n" +
  "\r\n" +
  "\r\n";

Deno.test("RFC 6376 §3.4.5: the relaxed canonicalisation of the example", () => {
  const raw = encoder.encode(EXAMPLE);
  const split = splitMessage(raw);
  assertEquals(split.fields.map((f) => f.name), ["A", "B"]);
  assertEquals(split.fields.map((f) => text(relaxedHeader(f.raw))), ["a:X\r\n", "b:Y Z\r\n"]);
  assertEquals(text(relaxedBody(raw.subarray(split.bodyStart))), " C\r\nD E\r\n");
});

Deno.test("relaxed body: empty stays empty, a missing final CRLF is added, inner empty lines stay", () => {
  const body = (s: string) => text(relaxedBody(encoder.encode(s)));
  assertEquals(body(""), "");
  assertEquals(body("\r\n\r\n"), "");
  assertEquals(body("  \r\n\t\r\n"), ""); // white space only: empty lines
  assertEquals(body("x"), "x\r\n");
  assertEquals(body("a\r\n\r\n  \r\nb  \t"), "a\r\n\r\n\r\nb\r\n");
  assertEquals(body("\tlead\t\tin"), " lead in\r\n");
  // 8-bit octets pass unchanged.
  assertEquals(
    relaxedBody(new Uint8Array([0xff, 0x20, 0x20, 0xfe])),
    new Uint8Array([0xff, 0x20, 0xfe, 13, 10]),
  );
});

Deno.test("relaxed header: name lower case, unfolded, white space collapsed and trimmed", () => {
  const header = (s: string) => text(relaxedHeader(s));
  assertEquals(header("Subject:  Hello \t World  \r\n"), "subject:Hello World\r\n");
  assertEquals(
    header("To: a@example.org,\r\n\tb@example.org\r\n"),
    "to:a@example.org, b@example.org\r\n",
  );
  assertEquals(header("X-Empty:\r\n"), "x-empty:\r\n");
  assertEquals(header("DKIM-Signature: v=1;\r\n\tb="), "dkim-signature:v=1; b=\r\n");
});

Deno.test("splitMessage: folded fields, no body, fields without a colon skipped", () => {
  const raw = encoder.encode("From: a\r\n b\r\nnot a field\r\nTo: c\r\n");
  const split = splitMessage(raw);
  assertEquals(split.fields.map((f) => [f.name, text(f.raw)]), [
    ["From", "From: a\r\n b\r\n"],
    ["To", "To: c\r\n"],
  ]);
  assertEquals(split.bodyStart, raw.length);
});

Deno.test("toCrlf: bare LF and bare CR become CRLF; CRLF input is returned as it is", () => {
  const crlf = encoder.encode("a\r\nb\r\n");
  assertEquals(toCrlf(crlf) === crlf, true);
  assertEquals(text(toCrlf(encoder.encode("a\nb\rc\r\nd"))), "a\r\nb\r\nc\r\nd");
});
