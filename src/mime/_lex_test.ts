import { readComment, readQuoted, skipCfws } from "./_lex.ts";
import { assertEquals } from "./_test_support.ts";

Deno.test("readQuoted unescapes quoted-pairs and tolerates a missing close quote", () => {
  assertEquals(readQuoted('"a\\"b" rest', 0), ['a"b', 6]);
  assertEquals(readQuoted('x"y;z"', 1), ["y;z", 6]);
  assertEquals(readQuoted('"open', 0), ["open", 5]);
  assertEquals(readQuoted('"trailing\\', 0), ["trailing\\", 10]);
});

Deno.test("readComment nests and tolerates a missing close parenthesis", () => {
  assertEquals(readComment("(a (b) c) d", 0), ["a (b) c", 9]);
  assertEquals(readComment("(a \\) b) c", 0), ["a \\) b", 8]);
  assertEquals(readComment("(open (inner)", 0), ["open (inner)", 13]);
});

Deno.test("skipCfws skips white space and comments", () => {
  assertEquals(skipCfws(" \t(c (d))\r\n x", 0), 12);
  assertEquals(skipCfws("x", 0), 0);
  assertEquals(skipCfws("  ", 0), 2);
});
