import fc from "fast-check";
import {
  type AddressItem,
  decodedName,
  isGroupEnd,
  isGroupStart,
  MAX_ADDRESSES,
  parseAddressList,
} from "./address_list.ts";
import { assert, assertEquals } from "./_test_support.ts";

function a(name: string | null, mailbox: string, host: string): AddressItem {
  return { name, mailbox, host };
}
const start = (group: string): AddressItem => ({ name: null, mailbox: group, host: null });
const END: AddressItem = { name: null, mailbox: null, host: null };

const lists: [string, string, AddressItem[]][] = [
  ["bare addr-spec", "jdoe@example.org", [a(null, "jdoe", "example.org")]],
  ["name-addr", "John Doe <jdoe@machine.example>", [a("John Doe", "jdoe", "machine.example")]],
  [
    "quoted display name with comma",
    '"Joe Q. Public" <john.q.public@example.com>, "Doe, Jane" <j@x.org>',
    [
      a("Joe Q. Public", "john.q.public", "example.com"),
      a("Doe, Jane", "j", "x.org"),
    ],
  ],
  ["quoted-pair in display name", '"A \\"B\\" C" <abc@x>', [a('A "B" C', "abc", "x")]],
  ["obs-phrase with dot and extra spaces", "John   Q. Public <jqp@example.com>", [
    a("John Q. Public", "jqp", "example.com"),
  ]],
  ["comment as the name when there is no phrase", "eve@example.net (Eve Example)", [
    a("Eve Example", "eve", "example.net"),
  ]],
  ["phrase wins over a comment", "Eve <eve@x> (work)", [a("Eve", "eve", "x")]],
  ["RFC 5322 A.1.2 group", "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;", [
    start("A Group"),
    a("Ed Jones", "c", "a.test"),
    a(null, "joe", "where.test"),
    a("John", "jdoe", "one.test"),
    END,
  ]],
  ["empty group (RFC 5322 A.1.3)", "Undisclosed recipients:;", [
    start("Undisclosed recipients"),
    END,
  ]],
  ["group then address", "team: a@x, b@y; c@z", [
    start("team"),
    a(null, "a", "x"),
    a(null, "b", "y"),
    END,
    a(null, "c", "z"),
  ]],
  ["unterminated group is closed", "team: a@x, b@y", [
    start("team"),
    a(null, "a", "x"),
    a(null, "b", "y"),
    END,
  ]],
  [
    "RFC 5322 A.6.1 obsolete route and CFWS",
    "Joe Q. Public <@route1,@route2:john.q.public@example.com>",
    [
      a("Joe Q. Public", "john.q.public", "example.com"),
    ],
  ],
  [
    "RFC 5322 A.5 comments everywhere",
    "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
    [
      a("Pete", "pete", "silly.test"),
    ],
  ],
  ["RFC 5322 A.6.3 CFWS around dots", "John . Doe@ example . org", [
    a(null, "John.Doe", "example.org"),
  ]],
  ["quoted local part keeps its quotes", '"john doe"@example.com', [
    a(null, '"john doe"', "example.com"),
  ]],
  ["domain literal", "user@[192.0.2.1]", [a(null, "user", "[192.0.2.1]")]],
  ["encoded word kept raw in the name", "=?utf-8?q?J=C3=B6rg?= <j@x>", [
    a("=?utf-8?q?J=C3=B6rg?=", "j", "x"),
  ]],
  ["UTF-8 address (RFC 6532)", "Jörg <jörg@bücher.example>", [a("Jörg", "jörg", "bücher.example")]],
  ["missing domain", "<postmaster>", [a(null, "postmaster", "")]],
  ["empty angle address", "<>", [a(null, "", "")]],
  ["bare word", "undisclosed-recipients", [a(null, "undisclosed-recipients", "")]],
  ["name without brackets before addr-spec", "John Doe jdoe@x", [a("John Doe", "jdoe", "x")]],
  ["missing comma between angle addresses", "<a@x> <b@y>", [a(null, "a", "x")]],
  ["stray separators", ",, a@x ;, > b@y,", [a(null, "a", "x"), a(null, "b", "y")]],
  ["unterminated angle", "Ann <ann@x, Bob <bob@y>", [a("Ann", "ann", "x"), a("Bob", "bob", "y")]],
  ["unterminated quote: one bare word", '"Ann <ann@x>', [a(null, '"Ann <ann@x>', "")]],
  ["nested group: the inner colon is skipped", "g: h: a@x;", [start("g"), a("h", "a", "x"), END]],
  ["comment only", "(nobody)", []],
  ["empty", "", []],
];

