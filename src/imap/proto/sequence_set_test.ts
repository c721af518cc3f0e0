import fc from "fast-check";
import { assertEquals } from "../../../tests/assert.ts";
import {
  expandSequenceSet,
  formatSequenceSet,
  type Interval,
  intervalsInclude,
  parseSequenceSet,
  resolveSequenceSet,
  type SequenceSet,
  sequenceSetFromNumbers,
  usesStar,
} from "./sequence_set.ts";
import { set } from "./_parse_test_support.ts";

Deno.test("parseSequenceSet reads numbers, ranges, * and $", () => {
  const cases: [string, SequenceSet][] = [
    ["1", set(1)],
    ["*", set("*")],
    ["1:*", set([1, "*"])],
    ["*:1", set(["*", 1])],
    ["*:*", set(["*", "*"])],
    ["5:2", set([5, 2])], // kept as written; resolve normalises
    ["2,4:7,9,12:*", set(2, [4, 7], 9, [12, "*"])],
    ["41,43:211,214:541", set(41, [43, 211], [214, 541])], // RFC 7162 §3.2.5.2
    ["4294967295", set(4294967295)],
    ["1:4294967295", set([1, 4294967295])],
    ["3,3,3", set(3, 3, 3)],
    ["$", { kind: "saved" }], // RFC 9051 §9 seq-last-command
  ];
  for (const [text, expected] of cases) assertEquals(parseSequenceSet(text), expected, text);
});

Deno.test("parseSequenceSet refuses what is not a sequence set", () => {
  const bad = [
    "",
    "0",
    "0:5",
    "5:0",
    "01", // nz-number has no leading zero
    "1:",
    ":1",
    "1::2",
    "1:2:3",
    ",",
    "1,",
    ",1",
    "1,,2",
    "4294967296",
    "1:4294967296",
    "99999999999",
    "-1",
    "+1",
    "1.5",
    "a",
    "1 2",
    "1:*x",
    "**",
    "$,1", // "$" stands alone
    "1,$",
    "$:1",
    "$$",
    "١", // Arabic-Indic digit one
  ];
  for (const text of bad) assertEquals(parseSequenceSet(text), null, text);
});

Deno.test("formatSequenceSet writes what parseSequenceSet reads", () => {
  assertEquals(formatSequenceSet(set(2, [4, 7], ["*", 9], [3, 3])), "2,4:7,*:9,3");
  assertEquals(formatSequenceSet({ kind: "saved" }), "$");
  assertEquals(usesStar(set(1, [2, "*"])), true);
  assertEquals(usesStar(set(1, [2, 3])), false);
  assertEquals(usesStar({ kind: "saved" }), false);
});

Deno.test("resolveSequenceSet sorts, merges, clamps and puts max for *", () => {
  const cases: [string, number, Interval[]][] = [
    ["1:*", 10, [[1, 10]]],
    ["*", 10, [[10, 10]]],
    ["*", 0, []], // empty mailbox
    ["1:*", 0, []],
    ["5:2", 10, [[2, 5]]],
    ["7,5:2,9:*", 8, [[2, 5], [7, 8]]],
    ["20:*", 8, [[8, 8]]], // RFC 9051 §6.4.8: n:* with n > max still includes max
    ["1:4294967295", 10, [[1, 10]]],
    ["1:4294967295", 4294967295, [[1, 4294967295]]], // no allocation per number
    ["3,1,2", 10, [[1, 3]]], // adjacent numbers merge
    ["1:3,3:5,4", 10, [[1, 5]]],
    ["1,3,5", 10, [[1, 1], [3, 3], [5, 5]]],
    ["11:12", 10, []],
  ];
  for (const [text, max, expected] of cases) {
    assertEquals(resolveSequenceSet(parseSequenceSet(text)!, max), expected, `${text} ${max}`);
  }
  const saved: Interval[] = [[9, 7], [1, 2], [20, 30]];
  assertEquals(resolveSequenceSet({ kind: "saved" }, 25, saved), [[1, 2], [7, 9], [20, 25]]);
  assertEquals(resolveSequenceSet({ kind: "saved" }, 25), []); // RFC 5182 §2.1: nothing saved
});

