import { assertCommands, assertRefused, literal } from "./_parse_test_support.ts";

Deno.test("SORT and THREAD (RFC 5256 examples)", () => {
  assertCommands([
    ["A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994", {
      name: "SORT",
      uid: false,
      sort: [{ key: "SUBJECT", reverse: false }],
      charset: "UTF-8",
      search: { key: "SINCE", date: { year: 1994, month: 2, day: 1 } },
    }],
    ["C283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL", {
      name: "SORT",
      uid: false,
      sort: [{ key: "SUBJECT", reverse: false }, { key: "DATE", reverse: true }],
      charset: "UTF-8",
      search: { key: "ALL" },
    }],
    ['D283 SORT (SUBJECT) US-ASCII TEXT "not in mailbox"', {
      name: "SORT",
      uid: false,
      sort: [{ key: "SUBJECT", reverse: false }],
      charset: "US-ASCII",
      search: { key: "TEXT", value: "not in mailbox" },
    }],
    [
      `a UID SORT (reverse arrival cc from size to displayfrom displayto) "utf-8" UNSEEN SUBJECT ${
        literal("ü")
      }`,
      {
        name: "SORT",
        uid: true,
        sort: [
          { key: "ARRIVAL", reverse: true },
          { key: "CC", reverse: false },
          { key: "FROM", reverse: false },
          { key: "SIZE", reverse: false },
          { key: "TO", reverse: false },
          { key: "DISPLAYFROM", reverse: false }, // RFC 5957
          { key: "DISPLAYTO", reverse: false },
        ],
        charset: "UTF-8",
        search: {
          key: "AND",
          operands: [{ key: "FLAG", flag: "\\Seen", set: false }, { key: "SUBJECT", value: "ü" }],
        },
      },
    ],
    ["A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000", {
      name: "THREAD",
      uid: false,
      algorithm: "ORDEREDSUBJECT",
      charset: "UTF-8",
      search: { key: "SINCE", date: { year: 2000, month: 3, day: 5 } },
    }],
    ['A284 UID THREAD references US-ASCII TEXT "gewp"', {
      name: "THREAD",
      uid: true,
      algorithm: "REFERENCES",
      charset: "US-ASCII",
      search: { key: "TEXT", value: "gewp" },
    }],
  ]);
  assertRefused([
    ["a SORT", "Missing sort criteria"],
    ["a SORT () UTF-8 ALL", "The sort criteria is empty"],
    ["a SORT (FOO) UTF-8 ALL", 'Unknown sort key "FOO"'],
    ["a SORT (REVERSE) UTF-8 ALL", "space before the sort key"],
    ["a SORT (REVERSE REVERSE DATE) UTF-8 ALL", 'Unknown sort key "REVERSE"'],
    ["a SORT (DATE) ALL", "Missing search keys"],
    ["a SORT (DATE)", "Missing charset"],
    ["a SORT DATE UTF-8 ALL", '"(" to open the sort criteria'],
    ["a SORT RETURN (ALL) (DATE) UTF-8 ALL", '"(" to open the sort criteria'], // no ESORT
    ["a THREAD", "Missing threading algorithm"],
    ["a THREAD REFERENCES UTF-8", "Missing search keys"],
    [`a THREAD REFERENCES UTF-8 ${"NOT ".repeat(10_000)}ALL`, "nested too deeply"],
  ]);
});
