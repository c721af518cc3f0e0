import { assert, assertEquals } from "../../../../tests/assert.ts";
import type { SpecialUse } from "../../../store/mod.ts";
import { listEntries, patternMatcher } from "./list.ts";

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

type Box = { name: string; subscribed: boolean; specialUse: SpecialUse | null };

/** Mailboxes from names; a trailing "+" marks one subscribed, "!" one \Sent. */
function boxes(...names: string[]): Box[] {
  return names.map((n) => ({
    name: n.replace(/[+!]+$/, ""),
    subscribed: /\+!?$|!\+$/.test(n),
    specialUse: /!\+?$/.test(n) ? "\\Sent" : null,
  }));
}

/** Entries as short strings: `name`, `name?` for a level, `name {SUBSCRIBED}` with CHILDINFO. */
function names(
  all: readonly Box[],
  patterns: string[],
  selection: { subscribed?: boolean; specialUse?: boolean; recursiveMatch?: boolean } = {},
): string[] {
  const entries = listEntries(all, patterns, {
    subscribed: selection.subscribed ?? false,
    specialUse: selection.specialUse ?? false,
    recursiveMatch: selection.recursiveMatch ?? false,
  });
  return entries.map((e) =>
    `${e.name}${e.mailbox === null ? "?" : ""}${e.hasChildren ? "/" : ""}${
      e.childInfo.length > 0 ? ` {${e.childInfo.join(" ")}}` : ""
    }`
  );
}

Deno.test("LIST levels: a level that is not a mailbox is listed for a pattern ending in % (RFC 9051 §6.3.9)", () => {
  const all = boxes("INBOX", "a/b", "a/b/c", "x/y/z");
  assertEquals(names(all, ["%"]), ["INBOX", "a?/", "x?/"]);
  assertEquals(names(all, ["a/%"]), ["a/b/"]);
  assertEquals(names(all, ["x/%"]), ["x/y?/"]);
  assertEquals(names(all, ["x%"]), ["x?/"]);
  // With "*" the mailboxes below are listed themselves, not the levels above them.
  assertEquals(names(all, ["*"]), ["INBOX", "a/b/", "a/b/c", "x/y/z"]);
  assertEquals(names(all, ["x/*"]), ["x/y/z"]);
  // Nor for a pattern that names the level exactly, or ends otherwise.
  assertEquals(names(all, ["x"]), []);
  assertEquals(names(all, ["%/y"]), []);
  // Several patterns: one ending in % is enough, and a name is listed once (RFC 5258 §3).
  assertEquals(names(all, ["x", "%", "x%"]), ["INBOX", "a?/", "x?/"]);
  // A level comes before the mailboxes below it.
  assertEquals(names(boxes("m/n", "l"), ["%", "*"]), ["m?/", "m/n", "l"]);
});

Deno.test("LIST levels: SUBSCRIBED or SPECIAL-USE alone never lists a level (RFC 5258 §3 \\NonExistent)", () => {
  const all = boxes("a/b+", "s/t!");
  assertEquals(names(all, ["%"], { subscribed: true }), []);
  assertEquals(names(all, ["%"], { specialUse: true }), []);
  assertEquals(names(all, ["*"], { subscribed: true }), ["a/b"]);
  assertEquals(names(all, ["*"], { specialUse: true }), ["s/t"]);
});

