import { assert, assertEquals } from "../../../tests/assert.ts";
import { parseCommand, UID_COMMANDS } from "./command.ts";
import {
  assertCommands,
  assertRefused,
  bytes,
  command,
  literal,
  refusal,
  set,
} from "./_parse_test_support.ts";

Deno.test("commands without arguments (RFC 9051 §6 examples)", () => {
  assertCommands([
    ["abcd CAPABILITY", { name: "CAPABILITY" }], // §6.1.1
    ["a002 NOOP", { name: "NOOP" }], // §6.1.2
    ["A023 LOGOUT", { name: "LOGOUT" }], // §6.1.3
    ["a001 STARTTLS", { name: "STARTTLS" }], // §6.2.1
    ["A001 NAMESPACE", { name: "NAMESPACE" }], // §6.3.10
    ["A002 IDLE", { name: "IDLE" }], // §6.3.13
    ["FXXZ CHECK", { name: "CHECK" }], // RFC 3501 §6.4.1
    ["A341 CLOSE", { name: "CLOSE" }], // §6.4.1
    ["A342 UNSELECT", { name: "UNSELECT" }], // §6.4.2
  ]);
  for (
    const name of [
      "CAPABILITY",
      "NOOP",
      "LOGOUT",
      "STARTTLS",
      "NAMESPACE",
      "IDLE",
      "CHECK",
      "CLOSE",
      "UNSELECT",
    ]
  ) {
    assertEquals(refusal(`t ${name} x`).text, 'Unexpected " x" after the arguments', name);
  }
});

Deno.test("the tag and the parsed command come back together", () => {
  assertEquals(parseCommand(bytes("A142 SELECT INBOX\r\n")), {
    tag: "A142",
    command: { name: "SELECT", mailbox: "INBOX", condstore: false, qresync: null },
  });
});

Deno.test("UID: only before the commands that take it", () => {
  assertEquals([...UID_COMMANDS].sort(), [
    "COPY",
    "EXPUNGE",
    "FETCH",
    "MOVE",
    "SEARCH",
    "SORT",
    "STORE",
    "THREAD",
  ]);
  const uid = (verb: string, rest: string) => command(`a UID ${verb} ${rest}`);
  assertEquals(uid("FETCH", "1 UID"), {
    name: "FETCH",
    uid: true,
    set: set(1),
    items: [{ item: "UID" }],
    changedSince: null,
    vanished: false,
  });
  assertEquals(uid("copy", "1 x"), { name: "COPY", uid: true, set: set(1), mailbox: "x" });
  for (const verb of ["NOOP", "SELECT", "LOGIN", "APPEND", "CLOSE", "XYZZY", "(FETCH)"]) {
    assertEquals(refusal(`a UID ${verb} 1`).tag, "a", verb);
  }
});

Deno.test("literals at odd places", () => {
  assertCommands([
    [`a SELECT ${literal("INBOX")}`, {
      name: "SELECT",
      mailbox: "INBOX",
      condstore: false,
      qresync: null,
    }],
    [`a RENAME ${literal("a")} ${literal("b", "+")}`, { name: "RENAME", from: "a", to: "b" }],
    [`a LOGIN ${literal("fred")} ${literal("")}`, { name: "LOGIN", user: "fred", password: "" }],
    [`a STATUS ${literal("x")} (MESSAGES)`, { name: "STATUS", mailbox: "x", items: ["MESSAGES"] }],
    [`a LIST ${literal("")} ${literal("*")}`, {
      name: "LIST",
      extended: false,
      selection: { subscribed: false, remote: false, recursiveMatch: false, specialUse: false },
      reference: "",
      patterns: ["*"],
      returns: { subscribed: false, children: false, specialUse: false, status: null },
    }],
    [`a SEARCH OR SUBJECT ${literal("(")} HEADER ${literal("X-Odd")} ${literal(")")}`, {
      name: "SEARCH",
      uid: false,
      returnOptions: null,
      charset: null,
      search: {
        key: "OR",
        left: { key: "SUBJECT", value: "(" },
        right: { key: "HEADER", field: "X-Odd", value: ")" },
      },
    }],
    [`a COPY 1 ${literal("{3}\r\nabc")}`, {
      name: "COPY",
      uid: false,
      set: set(1),
      mailbox: "{3}\r\nabc",
    }],
    [`a ID (${literal("name")} {0}\r\n)`, { name: "ID", params: [["name", ""]] }],
    [`a GETQUOTA {0}\r\n`, { name: "GETQUOTA", root: "" }],
  ]);
});

