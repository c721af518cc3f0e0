/**
 * IMAP's dates (RFC 9051 §9): `date` of SEARCH (`1-Feb-2026`, optionally quoted) and
 * `date-time` of APPEND and INTERNALDATE (`"01-Feb-2026 13:45:00 +0100"`). Pure: no clock.
 *
 * @module
 */

/** A calendar date without time or zone, as SEARCH BEFORE/ON/SINCE use it (RFC 9051 §6.4.4). */
export interface SearchDate {
  readonly year: number;
  /** 1 to 12. */
  readonly month: number;
  /** 1 to 31, valid for the month. */
  readonly day: number;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

// RFC 9051 §9: date-text = date-day "-" date-month "-" date-year; date-day = 1*2DIGIT;
// date-month = "Jan" / ... / "Dec" (ABNF strings are case-insensitive); date-year = 4DIGIT
const DATE = /^([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})$/;

// RFC 9051 §9: date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP
// zone DQUOTE; date-day-fixed = (SP DIGIT) / 2DIGIT; time = 2DIGIT ":" 2DIGIT ":" 2DIGIT;
// zone = ("+" / "-") 4DIGIT. Leniency: a one-digit day without its space.
const DATE_TIME =
  /^ ?([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function calendar(dayText: string, monthText: string, yearText: string): SearchDate | null {
  const month = MONTHS.indexOf(monthText.toUpperCase()) + 1;
  const year = Number(yearText);
  const day = Number(dayText);
  if (month === 0 || day < 1 || day > daysIn(year, month)) return null;
  return { year, month, day };
}

/**
 * Parses `date-text` (without quotes); null when it is not one or names no real day.
 *
 * @example
 * ```ts
 * parseSearchDate("1-Feb-2026"); // { year: 2026, month: 2, day: 1 }
 * parseSearchDate("30-Feb-2026"); // null
 * ```
 */
export function parseSearchDate(text: string): SearchDate | null {
  const match = DATE.exec(text);
  return match === null ? null : calendar(match[1]!, match[2]!, match[3]!);
}

/**
 * Parses `date-time` (without quotes) to the instant it names; null when it is not one or
 * names no real time (hour 24, minute 60, 31-Apr). A leap second (`:60`) counts as `:59`.
 *
 * @example
 * ```ts
 * parseDateTime("17-Jul-1996 02:44:25 -0700")?.toISOString(); // "1996-07-17T09:44:25.000Z"
 * ```
 */
export function parseDateTime(text: string): Date | null {
  const match = DATE_TIME.exec(text);
  if (match === null) return null;
  const date = calendar(match[1]!, match[2]!, match[3]!);
  const [hour, minute, second, zoneHours, zoneMinutes] = [4, 5, 6, 8, 9].map((i) =>
    Number(match[i])
  ) as [number, number, number, number, number];
  if (date === null || hour > 23 || minute > 59 || second > 60 || zoneMinutes > 59) return null;
  const offset = (match[7] === "-" ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  const instant = new Date(0);
  instant.setUTCFullYear(date.year, date.month - 1, date.day);
  instant.setUTCHours(hour, minute - offset, Math.min(second, 59), 0);
  return instant;
}
