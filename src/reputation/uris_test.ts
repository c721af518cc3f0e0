import { assertEquals } from "../../tests/assert.ts";
import {
  decodeHtmlReferences,
  decodeQuotedPrintable,
  hostName,
  messageDomains,
  registrableDomain,
  urlHosts,
} from "./uris.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

Deno.test("decodeQuotedPrintable: octets, soft line breaks, malformed input kept", () => {
  assertEquals(text(decodeQuotedPrintable(bytes("a=3Db=\r\nc"))), "a=bc");
  assertEquals(text(decodeQuotedPrintable(bytes("caf=C3=A9 =  \r\nx"))), "café x");
  assertEquals(text(decodeQuotedPrintable(bytes("=ZZ and =4"))), "=ZZ and =4");
  assertEquals(text(decodeQuotedPrintable(bytes("end="))), "end");
});

Deno.test("urlHosts and HTML references", () => {
  assertEquals(urlHosts("see https://user@Evil.Example:8080/x?y and www.other.test."), [
    "Evil.Example",
    "www.other.test.",
  ]);
  assertEquals(decodeHtmlReferences("http://a&#46;example&period;org/"), "http://a.example.org/");
});

Deno.test("hostName and registrableDomain", () => {
  assertEquals(hostName("WWW.Bücher.example."), "www.xn--bcher-kva.example");
  assertEquals(hostName("192.0.2.1"), null);
  assertEquals(hostName("localhost"), null);
  assertEquals(registrableDomain("a.b.example.co.uk"), "example.co.uk");
  assertEquals(registrableDomain("mail.example.org"), "example.org");
});

Deno.test("messageDomains: sender, From, then URLs of a quoted-printable HTML part", () => {
  const message = [
    "From: Someone <someone@news.example.com>",
    "To: bob@example.org",
    "Subject: offer",
    "MIME-Version: 1.0",
    'Content-Type: multipart/alternative; boundary="b"',
    "",
    "--b",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "",
    btoa("visit http://plain.example.net/now"),
    "--b",
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    '<a href=3D"https://www.listed=',
    '.example/offer">click</a> and <a href=3D"http://evil&#46;example/">x</a>',
    "--b--",
    "",
  ].join("\r\n");
  const found = messageDomains(bytes(message), "bounce.sender.example", 20);
  assertEquals(found.map((d) => [d.host, d.registrable, d.source]), [
    ["bounce.sender.example", "sender.example", "sender"],
    ["news.example.com", "example.com", "from"],
    ["plain.example.net", "example.net", "body"],
    ["www.listed.example", "listed.example", "body"],
    ["evil.example", "evil.example", "body"],
  ]);
  // Bounded: the first ones found, sender and From first.
  assertEquals(messageDomains(bytes(message), "bounce.sender.example", 2).length, 2);
});