Deno.test("parseAddressList parses the table", () => {
  for (const [name, input, expected] of lists) {
    assertEquals(parseAddressList(input), expected, name);
  }
});

Deno.test("folded lists parse as unfolded values", () => {
  const value =
    '"Doe, John" <john@example.net>,\r\n team: carol@example.net,\r\n\tdave@example.net;';
  assertEquals(parseAddressList(value), [
    a("Doe, John", "john", "example.net"),
    start("team"),
    a(null, "carol", "example.net"),
    a(null, "dave", "example.net"),
    END,
  ]);
});

Deno.test("decodedName decodes RFC 2047 words in display names", () => {
  const [first, second] = parseAddressList(
    '=?UTF-8?B?QWxpY2Ugw4lsw6hyZQ==?= <alice@x>, "=?iso-8859-1?q?Andr=E9?=" <andre@y>, z@z',
  );
  assertEquals(decodedName(first!), "Alice Élère");
  assertEquals(decodedName(second!), "André");
  assertEquals(decodedName(a(null, "z", "z")), null);
});

Deno.test("group markers are recognisable", () => {
  assert(isGroupStart(start("g")) && !isGroupEnd(start("g")));
  assert(isGroupEnd(END) && !isGroupStart(END));
  assert(!isGroupStart(a(null, "x", "")) && !isGroupEnd(a(null, "x", "")));
});

Deno.test("address lists are capped at MAX_ADDRESSES", () => {
  const value = Array.from({ length: MAX_ADDRESSES + 100 }, (_, i) => `u${i}@x`).join(", ");
  assertEquals(parseAddressList(value).length, MAX_ADDRESSES);
  const grouped = "g: " + value + ";";
  const items = parseAddressList(grouped);
  assertEquals(items.at(-1), END);
  assert(items.length <= MAX_ADDRESSES + 1);
});

Deno.test("parseAddressList never throws and groups balance (property)", () => {
  const piece = fc.oneof(
    fc.string({ maxLength: 5 }),
    fc.constantFrom(
      "<",
      ">",
      "@",
      ",",
      ";",
      ":",
      '"',
      "(",
      ")",
      "\\",
      "[",
      "]",
      " ",
      "a",
      "b.c",
      "=?utf-8?q?x?=",
    ),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
      let open = false;
      for (const item of parseAddressList(pieces.join(""))) {
        if (isGroupStart(item)) {
          assert(!open, "groups do not nest");
          open = true;
        } else if (isGroupEnd(item)) {
          assert(open, "an end marker closes a group");
          open = false;
        } else assert(item.mailbox !== null && item.host !== null);
        decodedName(item);
      }
      assert(!open, "every group is closed");
    }),
    { numRuns: 500 },
  );
});

Deno.test("hostile address lists stay linear", () => {
  const n = 20_000;
  for (
    const value of ["<@".repeat(n), "<@a,".repeat(n), "a:".repeat(n), '"'.repeat(n), "(".repeat(n)]
  ) {
    const t0 = performance.now();
    parseAddressList(value);
    assert(performance.now() - t0 < 1000, `too slow on ${value.slice(0, 8)}…`);
  }
});
