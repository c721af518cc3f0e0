import { assertEquals } from "../../tests/assert.ts";
import { decodedSize, decodeTransfer } from "./transfer.ts";

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const raw = (s: string): Uint8Array => new TextEncoder().encode(s);

Deno.test("quoted-printable: escapes, soft line breaks, trailing padding, malformed '=' kept", () => {
  assertEquals(
    text(decodeTransfer(raw("caf=C3=a9 =\r\nau lait  \r\nx"), "quoted-printable")),
    "café au lait\r\nx",
  );
  assertEquals(text(decodeTransfer(raw("a=\nb=  \nc"), "quoted-printable")), "abc");
  assertEquals(text(decodeTransfer(raw("1+1=2 =G0 ="), "quoted-printable")), "1+1=2 =G0 ");
});

Deno.test("base64: line breaks and garbage skipped, concatenated chunks decoded", () => {
  assertEquals(text(decodeTransfer(raw("SGVs\r\nbG8=\r\nIHdvcmxk\r\n"), "base64")), "Hello world");
  assertEquals(text(decodeTransfer(raw("SGk=SGk=*"), "base64")), "HiHi");
  assertEquals(decodedSize(raw("SGVs\r\nbG8=\r\nIHdvcmxk\r\n"), "base64"), 11);
  assertEquals(decodedSize(raw("a=3D"), "quoted-printable"), 2);
});

Deno.test("identity and unknown encodings pass the bytes through", () => {
  const body = raw("=41 é");
  assertEquals(decodeTransfer(body, "8bit"), body);
  assertEquals(decodeTransfer(body, "x-uuencode"), body);
  assertEquals(decodedSize(body, "7bit"), body.length);
});
