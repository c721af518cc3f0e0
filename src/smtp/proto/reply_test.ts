import { assertEquals, assertThrows } from "../../../tests/assert.ts";
import { formatReply, isPositive, MAX_REPLY_LINE_OCTETS, reply } from "./reply.ts";

Deno.test("formatReply writes one line, with and without an enhanced code", () => {
  assertEquals(formatReply(reply(250, "2.1.0", "Sender OK")), "250 2.1.0 Sender OK\r\n");
  assertEquals(formatReply(reply(354, null, "Go ahead")), "354 Go ahead\r\n");
});

Deno.test("formatReply repeats the code and the enhanced code on every line (RFC 2034 §3)", () => {
  assertEquals(
    formatReply(reply(250, "2.0.0", "mx.example.org", "PIPELINING", "SIZE 1000")),
    "250-2.0.0 mx.example.org\r\n250-2.0.0 PIPELINING\r\n250 2.0.0 SIZE 1000\r\n",
  );
  assertEquals(formatReply(reply(250, null, "a", "b")), "250-a\r\n250 b\r\n");
});

Deno.test('formatReply without text keeps the space after the code (RFC 4954 §8 "334 ")', () => {
  assertEquals(formatReply(reply(334, null, "")), "334 \r\n");
  assertEquals(formatReply(reply(334, null)), "334 \r\n");
  assertEquals(formatReply(reply(250, null, "", "")), "250-\r\n250 \r\n");
  assertEquals(formatReply(reply(221, "2.0.0")), "221 2.0.0\r\n");
});

Deno.test("formatReply cannot be made to start a new line", () => {
  const text = formatReply(reply(550, "5.1.1", "no such user a\r\n250 OK\x00\x7f\tend"));
  assertEquals(text, "550 5.1.1 no such user a  250 OK  \tend\r\n");
});

Deno.test("formatReply cuts a line at 512 octets, at a character boundary (RFC 5321 §4.5.3.1.5)", () => {
  const ascii = formatReply(reply(550, "5.0.0", "x".repeat(1000)));
  assertEquals(ascii.length, MAX_REPLY_LINE_OCTETS);
  assertEquals(ascii.endsWith("x\r\n"), true);
  const wide = formatReply(reply(550, null, "€".repeat(400), "ok"));
  const [first, second] = wide.split("\r\n");
  const firstOctets = new TextEncoder().encode(first! + "\r\n").length;
  assertEquals(firstOctets <= MAX_REPLY_LINE_OCTETS, true);
  assertEquals(firstOctets > MAX_REPLY_LINE_OCTETS - 3, true);
  assertEquals(first!.endsWith("€"), true);
  assertEquals(second, "550 ok");
});

Deno.test("reply refuses codes outside RFC 5321 §4.2 and mismatched enhanced codes", () => {
  for (const code of [199, 600, 260, 25, 2500, 250.5, NaN]) {
    assertThrows(() => reply(code, null, "x"), RangeError);
  }
  for (const enhanced of ["4.1.1", "3.0.0", "2.0", "2.0.0.0", "2.1000.0", "2.a.0", " 2.0.0"]) {
    assertThrows(() => reply(250, enhanced, "x"), RangeError, "enhanced");
  }
  assertEquals(reply(552, "5.3.4", "Too big").enhanced, "5.3.4");
  assertEquals(reply(451, "4.3.0", "Later").code, 451);
});

Deno.test("reply copies its lines", () => {
  const lines = ["a"];
  const r = reply(250, null, ...lines);
  lines.push("b");
  assertEquals(r.lines, ["a"]);
});

Deno.test("isPositive: 2xx and 3xx", () => {
  assertEquals(isPositive(reply(250, null)), true);
  assertEquals(isPositive(reply(354, null)), true);
  assertEquals(isPositive(reply(421, "4.4.2")), false);
  assertEquals(isPositive(reply(554, "5.0.0")), false);
});
