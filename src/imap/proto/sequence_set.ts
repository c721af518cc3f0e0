/**
 * Sequence sets (RFC 9051 §9 `sequence-set`): message sequence numbers or UIDs as a list of
 * numbers and ranges, where `*` is the largest number in use and `$` the result saved by
 * `SEARCH RETURN (SAVE)` (RFC 9051 §6.4.4.1, RFC 5182).
 *
 * Invariants:
 * - A parsed set keeps what the client wrote: ranges in their order, `5:2` as written, `*` as
 *   a marker. Numbers are 1 to 2^32-1 (`nz-number`, RFC 9051 §9).
 * - {@link resolveSequenceSet} costs O(k log k) in the number of ranges, whatever they span:
 *   `1:4294967295` is one interval, never four billion numbers. Only
 *   {@link expandSequenceSet} enumerates, and only up to the `max` it is given.
 *
 * @module
 */

/** A number of a set, or `*`: the largest number in use (RFC 9051 §9 `seq-number`). */
export type SeqNumber = number | "*";

/** One element of a set: a number (`from` and `to` equal) or a range, in the written order. */
export interface SequenceRange {
  readonly from: SeqNumber;
  readonly to: SeqNumber;
}

/** A parsed sequence set: `$` (the saved search result) or numbers and ranges. */
export type SequenceSet =
  | { readonly kind: "saved" }
  | { readonly kind: "ranges"; readonly ranges: readonly SequenceRange[] };

/** An inclusive interval `[first, last]` with `first <= last`. */
export type Interval = readonly [first: number, last: number];

/** The largest message sequence number or UID (RFC 9051 §9 `nz-number`: 2^32-1). */
export const MAX_SEQ_NUMBER = 0xffff_ffff;

// RFC 9051 §9: seq-number = nz-number / "*"; nz-number = digit-nz *DIGIT
const SEQ_NUMBER = /^(?:[1-9][0-9]{0,9}|\*)$/;

function seqNumber(text: string): SeqNumber | null {
  if (!SEQ_NUMBER.test(text)) return null;
  if (text === "*") return "*";
  const value = Number(text);
  return value <= MAX_SEQ_NUMBER ? value : null;
}

/**
 * Parses a sequence set; null when it is not one (`0`, `1:`, `,`, `1,,2`, `01`, numbers over
 * 2^32-1, `$` combined with anything).
 *
 * @example
 * ```ts
 * parseSequenceSet("1:3,7,9:*");
 * // { kind: "ranges", ranges: [{ from: 1, to: 3 }, { from: 7, to: 7 }, { from: 9, to: "*" }] }
 * parseSequenceSet("$"); // { kind: "saved" }
 * ```
 */
export function parseSequenceSet(text: string): SequenceSet | null {
  // RFC 9051 §9: sequence-set =/ seq-last-command; seq-last-command = "$" (alone)
  if (text === "$") return { kind: "saved" };
  if (text === "") return null;
  const ranges: SequenceRange[] = [];
  // RFC 9051 §9: sequence-set = (seq-number / seq-range) ["," sequence-set]
  for (const element of text.split(",")) {
    const colon = element.indexOf(":");
    if (colon < 0) {
      const value = seqNumber(element);
      if (value === null) return null;
      ranges.push({ from: value, to: value });
      continue;
    }
    // seq-range = seq-number ":" seq-number
    const from = seqNumber(element.slice(0, colon));
    const to = seqNumber(element.slice(colon + 1));
    if (from === null || to === null) return null;
    ranges.push({ from, to });
  }
  return { kind: "ranges", ranges };
}

/** Writes a set in the syntax {@link parseSequenceSet} reads: `parse(format(s))` equals `s`. */
export function formatSequenceSet(set: SequenceSet): string {
  if (set.kind === "saved") return "$";
  return set.ranges.map(({ from, to }) => from === to ? `${from}` : `${from}:${to}`).join(",");
}

/** True when the set uses `*` (RFC 7162 §3.2.5.2 forbids it in QRESYNC's known UIDs). */
export function usesStar(set: SequenceSet): boolean {
  return set.kind === "ranges" && set.ranges.some((r) => r.from === "*" || r.to === "*");
}