Deno.test("expandSequenceSet and intervalsInclude", () => {
  assertEquals(expandSequenceSet(parseSequenceSet("4,2:3,*")!, 6), [2, 3, 4, 6]);
  assertEquals(expandSequenceSet(parseSequenceSet("1:4294967295")!, 3), [1, 2, 3]);
  assertEquals(expandSequenceSet({ kind: "saved" }, 9, [[3, 4]]), [3, 4]);
  const intervals: Interval[] = [[2, 5], [7, 7], [10, 4294967295]];
  const inside = [2, 3, 5, 7, 10, 4294967295];
  const outside = [0, 1, 6, 8, 9];
  for (const n of inside) assertEquals(intervalsInclude(intervals, n), true, `${n}`);
  for (const n of outside) assertEquals(intervalsInclude(intervals, n), false, `${n}`);
  assertEquals(intervalsInclude([], 1), false);
});

Deno.test("sequenceSetFromNumbers gives the most compact set", () => {
  assertEquals(formatSequenceSet(sequenceSetFromNumbers([7, 1, 3, 2])!), "1:3,7");
  assertEquals(formatSequenceSet(sequenceSetFromNumbers([5, 5, 5])!), "5");
  assertEquals(formatSequenceSet(sequenceSetFromNumbers([1, 2, 4, 5, 6, 9])!), "1:2,4:6,9");
  assertEquals(sequenceSetFromNumbers([]), null);
});

const seqNumber = fc.oneof(
  fc.integer({ min: 1, max: 0xffff_ffff }),
  fc.integer({ min: 1, max: 40 }),
  fc.constant("*" as const),
);
const sequenceSet: fc.Arbitrary<SequenceSet> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: "saved" as const }) },
  {
    weight: 9,
    arbitrary: fc.array(
      fc.oneof(
        seqNumber.map((n) => ({ from: n, to: n })),
        fc.tuple(seqNumber, seqNumber).map(([from, to]) => ({ from, to })),
      ),
      { minLength: 1, maxLength: 8 },
    ).map((ranges) => ({ kind: "ranges" as const, ranges })),
  },
);

Deno.test("parseSequenceSet(formatSequenceSet(s)) is s (property)", () => {
  fc.assert(
    fc.property(sequenceSet, (s) => {
      assertEquals(parseSequenceSet(formatSequenceSet(s)), s);
    }),
    { numRuns: 500 },
  );
});

Deno.test("resolveSequenceSet agrees with enumerating every number (property)", () => {
  const small = fc.array(
    fc.record({
      from: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constant("*" as const)),
      to: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constant("*" as const)),
    }),
    { minLength: 1, maxLength: 6 },
  );
  fc.assert(
    fc.property(small, fc.integer({ min: 0, max: 50 }), (ranges, max) => {
      const expected = new Set<number>();
      for (const { from, to } of ranges) {
        const a = from === "*" ? max : from;
        const b = to === "*" ? max : to;
        for (let n = Math.min(a, b); n <= Math.max(a, b); n++) {
          if (n >= 1 && n <= max) expected.add(n);
        }
      }
      const sorted = [...expected].sort((x, y) => x - y);
      const parsed: SequenceSet = { kind: "ranges", ranges };
      assertEquals(expandSequenceSet(parsed, max), sorted);
      const intervals = resolveSequenceSet(parsed, max);
      for (let n = 0; n <= max + 1; n++) {
        assertEquals(intervalsInclude(intervals, n), expected.has(n), `${n}`);
      }
      // Disjoint, sorted and not adjacent.
      for (let i = 1; i < intervals.length; i++) {
        assertEquals(intervals[i]![0] > intervals[i - 1]![1] + 1, true);
      }
      if (sorted.length > 0) {
        assertEquals(expandSequenceSet(sequenceSetFromNumbers(sorted)!, max), sorted);
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("parseSequenceSet never throws and keeps to 1..2^32-1 (property)", () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9:,*$]{0,20}$/), (text) => {
      const parsed = parseSequenceSet(text);
      if (parsed === null || parsed.kind === "saved") return;
      for (const { from, to } of parsed.ranges) {
        for (const n of [from, to]) {
          assertEquals(n === "*" || (Number.isInteger(n) && n >= 1 && n <= 0xffff_ffff), true);
        }
      }
      assertEquals(parseSequenceSet(formatSequenceSet(parsed)), parsed);
    }),
    { numRuns: 500 },
  );
});
