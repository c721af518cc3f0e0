import type { FetchCommand, FetchItem, FetchSection } from "./fetch_items.ts";
import { assertCommands, assertRefused, refusal, set } from "./_parse_test_support.ts";
import { assertEquals } from "../../../tests/assert.ts";

function fetch(items: FetchItem[], extra: Partial<FetchCommand> = {}): FetchCommand {
  return {
    name: "FETCH",
    uid: false,
    set: set(1),
    items,
    changedSince: null,
    vanished: false,
    ...extra,
  };
}
const section = (part: number[], text: FetchSection["text"] = null, fields: string[] = []) => ({
  part,
  text,
  fields,
});
const body = (
  spec: FetchSection,
  peek = false,
  partial: { offset: number; length: number } | null = null,
) => ({ item: "BODY[]", peek, section: spec, partial }) as const;

Deno.test("FETCH: macros, attributes, sections, partials (RFC 9051 §6.4.5)", () => {
  assertCommands([
    [
      "A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])",
      fetch([ // RFC 9051 §6.4.5
        { item: "FLAGS" },
        body(section([], "HEADER.FIELDS", ["DATE", "FROM"])),
      ], { set: set([2, 4]) }),
    ],
    [
      "A999 UID FETCH 4827313:4828442 FLAGS",
      fetch([{ item: "FLAGS" }], { uid: true, set: set([4827313, 4828442]) }),
    ], // §6.4.9
    [
      "a FETCH 1 ALL",
      fetch([{ item: "FLAGS" }, { item: "INTERNALDATE" }, { item: "RFC822.SIZE" }, {
        item: "ENVELOPE",
      }]),
    ],
    [
      "a FETCH 1 fast",
      fetch([{ item: "FLAGS" }, { item: "INTERNALDATE" }, { item: "RFC822.SIZE" }]),
    ],
    [
      "a FETCH 1 FULL",
      fetch([
        { item: "FLAGS" },
        { item: "INTERNALDATE" },
        { item: "RFC822.SIZE" },
        { item: "ENVELOPE" },
        { item: "BODY" },
      ]),
    ],
    [
      "a FETCH 1 (envelope flags internaldate rfc822 rfc822.header rfc822.size rfc822.text body bodystructure uid modseq)",
      fetch(
        ([
          "ENVELOPE",
          "FLAGS",
          "INTERNALDATE",
          "RFC822",
          "RFC822.HEADER",
          "RFC822.SIZE",
          "RFC822.TEXT",
          "BODY",
          "BODYSTRUCTURE",
          "UID",
          "MODSEQ",
        ] as const)
          .map((item) => ({ item })),
      ),
    ],
    ["a FETCH 1 BODY[]", fetch([body(section([]))])],
    [
      "a FETCH 1 BODY.PEEK[]<0.1024>",
      fetch([body(section([]), true, { offset: 0, length: 1024 })]),
    ],
    [
      "a FETCH 1 body.peek[text]<100.1>",
      fetch([body(section([], "TEXT"), true, { offset: 100, length: 1 })]),
    ],
    ["a FETCH 1 BODY[HEADER]", fetch([body(section([], "HEADER"))])],
    ["a FETCH 1 BODY[1]", fetch([body(section([1]))])],
    ["a FETCH 1 BODY[1.2.3]", fetch([body(section([1, 2, 3]))])],
    ["a FETCH 1 BODY[4.2.MIME]", fetch([body(section([4, 2], "MIME"))])],
    ["a FETCH 1 BODY[3.HEADER]", fetch([body(section([3], "HEADER"))])],
    ["a FETCH 1 BODY[3.TEXT]", fetch([body(section([3], "TEXT"))])],
    [
      "a FETCH 1 BODY.PEEK[2.HEADER.FIELDS.NOT (Received X-Spam)]",
      fetch([
        body(section([2], "HEADER.FIELDS.NOT", ["Received", "X-Spam"]), true),
      ]),
    ],
    [
      'a FETCH 1 BODY[HEADER.FIELDS ("Subject" {4}\r\nDate)]',
      fetch([body(section([], "HEADER.FIELDS", ["Subject", "Date"]))]),
    ],
    [
      "a FETCH 1 (BINARY[1] BINARY.SIZE[1])",
      fetch([ // RFC 3516 §4.2
        { item: "BINARY[]", peek: false, part: [1], partial: null },
        { item: "BINARY.SIZE", part: [1] },
      ]),
    ],
    [
      "a FETCH 1 (BINARY.PEEK[1.2]<0.100> BINARY[] BINARY.SIZE[])",
      fetch([
        { item: "BINARY[]", peek: true, part: [1, 2], partial: { offset: 0, length: 100 } },
        { item: "BINARY[]", peek: false, part: [], partial: null },
        { item: "BINARY.SIZE", part: [] },
      ]),
    ],
    [
      "a FETCH 1:* (UID BODY[]<9007199254740991.1>)",
      fetch([
        { item: "UID" },
        body(section([]), false, { offset: 9007199254740991, length: 1 }),
      ], { set: set([1, "*"]) }),
    ],
    [
      "a FETCH $ (UID INTERNALDATE)",
      fetch([{ item: "UID" }, { item: "INTERNALDATE" }], { set: { kind: "saved" } }),
    ], // RFC 5182 §2.4
  ]);
});

