import { assertEquals } from "../../../tests/assert.ts";
import { parseCommand, type SortCriterion } from "../proto/mod.ts";
import { describe } from "../../store/messages.ts";
import {
  baseSubject,
  compareCodePoints,
  type SortItem,
  sortItems,
  sortResponse,
  sortValue,
} from "./sort.ts";

Deno.test("baseSubject: RFC 5256 §2.1 prefixes, trailers, blobs and [fwd: ]", () => {
  const cases: [string, string, boolean][] = [
    ["Hello", "Hello", false],
    ["Re: Hello", "Hello", true],
    ["RE:Hello", "Hello", true],
    ["re : Hello", "Hello", true], // *WSP before ":"
    ["Fw: Hello", "Hello", true],
    ["FWD: Hello", "Hello", true],
    ["Re: Re: Fwd: Hello", "Hello", true],
    ["Re[2]: Hello", "Hello", true], // subj-blob inside subj-refwd
    ["[list] Re: Hello", "Hello", true], // subj-blob before subj-refwd
    ["Re: [list] Hello", "Hello", true], // step 4: blob removed, "Hello" remains
    ["[list] Hello", "Hello", false],
    ["[list]", "[list]", false], // step 4: nothing would remain
    ["Re: [list]", "[list]", true],
    ["Hello (fwd)", "Hello", true],
    ["Hello (FWD) (fwd)  ", "Hello", true],
    ["[fwd: Hello]", "Hello", true],
    ["[Fwd: Re: Hello (fwd)]", "Hello", true],
    ["Re: [fwd: [list] Hello]", "Hello", true],
    ["  Hello \t  world  ", "Hello world", false], // whitespace collapsed
    ["Hello\r\n world", "Hello world", false],
    ["Reply needed", "Reply needed", false], // "re" not followed by ":"
    ["Fwdx: Hello", "Fwdx: Hello", false],
    ["Re:", "", true],
    ["", "", false],
    ["Ré: Café", "Ré: Café", false], // only ASCII "re"
    ["[a] [b] Re: x", "x", true],
  ];
  for (const [subject, base, reply] of cases) {
    assertEquals(baseSubject(subject), { base, replyOrForward: reply }, subject);
  }
});

Deno.test("baseSubject: RFC 2047 words are decoded before extraction (summary subject)", () => {
  const cache = describe(
    new TextEncoder().encode("Subject: =?utf-8?q?Re=3A_Caf=C3=A9?= (fwd)\r\n\r\n"),
  );
  assertEquals(baseSubject(cache.summary.subject), { base: "Café", replyOrForward: true });
});

Deno.test("compareCodePoints: UTF-8 octet order, astral after U+FFFF", () => {
  assertEquals(compareCodePoints("a", "b") < 0, true);
  assertEquals(compareCodePoints("ab", "a") > 0, true);
  assertEquals(compareCodePoints("\uffff", "😀") < 0, true);
  assertEquals(compareCodePoints("\ue000", "😀") < 0, true);
  assertEquals(compareCodePoints("z", "é") < 0, true);
  assertEquals(compareCodePoints("x", "x"), 0);
});

let nextSeq = 1;

function item(
  head: string,
  options: { size?: number; arrival?: string; seq?: number } = {},
): SortItem {
  const seq = options.seq ?? nextSeq++;
  return {
    seq,
    info: {
      uid: seq * 10,
      messageId: seq,
      flags: [],
      modseq: 1,
      size: options.size ?? 100,
      internalDate: new Date(options.arrival ?? "2026-11-01T00:00:00Z"),
    },
    cache: describe(new TextEncoder().encode(head.replace(/\n/g, "\r\n") + "\r\n\r\n")),
  };
}

function order(items: SortItem[], criteria: string): number[] {
  const parsed = parseCommand(new TextEncoder().encode(`a SORT (${criteria}) UTF-8 ALL`));
  if (parsed.command.name !== "SORT") throw new Error("Not a SORT");
  const sort: readonly SortCriterion[] = parsed.command.sort;
  return sortItems(items, sort).map((m) => m.seq);
}

