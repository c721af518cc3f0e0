import fc from "fast-check";
import { parseDate } from "./date.ts";
import { assertEquals } from "./_test_support.ts";

const utc = Date.UTC;

const dates: [string, number | null][] = [
  ["Tue, 2 Jan 2024 10:30:00 +0100", utc(2024, 0, 2, 9, 30)],
  ["2 Jan 2024 10:30:00 -0000", utc(2024, 0, 2, 10, 30)],
  ["Fri, 21 Nov 1997 09:55:06 -0600", utc(1997, 10, 21, 15, 55, 6)], // RFC 5322 Appendix A.1.1
  ["Thu, 13 Feb 1969 23:32:54 -0330", utc(1969, 1, 14, 3, 2, 54)], // RFC 5322 Appendix A.1.2
  [
    "Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n               -0330 (Newfoundland Time)",
    utc(1969, 1, 14, 3, 2),
  ], // A.5
  ["21 Nov 97 09:55:06 GMT", utc(1997, 10, 21, 9, 55, 6)], // A.6.2, two-digit year
  ["1 Jan 05 00:00 EST", utc(2005, 0, 1, 5)],
  ["1 Jan 105 00:00 +0000", utc(2005, 0, 1)], // three-digit year: + 1900
  ["Mon, 1 Jan 2024 12:00:00 PDT", utc(2024, 0, 1, 19)],
  ["Mon, 1 Jan 2024 12:00:00 A", utc(2024, 0, 1, 12)], // military zone: -0000
  ["Mon, 1 Jan 2024 12:00:00", utc(2024, 0, 1, 12)], // no zone: UTC
  ["Mon, 1 January 2024 12:00:00 +0000", utc(2024, 0, 1, 12)],
  ["31 Dec 2016 23:59:60 +0000", utc(2016, 11, 31, 23, 59, 59)], // leap second
  ["29 Feb 2024 00:00 +0000", utc(2024, 1, 29)],
  ["(comment) Mon (x), 1 Jan 2024 (y) 12:00 +0000", utc(2024, 0, 1, 12)],
  ["29 Feb 2023 00:00 +0000", null],
  ["31 Apr 2024 00:00 +0000", null],
  ["1 Foo 2024 00:00 +0000", null],
  ["1 Jan 2024 24:00 +0000", null],
  ["2024-01-02T10:30:00Z", null],
  ["", null],
  ["yesterday", null],
];

Deno.test("parseDate parses the table", () => {
  for (const [input, expected] of dates) assertEquals(parseDate(input), expected, input);
});

Deno.test("parseDate never throws and gives a finite number or null (property)", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (s) => {
      const ms = parseDate(s);
      assertEquals(ms === null || Number.isFinite(ms), true);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(
      fc.date({ min: new Date(1970, 0, 1), max: new Date(2999, 0, 1), noInvalidDate: true }),
      (d) => {
        const text = d.toUTCString().replace("GMT", "+0000"); // "Tue, 02 Jan 2024 10:30:00 +0000"
        assertEquals(parseDate(text), Math.floor(d.getTime() / 1000) * 1000);
      },
    ),
    { numRuns: 300 },
  );
});
