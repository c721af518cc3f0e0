import { assert, assertEquals } from "../../../../tests/assert.ts";
import { patternMatcher } from "./list.ts";

Deno.test("LIST patterns: * crosses the separator, % does not (RFC 9051 §6.3.9)", () => {
  const cases: [string, string, boolean][] = [
    ["*", "INBOX", true],
    ["*", "a/b/c", true],
    ["%", "a", true],
    ["%", "a/b", false],
    ["a/%", "a/b", true],
    ["a/%", "a/b/c", false],
    ["a/*", "a/b/c", true],
    ["%/c", "a/c", true],
    ["%/c", "a/b/c", false],
    ["*c", "a/b/c", true],
    ["a%c", "abc", true],
    ["a%c", "ab/c", false],
    ["inbox", "INBOX", true],
    ["Inbox/%", "INBOX/x", true],
    ["Inboxes", "INBOX", false],
    ["a.b", "axb", false],
    ["", "a", false],
    ["%*%", "a/b", true],
    ["%%", "a/b", false],
  ];
  for (const [pattern, name, expected] of cases) {
    assertEquals(patternMatcher(pattern).test(name), expected, `${pattern} ~ ${name}`);
  }
});

Deno.test("LIST patterns: many wildcards take time linear in pattern × name", () => {
  const name = "abcdefgh/abcdefgh/abcdefgh/z".repeat(30);
  const started = performance.now();
  for (const pattern of ["*".repeat(200) + "q", "*a".repeat(200) + "q", "%a*".repeat(150) + "q"]) {
    assertEquals(patternMatcher(pattern).test(name), false);
  }
  const ms = performance.now() - started;
  assert(ms < 500, `took ${ms} ms`);
});