Deno.test("sortItems: each key, REVERSE, and ties by sequence number", () => {
  nextSeq = 1;
  const items = [
    // 1
    item(
      'Subject: Re: banana\nFrom: "Zed" <Bob@example.org>\nTo: carol@x.example\n' +
        "Date: Mon, 2 Nov 2026 10:00:00 +0000",
      { size: 300, arrival: "2026-11-05T00:00:00Z" },
    ),
    // 2: no Date header: DATE falls back to the internal date
    item("Subject: apple\nFrom: alice@example.org\nTo: Ann <zoe@x.example>\nCc: x@y.example", {
      size: 100,
      arrival: "2026-11-03T00:00:00Z",
    }),
    // 3
    item(
      "Subject: [list] Banana\nFrom: =?utf-8?q?=C3=84rger?= <carl@example.org>\n" +
        "Date: Sun, 1 Nov 2026 09:00:00 -0500",
      { size: 200, arrival: "2026-11-04T00:00:00Z" },
    ),
    // 4: no From, no To, no Subject
    item("Date: Sun, 1 Nov 2026 13:00:00 +0000", { size: 100, arrival: "2026-11-01T00:00:00Z" }),
  ];
  assertEquals(order(items, "ARRIVAL"), [4, 2, 3, 1]);
  assertEquals(order(items, "REVERSE ARRIVAL"), [1, 3, 2, 4]);
  // 3's date is 14:00Z, after 4's 13:00Z; 2 has the internal date (3 Nov).
  assertEquals(order(items, "DATE"), [4, 3, 1, 2]);
  assertEquals(order(items, "REVERSE DATE"), [2, 1, 3, 4]);
  // Equal sizes keep mailbox order, also reversed.
  assertEquals(order(items, "SIZE"), [2, 4, 3, 1]);
  assertEquals(order(items, "REVERSE SIZE"), [1, 3, 2, 4]);
  // Base subjects "", "apple", "BANANA" (1 and 3 tie: mailbox order).
  assertEquals(order(items, "SUBJECT"), [4, 2, 1, 3]);
  assertEquals(order(items, "SUBJECT REVERSE ARRIVAL"), [4, 2, 1, 3]);
  assertEquals(order(items, "SUBJECT ARRIVAL"), [4, 2, 3, 1]);
  assertEquals(order(items, "REVERSE SUBJECT"), [1, 3, 2, 4]);
  // FROM is the local part: "" < alice < Bob < carl (case-insensitive).
  assertEquals(order(items, "FROM"), [4, 2, 1, 3]);
  // DISPLAYFROM is the display name, else the address: "" < alice@… < Zed < Ärger.
  assertEquals(order(items, "DISPLAYFROM"), [4, 2, 1, 3]);
  assertEquals(sortValue(items[2]!, "DISPLAYFROM"), "ÄRGER");
  assertEquals(order(items, "TO"), [3, 4, 1, 2]); // "", "", carol, zoe
  assertEquals(order(items, "DISPLAYTO"), [3, 4, 2, 1]); // "", "", Ann, carol@x.example
  assertEquals(order(items, "CC"), [1, 3, 4, 2]);
  assertEquals(order(items, "REVERSE CC SIZE"), [2, 4, 3, 1]);
});

Deno.test("sortValue: group markers are skipped; an empty group is no address", () => {
  nextSeq = 1;
  const a = item("From: Team: Dan <dan@x.example>, eve@x.example;");
  assertEquals(sortValue(a, "FROM"), "DAN");
  assertEquals(sortValue(a, "DISPLAYFROM"), "DAN");
  const b = item("To: undisclosed-recipients:;");
  assertEquals(sortValue(b, "TO"), "");
});

Deno.test("sortResponse: numbers, none, and MODSEQ", () => {
  assertEquals(sortResponse([2, 3, 1], null), "* SORT 2 3 1\r\n");
  assertEquals(sortResponse([], 7), "* SORT\r\n");
  assertEquals(sortResponse([5], 7), "* SORT 5 (MODSEQ 7)\r\n");
});