/**
 * Turns a set into sorted, disjoint, non-adjacent intervals within `[1, max]`, where `*` is
 * `max` (RFC 9051 §9: "the largest number in use"). A range may be written in either order
 * (`5:2` is `2:5`), so `n:*` with n above `max` still includes `max` (RFC 9051 §6.4.8).
 * `$` is `saved`, the intervals of the saved result (empty when there is none, RFC 5182 §2.1),
 * clamped in the same way.
 *
 * `max` is the message count for sequence numbers and the largest UID in use for UIDs (or
 * UIDNEXT-1 when the caller needs UIDs that no longer exist, as for QRESYNC). The cost is
 * O(k log k) for k ranges, independent of how many numbers they span; intersect the result
 * with the UIDs that exist rather than enumerating it.
 *
 * @example
 * ```ts
 * resolveSequenceSet(parseSequenceSet("7,5:2,9:*")!, 8); // [[2, 5], [7, 8]]
 * resolveSequenceSet(parseSequenceSet("1:4294967295")!, 10); // [[1, 10]]
 * ```
 */
export function resolveSequenceSet(
  set: SequenceSet,
  max: number,
  saved: readonly Interval[] = [],
): Interval[] {
  const raw: Interval[] = [];
  if (set.kind === "saved") {
    for (const [a, b] of saved) raw.push([Math.min(a, b), Math.max(a, b)]);
  } else {
    for (const { from, to } of set.ranges) {
      const a = from === "*" ? max : from;
      const b = to === "*" ? max : to;
      raw.push([Math.min(a, b), Math.max(a, b)]);
    }
  }
  return normalizeIntervals(raw, max);
}

/** Sorts, merges and clamps intervals to `[1, max]`. O(k log k). */
function normalizeIntervals(raw: Interval[], max: number): Interval[] {
  const clamped: [number, number][] = [];
  for (const [a, b] of raw) {
    const first = Math.max(a, 1);
    const last = Math.min(b, max);
    if (first <= last) clamped.push([first, last]);
  }
  clamped.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const interval of clamped) {
    const previous = out[out.length - 1];
    if (previous !== undefined && interval[0] <= previous[1] + 1) {
      previous[1] = Math.max(previous[1], interval[1]);
    } else {
      out.push(interval);
    }
  }
  return out;
}

/**
 * The numbers of a set, ascending and unique, within `[1, max]`: O(k log k + result). Meant
 * for message sequence numbers, where `max` is the message count; for UIDs, where `max` may be
 * in the billions, use {@link resolveSequenceSet} and intersect.
 *
 * @example
 * ```ts
 * expandSequenceSet(parseSequenceSet("4,2:3,*")!, 6); // [2, 3, 4, 6]
 * ```
 */
export function expandSequenceSet(
  set: SequenceSet,
  max: number,
  saved: readonly Interval[] = [],
): number[] {
  const out: number[] = [];
  for (const [first, last] of resolveSequenceSet(set, max, saved)) {
    for (let n = first; n <= last; n++) out.push(n);
  }
  return out;
}

/** Whether `value` lies in sorted disjoint `intervals` (as from {@link resolveSequenceSet}). */
export function intervalsInclude(intervals: readonly Interval[], value: number): boolean {
  let low = 0;
  let high = intervals.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const [first, last] = intervals[middle]!;
    if (value < first) high = middle - 1;
    else if (value > last) low = middle + 1;
    else return true;
  }
  return false;
}

/**
 * The most compact set of the given numbers (any order, duplicates allowed), as used in
 * COPYUID, APPENDUID and ESEARCH ALL: `[1, 2, 3, 7]` gives `1:3,7`. Numbers outside
 * 1..2^32-1 are left out; null when none is left, as no sequence set is empty.
 *
 * @example
 * ```ts
 * formatSequenceSet(sequenceSetFromNumbers([7, 1, 3, 2])!); // "1:3,7"
 * ```
 */
export function sequenceSetFromNumbers(numbers: Iterable<number>): SequenceSet | null {
  const raw: Interval[] = [];
  for (const n of numbers) raw.push([n, n]);
  const intervals = normalizeIntervals(raw, MAX_SEQ_NUMBER);
  if (intervals.length === 0) return null;
  return { kind: "ranges", ranges: intervals.map(([from, to]) => ({ from, to })) };
}
