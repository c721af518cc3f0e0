import { assert, assertEquals } from "../../../tests/assert.ts";
import { MAX_SEARCH_DEPTH, type SearchCommand, type SearchKey } from "./search_keys.ts";
import { assertRefused, bytes, command, literal, refusal, set } from "./_parse_test_support.ts";

function search(input: string | Uint8Array): SearchCommand {
  const parsed = command(input);
  assert(parsed.name === "SEARCH", parsed.name);
  return parsed;
}
const keys = (input: string) => search(`a SEARCH ${input}`).search;
const flag = (name: string, isSet = true): SearchKey => ({ key: "FLAG", flag: name, set: isSet });
const date = (year: number, month: number, day: number) => ({ year, month, day });

Deno.test("SEARCH: the RFC 9051 §6.4.4 examples", () => {
  const example = {
    key: "AND",
    operands: [flag("\\Flagged"), { key: "SINCE", date: date(1994, 2, 1) }, {
      key: "NOT",
      operand: { key: "FROM", value: "Smith" },
    }],
  } as const;
  assertEquals(search('A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"'), {
    name: "SEARCH",
    uid: false,
    returnOptions: ["MIN", "COUNT"],
    charset: null,
    search: example,
  });
  assertEquals(
    search('A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"').returnOptions,
    ["ALL"],
  );
  assertEquals(search('A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"').returnOptions, null);
  assertEquals(keys('TEXT "string not in mailbox"'), {
    key: "TEXT",
    value: "string not in mailbox",
  });
  const utf8 = search(`A285 SEARCH CHARSET UTF-8 TEXT ${literal("Литература")}`);
  assertEquals([utf8.charset, utf8.search], ["UTF-8", { key: "TEXT", value: "Литература" }]);
  const plus = search(`A286 SEARCH CHARSET utf-8 TEXT ${literal("Литература", "+")}`);
  assertEquals([plus.charset, plus.search], ["UTF-8", { key: "TEXT", value: "Литература" }]);
});

