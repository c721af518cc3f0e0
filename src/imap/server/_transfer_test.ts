import { assertEquals } from "../../../tests/assert.ts";
import {
  decodeBase64Bytes,
  decodeQuotedPrintable,
  decodeTransfer,
  isKnownEncoding,
} from "./_transfer.ts";

const encoder = new TextEncoder();
const octets = (bytes: Uint8Array) => String.fromCharCode(...bytes);

Deno.test("quoted-printable: escapes, soft breaks, padding, and stray '=' (RFC 2045 §6.7)", () => {
  const table: [string, string][] = [
    ["Caf=C3=A9", "Caf\xc3\xa9"],
    ["caf=c3=a9", "caf\xc3\xa9"], // lower-case hex accepted
    ["long=\r\nline", "longline"], // soft line break
    ["long=  \r\nline", "longline"], // white space after the soft break
    ["bare=\nlf", "barelf"],
    ["end=", "end"],
    ["pad  \r\nnext\t\r\n", "pad\r\nnext\r\n"], // trailing white space is padding
    ["in the middle", "in the middle"],
    ["a=ZZb", "a=ZZb"], // not an escape: kept
    ["1+1=2", "1+1=2"],
    ["tail =", "tail "],
  ];
  for (const [input, want] of table) {
    assertEquals(octets(decodeQuotedPrintable(encoder.encode(input))), want, input);
  }
});

Deno.test("base64: line breaks and garbage skipped, padding ends a quantum (RFC 2045 §6.8)", () => {
  const table: [string, string][] = [
    ["AAEC/w==", "\x00\x01\x02\xff"],
    ["SGVs\r\nbG8=", "Hello"],
    ["SGVsbG8", "Hello"], // no padding
    ["QQ==QkM=", "ABC"], // concatenated encoded chunks
    ["S*G!V-s bG8=", "Hello"],
    ["", ""],
  ];
  for (const [input, want] of table) {
    assertEquals(octets(decodeBase64Bytes(encoder.encode(input))), want, input);
  }
});

Deno.test("decodeTransfer: identity encodings as they are, unknown ones null", () => {
  const body = encoder.encode("=41 is A");
  assertEquals(decodeTransfer(body, "7bit"), body);
  assertEquals(decodeTransfer(body, "8bit"), body);
  assertEquals(decodeTransfer(body, "binary"), body);
  assertEquals(octets(decodeTransfer(body, "quoted-printable")!), "A is A");
  assertEquals(decodeTransfer(body, "x-uuencode"), null);
  assertEquals(isKnownEncoding("base64"), true);
  assertEquals(isKnownEncoding("x-gzip"), false);
});