Deno.test("unbalanced parentheses and nesting are refused, never overflow the stack", () => {
  const deep = "(".repeat(10_000);
  const cases: [string, string][] = [
    ["a FETCH 1 (FLAGS", '")" to close'],
    ["a FETCH 1 FLAGS)", "Unexpected"],
    ["a FETCH 1 (FLAGS))", "Unexpected"],
    ["a SEARCH (SEEN (FLAGGED)", '")" to close'],
    ["a SEARCH SEEN))", "Unexpected"],
    ["a STATUS x (MESSAGES", '")" to close'],
    ["a STORE 1 FLAGS (\\Seen", '")" to close'],
    ['a LIST ("" %', "Expected LIST selection option"],
    ['a ID ("a" "b"', '")" to close'],
    ["a SELECT x (CONDSTORE", '")" to close'],
    [`a SEARCH ${deep}`, "nested too deeply"],
    [`a SEARCH ${deep}ALL${")".repeat(10_000)}`, "nested too deeply"],
    [`a FETCH 1 ${deep}`, "Expected fetch attribute"],
    [`a FETCH 1 FLAGS ${deep}`, "Expected FETCH modifier"],
    [`a STATUS x ${deep}`, "Expected status item"],
    [`a STORE 1 FLAGS ${deep}`, "Expected flag"],
    [`a ID ${deep}`, "Expected ID field name"],
    [`a APPEND x ${deep}`, "Expected flag"],
    [`a LIST ${deep}`, "Expected LIST selection option"],
    [`a SORT ${deep}`, "Expected sort key"],
    [`a CREATE x ${deep}`, "Expected CREATE parameter"],
    [`a SELECT x ${deep}`, "Expected SELECT parameter"],
  ];
  assertRefused(cases);
  assertEquals(refusal(`${deep} NOOP`).tag, null);
});

Deno.test("invalid sequence sets are refused wherever a set goes", () => {
  const sets = [
    "0",
    "1:",
    ":1",
    ",",
    "1,",
    "1,,2",
    "a",
    "1:x",
    "01",
    "4294967296",
    "1:4294967296",
    "-1",
    "1.2",
    "$1",
    "1$",
  ];
  const commands = [
    "a FETCH % FLAGS",
    "a UID FETCH % FLAGS",
    "a STORE % FLAGS ()",
    "a COPY % x",
    "a UID MOVE % x",
    "a UID EXPUNGE %",
    "a SEARCH %",
    "a SEARCH UID %",
  ];
  for (const template of commands) {
    for (const text of sets) {
      const error = refusal(template.replace("%", text));
      assertEquals(error.tag, "a");
      // In SEARCH, what does not start like a set ("a", ":1") is an unknown key.
      const expected = template === "a SEARCH %"
        ? /Invalid sequence set|Unknown search key/
        : /Invalid (sequence|UID) set/;
      assert(expected.test(error.text), `${template} ${text}: ${error.text}`);
    }
  }
});

Deno.test("work stays linear in the input", () => {
  // Quadratic parsing would take minutes on these; linear takes milliseconds.
  const many = 200_000;
  const ranges = Array.from({ length: many }, (_, i) => `${2 * i + 1}`).join(",");
  const fetched = command(`a FETCH ${ranges} FLAGS`);
  assert(
    fetched.name === "FETCH" && fetched.set.kind === "ranges" && fetched.set.ranges.length === many,
  );
  const items = command(`a FETCH 1 (${Array(many).fill("UID").join(" ")})`);
  assert(items.name === "FETCH" && items.items.length === many);
  const escaped = command(`a LOGIN x "${'\\"'.repeat(many)}"`);
  assert(escaped.name === "LOGIN" && escaped.password.length === many);
  const literals = command(`a SEARCH ${Array(20_000).fill(`TEXT ${literal("x y")}`).join(" ")}`);
  assert(literals.name === "SEARCH" && literals.search.key === "AND");
  const big = command(bytes("a APPEND x {10000000}\r\n", new Uint8Array(10_000_000).fill(0x61)));
  assert(big.name === "APPEND" && big.message.length === 10_000_000);
  assertEquals(
    refusal(bytes("a APPEND x {10000000}\r\n", new Uint8Array(10_000_000).fill(0))).text,
    "NUL in a literal",
  );
  assertEquals(
    refusal(`a LOGIN x ${"y".repeat(1_000_000)} z`).text,
    'Unexpected " z" after the arguments',
  );
});