Deno.test("FETCH modifiers: CHANGEDSINCE and VANISHED (RFC 7162)", () => {
  assertCommands([
    [
      "s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345)",
      fetch([{ item: "FLAGS" }], { // RFC 7162 §3.1.4.1
        uid: true,
        set: set([300, 500]),
        changedSince: 12345n,
      }),
    ],
    [
      "s101 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)",
      fetch([{ item: "FLAGS" }], { // §3.2.6
        uid: true,
        set: set([300, 500]),
        changedSince: 12345n,
        vanished: true,
      }),
    ],
    [
      "a UID FETCH 1:* FLAGS (vanished changedsince 1)",
      fetch([{ item: "FLAGS" }], {
        uid: true,
        set: set([1, "*"]),
        changedSince: 1n,
        vanished: true,
      }),
    ],
    [
      "a FETCH 1 (MODSEQ) (CHANGEDSINCE 9223372036854775807)",
      fetch([{ item: "MODSEQ" }], { changedSince: 9223372036854775807n }),
    ],
  ]);
  assertRefused([
    ["a FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)", "VANISHED needs UID FETCH and CHANGEDSINCE"],
    ["a UID FETCH 1 (FLAGS) (VANISHED)", "VANISHED needs UID FETCH and CHANGEDSINCE"],
    ["a FETCH 1 (FLAGS) (CHANGEDSINCE 0)", "mod-sequence above zero"],
    ["a FETCH 1 (FLAGS) (CHANGEDSINCE 1 CHANGEDSINCE 2)", "Unknown or repeated FETCH modifier"],
    ["a FETCH 1 (FLAGS) (FOO)", "Unknown or repeated FETCH modifier"],
    ["a FETCH 1 (FLAGS) ()", "The FETCH modifiers is empty"],
    ["a FETCH 1 (FLAGS) CHANGEDSINCE 1", '"(" to open the FETCH modifiers'],
  ]);
  assertEquals(refusal("a UID FETCH 1 (FLAGS) (VANISHED)").code, "CLIENTBUG");
});

Deno.test("FETCH: refusals", () => {
  assertRefused([
    ["a FETCH", "Missing sequence set"],
    ["a FETCH 1", "Missing fetch attributes"],
    ["a FETCH 1 ()", "The fetch attributes is empty"],
    ["a FETCH 1 (FLAGS", '")" to close the fetch attributes'],
    ["a FETCH 1 (FLAGS ALL)", 'Unknown fetch attribute "ALL"'], // macros only alone
    ["a FETCH 1 (FLAGS) (UID)", 'Unknown or repeated FETCH modifier "UID"'],
    ["a FETCH 1 FOO", 'Unknown fetch attribute "FOO"'],
    ["a FETCH 1 RFC822.PEEK", "Unknown fetch attribute"],
    ["a FETCH 1 BODY.PEEK", 'Expected "["'],
    ["a FETCH 1 BINARY", 'Expected "["'],
    ["a FETCH 1 BINARY.SIZE", 'Expected "["'],
    ["a FETCH 1 BINARY.SIZE[1]<0.1>", "Unexpected"],
    ["a FETCH 1 BODY[", "Expected section text"],
    ["a FETCH 1 BODY[1", '"]" to close the section'],
    ["a FETCH 1 BODY[0]", "part number above zero"],
    ["a FETCH 1 BODY[1.0]", "part number above zero"],
    ["a FETCH 1 BODY[01]", "part number above zero"],
    ["a FETCH 1 BODY[1.]", "Expected section text"],
    ["a FETCH 1 BODY[.1]", "Unknown section"],
    ["a FETCH 1 BODY[MIME]", 'Unknown section "MIME"'], // MIME needs part numbers
    ["a FETCH 1 BODY[HEADERS]", "Unknown section"],
    ["a FETCH 1 BODY[1.2.HEADER.FIELDS]", "space before the header field names"],
    ["a FETCH 1 BODY[HEADER.FIELDS ()]", "The header field names is empty"],
    ["a FETCH 1 BODY[HEADER.FIELDS (a:b)]", "Invalid header field name"],
    ["a FETCH 1 BODY[HEADER.FIELDS (Subject]", '")" to close the header field names'],
    ["a FETCH 1 BODY[TEXT] x", '"(" to open the FETCH modifiers'],
    ["a FETCH 1 BINARY[TEXT]", '"]" to close the part numbers'],
    ["a FETCH 1 BODY[]<0>", '"." in the partial range'],
    ["a FETCH 1 BODY[]<0.0>", "partial length above zero"],
    ["a FETCH 1 BODY[]<.5>", "partial offset as a number"],
    ["a FETCH 1 BODY[]<1.5", '">" to close the partial range'],
    ["a FETCH 1 BODY[]<99999999999999999999.5>", "too large"],
    ["a FETCH 1 BODY[] <0.5>", 'Expected "(" to open the FETCH modifiers'],
    ["a FETCH 1 (BODY[]FLAGS)", '")" to close the fetch attributes'],
    ["a FETCH 1 (FLAGS  UID)", "Expected fetch attribute"],
    ["a FETCH 1 ((FLAGS))", "Expected fetch attribute"],
    [`a FETCH 1 ${"(".repeat(10_000)}FLAGS${")".repeat(10_000)}`, "Expected fetch attribute"],
    [`a FETCH 1 BODY[HEADER.FIELDS ${"(".repeat(10_000)}`, "Expected header field name"],
  ]);
});
