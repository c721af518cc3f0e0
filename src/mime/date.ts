/**
 * The RFC 5322 §3.3 date-time, with the obsolete forms of §4.3 (two- and three-digit years,
 * alphabetic zones, optional seconds), parsed to epoch milliseconds. Pure: no clock.
 *
 * @module
 */

import { readComment } from "./_lex.ts";

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

// RFC 5322 §4.3 obs-zone, in minutes east of UTC. Other military letters mean -0000.
const ZONES = new Map<string, number>([
  ["ut", 0],
  ["gmt", 0],
  ["z", 0],
  ["edt", -4 * 60],
  ["est", -5 * 60],
  ["cdt", -5 * 60],
  ["cst", -6 * 60],
  ["mdt", -6 * 60],
  ["mst", -7 * 60],
  ["pdt", -7 * 60],
  ["pst", -8 * 60],
]);

// [day-of-week ","] day month year hour ":" minute [":" second] [zone]
const DATE_TIME =
  /^\s*(?:[A-Za-z]+\s*,?\s*)?(\d{1,2})[\s-]*([A-Za-z]{3,9})[\s-]*(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{1,2})(?:\s*:\s*(\d{1,2}))?\s*([+-]\d{4}|[A-Za-z]{1,5})?/;

function stripComments(value: string): string {
  if (!value.includes("(")) return value;
  let out = "";
  let i = 0;
  while (i < value.length) {
    const open = value.indexOf("(", i);
    if (open === -1) return out + value.slice(i);
    out += value.slice(i, open) + " ";
    i = readComment(value, open)[1];
  }
  return out;
}

function daysInMonth(year: number, month: number): number {
  if (month === 1) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month]!;
}

/**
 * Parses a Date header value to milliseconds since the epoch, or null when it is not a
 * date-time or names an impossible date. A missing zone counts as UTC.
 *
 * @example
 * ```ts
 * parseDate("Tue, 2 Jan 2024 10:00:00 +0100"); // Date.UTC(2024, 0, 2, 9)
 * ```
 */
export function parseDate(value: string): number | null {
  const m = DATE_TIME.exec(stripComments(value).slice(0, 200));
  if (m === null) return null;
  const day = Number(m[1]);
  const month = MONTHS.indexOf(m[2]!.slice(0, 3).toLowerCase());
  const digits = m[3]!;
  let year = Number(digits);
  // RFC 5322 §4.3: a two-digit year below 50 is 20xx, otherwise 19xx; three digits add 1900.
  if (digits.length === 2) year += year < 50 ? 2000 : 1900;
  else if (digits.length === 3) year += 1900;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Math.min(Number(m[6] ?? "0"), 59); // a leap second (60) is held at :59
  if (month < 0 || year < 1000 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59) return null;
  let offset = 0;
  const zone = m[7];
  if (zone !== undefined) {
    if (zone[0] === "+" || zone[0] === "-") {
      const hhmm = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5));
      offset = zone[0] === "-" ? -hhmm : hhmm; // RFC 5322 §3.3 zone: +hhmm east of UTC
    } else offset = ZONES.get(zone.toLowerCase()) ?? 0; // RFC 5322 §4.3: unknown zones are -0000
  }
  return Date.UTC(year, month, day, hour, minute, second) - offset * 60_000;
}