Deno.test("LIST RECURSIVEMATCH: RFC 5258 §5 example 8", () => {
  // The hierarchy: inbox, Foo, Foo/Bar, Foo/Baz, Moo.
  const hierarchy = (...subscribed: string[]) =>
    boxes(
      ...["INBOX", "Foo", "Foo/Bar", "Foo/Baz", "Moo"].map((n) =>
        subscribed.includes(n) ? `${n}+` : n
      ),
    );
  // A) only Foo/Baz subscribed.
  const a = hierarchy("Foo/Baz");
  assertEquals(names(a, ["*"], { subscribed: true }), ["Foo/Baz"]);
  assertEquals(names(a, ["%"], { subscribed: true }), []);
  assertEquals(names(a, ["%"], { subscribed: true, recursiveMatch: true }), [
    "Foo/ {SUBSCRIBED}",
  ]);
  // A1) Foo subscribed too.
  const a1 = hierarchy("Foo", "Foo/Baz");
  assertEquals(names(a1, ["%"], { subscribed: true, recursiveMatch: true }), [
    "Foo/ {SUBSCRIBED}",
  ]);
  // A2) Foo not in the hierarchy at all.
  const a2 = a.filter((b) => b.name !== "Foo");
  assertEquals(names(a2, ["%"], { subscribed: true, recursiveMatch: true }), [
    "Foo?/ {SUBSCRIBED}",
  ]);
  // B) nothing subscribed: nothing, though Foo has children.
  assertEquals(names(hierarchy(), ["%"], { subscribed: true, recursiveMatch: true }), []);
  // C) Foo and Moo subscribed: no CHILDINFO, as no child of Foo is.
  const c = hierarchy("Foo", "Moo");
  assertEquals(names(c, ["%"], { subscribed: true, recursiveMatch: true }), ["Foo/", "Moo"]);
});

Deno.test("LIST RECURSIVEMATCH: RFC 5258 §5 example 9, CHILDINFO whatever the children match", () => {
  const all = boxes(
    "INBOX",
    "foo2",
    "foo2/bar1+",
    "foo2/bar2+",
    "baz2",
    "baz2/bar2+",
    "baz2/bar22+",
    "baz2/bar222+",
    "eps2+",
    "eps2/mamba+",
    "qux2/bar2+",
  );
  const recursive = { subscribed: true, recursiveMatch: true };
  assertEquals(names(all, ["*"], { subscribed: true }), [
    "foo2/bar1",
    "foo2/bar2",
    "baz2/bar2",
    "baz2/bar22",
    "baz2/bar222",
    "eps2/",
    "eps2/mamba",
    "qux2/bar2",
  ]);
  // D03: baz2's subscribed children all match "*2" and are returned: no baz2 (§3.5 SHOULD).
  assertEquals(names(all, ["*2"], recursive), [
    "foo2/ {SUBSCRIBED}",
    "foo2/bar2",
    "baz2/bar2",
    "baz2/bar22",
    "baz2/bar222",
    "eps2/ {SUBSCRIBED}",
    "qux2/bar2",
  ]);
  // D04.
  assertEquals(names(all, ["%2"], recursive), [
    "foo2/ {SUBSCRIBED}",
    "baz2/ {SUBSCRIBED}",
    "eps2/ {SUBSCRIBED}",
    "qux2?/ {SUBSCRIBED}",
  ]);
});

Deno.test("LIST RECURSIVEMATCH: RFC 5258 §5 example 10, CHILDINFO with several patterns", () => {
  // The example's foo/bar is subscribed but does not exist; here it exists.
  const all = boxes("foo", "foo/bar+");
  assertEquals(names(all, ["foo", "foo/*"]), ["foo/", "foo/bar"]);
  assertEquals(names(all, ["foo/*"], { subscribed: true }), ["foo/bar"]);
  assertEquals(names(all, ["foo"], { subscribed: true, recursiveMatch: true }), [
    "foo/ {SUBSCRIBED}",
  ]);
  // A pattern that returns foo/bar itself makes foo's CHILDINFO redundant (§3.5).
  assertEquals(names(all, ["foo", "foo/*"], { subscribed: true, recursiveMatch: true }), [
    "foo/bar",
  ]);
});

Deno.test("LIST RECURSIVEMATCH with SPECIAL-USE (RFC 6154 §3), and with both options", () => {
  const all = boxes("Archive", "Archive/2024!", "Lists/x+!", "Lists/y+");
  assertEquals(names(all, ["%"], { specialUse: true, recursiveMatch: true }), [
    "Archive/ {SPECIAL-USE}",
    "Lists?/ {SPECIAL-USE}",
  ]);
  // RFC 5258 §3: a mailbox below must satisfy every selection option.
  assertEquals(names(all, ["%"], { subscribed: true, specialUse: true, recursiveMatch: true }), [
    "Lists?/ {SUBSCRIBED SPECIAL-USE}",
  ]);
});