Deno.test("SEARCH: every key", () => {
  const cases: [string, SearchKey][] = [
    ["ALL", { key: "ALL" }],
    ["ANSWERED", flag("\\Answered")],
    ["DELETED", flag("\\Deleted")],
    ["DRAFT", flag("\\Draft")],
    ["FLAGGED", flag("\\Flagged")],
    ["SEEN", flag("\\Seen")],
    ["UNANSWERED", flag("\\Answered", false)],
    ["UNDELETED", flag("\\Deleted", false)],
    ["UNDRAFT", flag("\\Draft", false)],
    ["unflagged", flag("\\Flagged", false)],
    ["UNSEEN", flag("\\Seen", false)],
    ["RECENT", flag("\\Recent")], // RFC 3501
    ["OLD", flag("\\Recent", false)],
    ["NEW", { key: "AND", operands: [flag("\\Recent"), flag("\\Seen", false)] }],
    ["KEYWORD $Forwarded", flag("$Forwarded")],
    ["UNKEYWORD NonJunk", flag("NonJunk", false)],
    ["BCC a", { key: "BCC", value: "a" }],
    ['BODY "b c"', { key: "BODY", value: "b c" }],
    ["CC {1}\r\nc", { key: "CC", value: "c" }],
    ["FROM Smith", { key: "FROM", value: "Smith" }],
    ['SUBJECT ""', { key: "SUBJECT", value: "" }],
    ["TEXT süß", { key: "TEXT", value: "süß" }],
    ["TO x]y", { key: "TO", value: "x]y" }],
    ["HEADER Message-ID <a@b>", { key: "HEADER", field: "Message-ID", value: "<a@b>" }],
    ['HEADER "List-Id" ""', { key: "HEADER", field: "List-Id", value: "" }],
    ["BEFORE 1-Feb-2026", { key: "BEFORE", date: date(2026, 2, 1) }],
    ['ON "29-feb-2024"', { key: "ON", date: date(2024, 2, 29) }],
    ["SINCE 01-Jan-2000", { key: "SINCE", date: date(2000, 1, 1) }],
    ["SENTBEFORE 1-Feb-2026", { key: "SENTBEFORE", date: date(2026, 2, 1) }],
    ["SENTON 1-Feb-2026", { key: "SENTON", date: date(2026, 2, 1) }],
    ["SENTSINCE 1-Feb-2026", { key: "SENTSINCE", date: date(2026, 2, 1) }],
    ["LARGER 1024", { key: "LARGER", size: 1024 }],
    ["SMALLER 0", { key: "SMALLER", size: 0 }],
    ["LARGER 9007199254740991", { key: "LARGER", size: 9007199254740991 }],
    ["1:5", { key: "SEQ", set: set([1, 5]) }],
    ["2,4:*", { key: "SEQ", set: set(2, [4, "*"]) }],
    ["*", { key: "SEQ", set: set("*") }],
    ["$", { key: "SEQ", set: { kind: "saved" } }], // RFC 5182
    ["UID 1:4294967295", { key: "UID", set: set([1, 4294967295]) }],
    ["UID $", { key: "UID", set: { kind: "saved" } }],
    ["NOT SEEN", { key: "NOT", operand: flag("\\Seen") }],
    ["OR SEEN FLAGGED", { key: "OR", left: flag("\\Seen"), right: flag("\\Flagged") }],
    ["(SEEN)", flag("\\Seen")],
    ["(SEEN FLAGGED)", { key: "AND", operands: [flag("\\Seen"), flag("\\Flagged")] }],
    ["OR (SEEN FLAGGED) NOT (1:3)", {
      key: "OR",
      left: { key: "AND", operands: [flag("\\Seen"), flag("\\Flagged")] },
      right: { key: "NOT", operand: { key: "SEQ", set: set([1, 3]) } },
    }],
    ["OR OR FROM a TO a CC a", { // how Thunderbird nests ORs
      key: "OR",
      left: { key: "OR", left: { key: "FROM", value: "a" }, right: { key: "TO", value: "a" } },
      right: { key: "CC", value: "a" },
    }],
    // RFC 7162 §3.1.5
    ['MODSEQ "/flags/\\\\draft" all 620162338', {
      key: "MODSEQ",
      modseq: 620162338n,
      entry: { flag: "\\Draft", type: "all" },
    }],
    ['MODSEQ "/flags/$Junk" PRIV 0', {
      key: "MODSEQ",
      modseq: 0n,
      entry: { flag: "$Junk", type: "priv" },
    }],
    ["MODSEQ 720162338", { key: "MODSEQ", modseq: 720162338n, entry: null }],
  ];
  for (const [input, expected] of cases) assertEquals(keys(input), expected, input);
  assertEquals(keys("OR NOT MODSEQ 720162338 LARGER 50000"), { // RFC 7162 §3.1.5
    key: "OR",
    left: { key: "NOT", operand: { key: "MODSEQ", modseq: 720162338n, entry: null } },
    right: { key: "LARGER", size: 50000 },
  });
});

Deno.test("SEARCH: return options, CHARSET, UID SEARCH and saved results", () => {
  assertEquals(search("A300 SEARCH RETURN (SAVE) FLAGGED").returnOptions, ["SAVE"]); // RFC 5182 §4
  assertEquals(search("a SEARCH RETURN (min max all count save MIN) ALL").returnOptions, [
    "MIN",
    "MAX",
    "ALL",
    "COUNT",
    "SAVE",
  ]);
  const uid = search(`A303 UID SEARCH OR $ 1,3000:3021 TEXT ${literal("hello")}`); // RFC 5182 §4
  assertEquals(uid.uid, true);
  assertEquals(uid.search, {
    key: "AND",
    operands: [
      {
        key: "OR",
        left: { key: "SEQ", set: { kind: "saved" } },
        right: { key: "SEQ", set: set(1, [3000, 3021]) },
      },
      { key: "TEXT", value: "hello" },
    ],
  });
  assertEquals(search('a SEARCH CHARSET "us-ascii" ALL').charset, "US-ASCII");
  assertEquals(search('a SEARCH CHARSET "u\u017f-ascii" ALL').charset, "U\u017f-ASCII");
  // An unknown charset is the server's to refuse (NO [BADCHARSET]); its strings parse loosely.
  const latin1 = search(
    bytes("a SEARCH CHARSET ISO-8859-1 SUBJECT {3}\r\n", new Uint8Array([0x66, 0xfc, 0x72])),
  );
  assertEquals([latin1.charset, latin1.search], ["ISO-8859-1", {
    key: "SUBJECT",
    value: "f\ufffdr",
  }]);
  assertEquals(
    refusal(bytes("a SEARCH CHARSET UTF-8 SUBJECT {1}\r\n", new Uint8Array([0xfc]))).text,
    "The search string is not valid UTF-8",
  );
  assertEquals(refusal(bytes("a SEARCH SUBJECT {1}\r\n", new Uint8Array([0xfc]))).tag, "a");
});

