import { assertEquals } from "../../../tests/assert.ts";
import { assertCommands, assertRefused, literal, refusal } from "./_parse_test_support.ts";

Deno.test("ENABLE: one or more capability names, upper-cased", () => {
  assertCommands([
    ["t2 ENABLE CONDSTORE X-GOOD-IDEA", {
      name: "ENABLE",
      capabilities: ["CONDSTORE", "X-GOOD-IDEA"],
    }], // RFC 5161 §3.1
    ["a ENABLE IMAP4rev2", { name: "ENABLE", capabilities: ["IMAP4REV2"] }],
    ["a ENABLE UTF8=ACCEPT qresync", { name: "ENABLE", capabilities: ["UTF8=ACCEPT", "QRESYNC"] }],
  ]);
  assertRefused([
    ["a ENABLE", "Missing capability name"],
    ["a ENABLE (QRESYNC)", "Expected capability name"],
    ['a ENABLE "QRESYNC"', "Expected capability name"],
    ["a ENABLE QRESYNC  CONDSTORE", "Expected capability name"],
  ]);
});

Deno.test("ID: NIL or field-value pairs, within RFC 2971's limits", () => {
  assertCommands([
    [
      'a023 ID ("name" "sodr" "version" "19.34" "vendor" "Pink Floyd Music Limited")', // RFC 2971 §3.2
      {
        name: "ID",
        params: [["name", "sodr"], ["version", "19.34"], ["vendor", "Pink Floyd Music Limited"]],
      },
    ],
    ["a023 ID NIL", { name: "ID", params: null }],
    ["a ID nil", { name: "ID", params: null }],
    ["a ID ()", { name: "ID", params: [] }],
    ['a ID ("os" NIL)', { name: "ID", params: [["os", null]] }],
    [`a ID (${literal("name")} ${literal("K-9 Mail")})`, {
      name: "ID",
      params: [["name", "K-9 Mail"]],
    }],
    [
      `a ID (${Array.from({ length: 30 }, (_, i) => `"f${i}" "v"`).join(" ")})`,
      { name: "ID", params: Array.from({ length: 30 }, (_, i) => [`f${i}`, "v"] as const) },
    ],
    [`a ID ("${"f".repeat(30)}" "${"v".repeat(1024)}")`, {
      name: "ID",
      params: [["f".repeat(30), "v".repeat(1024)]],
    }],
  ]);
  assertRefused([
    ["a ID", "Missing ID parameter list"],
    ['a ID ("name")', 'before the value of ID field "name"'],
    ["a ID (name sodr)", "Expected ID field name as a quoted string or a literal"],
    ['a ID ("name" sodr)', "Expected ID field value"],
    ['a ID (NIL "x")', "Expected ID field name"],
    ['a ID ("a" "b"', '")" to close the ID parameter list'],
    ['a ID (("a" "b"))', "Expected ID field name"],
    [`a ID (${Array.from({ length: 31 }, (_, i) => `"f${i}" "v"`).join(" ")})`, "more than 30"],
    [`a ID ("${"f".repeat(31)}" "v")`, "longer than 30 octets"],
    [`a ID ("f" "${"v".repeat(1025)}")`, "longer than 1024 octets"],
    ["a ID NIL NIL", "Unexpected"],
  ]);
  assertEquals(refusal(`a ID ("${"f".repeat(31)}" "v")`).code, "TOOBIG");
});
