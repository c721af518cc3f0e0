import { assertEquals } from "../../../tests/assert.ts";
import { parseDateTime, parseSearchDate, type SearchDate } from "./_datetime.ts";

Deno.test("parseSearchDate reads d-Mon-yyyy and refuses days that do not exist", () => {
  const good: [string, SearchDate][] = [
    ["1-Feb-2026", { year: 2026, month: 2, day: 1 }],
    ["01-feb-2026", { year: 2026, month: 2, day: 1 }],
    ["31-DEC-1999", { year: 1999, month: 12, day: 31 }],
    ["29-Feb-2024", { year: 2024, month: 2, day: 29 }],
    ["29-Feb-2000", { year: 2000, month: 2, day: 29 }],
    ["5-MAR-2000", { year: 2000, month: 3, day: 5 }], // RFC 5256 example
  ];
  for (const [text, expected] of good) assertEquals(parseSearchDate(text), expected, text);
  const bad = [
    "",
    "29-Feb-2026",
    "29-Feb-1900",
    "31-Apr-2026",
    "0-Jan-2026",
    "32-Jan-2026",
    "001-Jan-2026",
    "1-Janu-2026",
    "1-Foo-2026",
    "1-Jan-26",
    "1-Jan-02026",
    "1 Jan 2026",
    "2026-01-01",
    " 1-Jan-2026",
  ];
  for (const text of bad) assertEquals(parseSearchDate(text), null, text);
});

Deno.test("parseDateTime reads RFC 9051 date-time to an instant", () => {
  const good: [string, string][] = [
    ["17-Jul-1996 02:44:25 -0700", "1996-07-17T09:44:25.000Z"],
    [" 7-Feb-1994 21:52:25 -0800", "1994-02-08T05:52:25.000Z"], // date-day-fixed with SP
    ["7-Feb-1994 21:52:25 -0800", "1994-02-08T05:52:25.000Z"], // leniency: no SP
    ["01-Jan-2026 00:00:00 +0000", "2026-01-01T00:00:00.000Z"],
    ["01-Jan-2026 00:30:00 +0130", "2025-12-31T23:00:00.000Z"],
    ["31-Dec-2025 23:59:60 +0000", "2025-12-31T23:59:59.000Z"], // leap second
    ["01-Jan-0050 12:00:00 +0000", "0050-01-01T12:00:00.000Z"], // no 1900s mapping
  ];
  for (const [text, iso] of good) assertEquals(parseDateTime(text)?.toISOString(), iso, text);
  const bad = [
    "",
    "17-Jul-1996 02:44:25",
    "17-Jul-1996 24:00:00 +0000",
    "17-Jul-1996 23:60:00 +0000",
    "17-Jul-1996 23:00:61 +0000",
    "17-Jul-1996 23:00:00 +0060",
    "17-Jul-1996 2:44:25 -0700",
    "31-Jun-1996 02:44:25 -0700",
    "17-Jul-1996  02:44:25 -0700",
    "17-Jul-1996 02:44:25 PST",
    "17-Jul-1996 02:44:25 0700",
    "  7-Feb-1994 21:52:25 -0800",
  ];
  for (const text of bad) assertEquals(parseDateTime(text), null, text);
});