Deno.test("SEARCH: nesting is bounded", () => {
  const nested = (n: number) => `a SEARCH ${"(".repeat(n)}ALL${")".repeat(n)}`;
  assertEquals(search(nested(MAX_SEARCH_DEPTH - 1)).search, { key: "ALL" });
  for (
    const input of [nested(MAX_SEARCH_DEPTH), nested(10_000), `a SEARCH ${"(".repeat(10_000)}`]
  ) {
    const error = refusal(input);
    assertEquals([error.tag, error.text, error.code], [
      "a",
      "The search keys are nested too deeply",
      "TOOBIG",
    ]);
  }
  assertEquals(refusal(`a SEARCH ${"NOT ".repeat(10_000)}ALL`).code, "TOOBIG");
  assertEquals(refusal(`a SEARCH ${"OR ".repeat(10_000)}ALL`).code, "TOOBIG");
  assertEquals(refusal(`a SEARCH ${"OR ALL ".repeat(10_000)}ALL`).code, "TOOBIG");
  // Wide is fine: a flat list of many keys does not nest.
  const wide = search(`a SEARCH ${"SEEN ".repeat(50_000)}ALL`).search;
  assert(wide.key === "AND" && wide.operands.length === 50_001);
});

Deno.test("SEARCH: refusals", () => {
  assertRefused([
    ["a SEARCH", "Missing search keys"],
    ["a SEARCH ", "Missing search keys"],
    ["a SEARCH FOO", 'Unknown search key "FOO"'],
    ["a SEARCH FROM", "Missing argument of FROM"],
    ["a SEARCH OR SEEN", "Missing second key of OR"],
    ["a SEARCH NOT", "Missing argument of NOT"],
    ["a SEARCH (SEEN", '")" to close the search key group'],
    ["a SEARCH SEEN)", "Unexpected"],
    ["a SEARCH ()", "The search key group is empty"],
    ["a SEARCH ( SEEN)", "Expected search key"],
    ["a SEARCH SEEN  FLAGGED", "Expected search key"],
    ["a SEARCH RETURN (FOO) ALL", 'Unknown search return option "FOO"'],
    ["a SEARCH RETURN ALL", '"(" to open the return options'],
    ["a SEARCH RETURN (MIN)", "Missing search keys"],
    ["a SEARCH CHARSET", "Missing charset"],
    ["a SEARCH CHARSET UTF-8", "Missing search keys"],
    ["a SEARCH CHARSET (UTF-8) ALL", "Expected charset"],
    ["a SEARCH KEYWORD \\Seen", 'without "\\"'],
    ["a SEARCH KEYWORD", "Missing argument of KEYWORD"],
    ["a SEARCH LARGER -1", "size as a number"],
    ["a SEARCH LARGER 99999999999999999999", "too large"],
    ["a SEARCH SINCE 1-Feb-26", "Invalid date"],
    ["a SEARCH SINCE 30-Feb-2026", "Invalid date"],
    ["a SEARCH SINCE {10}\r\n1-Feb-2026", "Invalid date"],
    ["a SEARCH UID 0", 'Invalid UID set "0"'],
    ["a SEARCH 1:", "Invalid sequence set"],
    ["a SEARCH 1,,2", "Invalid sequence set"],
    ["a SEARCH 4294967296", "Invalid sequence set"],
    ["a SEARCH HEADER", "Missing argument of HEADER"],
    ["a SEARCH HEADER Subject", "Missing search string"],
    ['a SEARCH HEADER "Sub ject" x', "Invalid header field name"],
    ['a SEARCH HEADER "" x', "Invalid header field name"],
    ['a SEARCH MODSEQ "/notflags/x" all 1', "Invalid MODSEQ entry name"],
    ['a SEARCH MODSEQ "/flags/\\\\draft" any 1', "Expected priv, shared or all"],
    ['a SEARCH MODSEQ "/flags/\\\\draft" all', "Missing mod-sequence"],
    ["a SEARCH MODSEQ 9223372036854775808", "too large"],
    ['a SEARCH SUBJECT "a\x01"', "Control character in a quoted string"],
  ]);
});
