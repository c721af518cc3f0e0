import { assertEquals } from "../../tests/assert.ts";
import {
  BACKOFF_BASE_MS,
  BACKOFF_MAX_MS,
  backoffMs,
  isDue,
  nextAttemptTime,
  renewalTime,
  retryTime,
} from "./schedule.ts";

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const at = (iso: string) => new Date(iso);

Deno.test("renewal is due at two thirds of the lifetime", () => {
  const cases: [string, string, string][] = [
    // notBefore, notAfter, two thirds
    ["2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z", "2026-03-02T00:00:00.000Z"], // 90 days
    ["2026-01-01T00:00:00Z", "2026-01-07T00:00:00Z", "2026-01-05T00:00:00.000Z"], // 6 days
    ["2026-01-01T00:00:00Z", "2026-01-01T00:00:03Z", "2026-01-01T00:00:02.000Z"], // 3 s
  ];
  for (const [from, to, expected] of cases) {
    assertEquals(renewalTime(at(from), at(to)).toISOString(), expected, `${from} – ${to}`);
  }
  const state = {
    notBefore: at("2026-01-01T00:00:00Z"),
    notAfter: at("2026-04-01T00:00:00Z"),
    nextAttemptAt: null,
  };
  assertEquals(isDue(state, at("2026-03-01T23:59:59.999Z")), false);
  assertEquals(isDue(state, at("2026-03-02T00:00:00Z")), true);
  assertEquals(isDue(state, at("2026-05-01T00:00:00Z")), true, "expired: still renewed");
});

Deno.test("a backoff delays the next attempt, but never brings it before the due date", () => {
  const base = { notBefore: at("2026-01-01T00:00:00Z"), notAfter: at("2026-04-01T00:00:00Z") };
  const due = at("2026-03-02T00:00:00Z");
  const backingOff = { ...base, nextAttemptAt: at("2026-03-10T12:00:00Z") };
  assertEquals(nextAttemptTime(backingOff), backingOff.nextAttemptAt);
  assertEquals(isDue(backingOff, at("2026-03-10T11:59:59Z")), false);
  assertEquals(isDue(backingOff, at("2026-03-10T12:00:00Z")), true);
  // An attempt time before the due date (the certificate was renewed since) does not count.
  assertEquals(nextAttemptTime({ ...base, nextAttemptAt: at("2026-02-01T00:00:00Z") }), due);
});

Deno.test("backoff doubles from 10 minutes up to 12 hours", () => {
  assertEquals(backoffMs(0), 0);
  assertEquals(
    [1, 2, 3, 4, 5, 6, 7, 8, 50, 10_000].map(backoffMs),
    [
      10 * MINUTE,
      20 * MINUTE,
      40 * MINUTE,
      80 * MINUTE,
      160 * MINUTE,
      320 * MINUTE,
      640 * MINUTE,
      BACKOFF_MAX_MS,
      BACKOFF_MAX_MS,
      BACKOFF_MAX_MS,
    ],
  );
  assertEquals(BACKOFF_BASE_MS, 10 * MINUTE);
  assertEquals(BACKOFF_MAX_MS, 12 * HOUR);
});

Deno.test("retries keep one attempt in the last hour, then go on every 10 minutes", () => {
  const now = at("2026-03-02T00:00:00Z");
  const far = new Date(now.getTime() + 30 * DAY);
  assertEquals(retryTime(1, now, far).getTime(), now.getTime() + 10 * MINUTE);
  assertEquals(retryTime(9, now, far).getTime(), now.getTime() + 12 * HOUR);
  // Five hours left: a 12-hour backoff is cut to the last hour.
  const soon = new Date(now.getTime() + 5 * HOUR);
  assertEquals(retryTime(9, now, soon).getTime(), soon.getTime() - HOUR);
  assertEquals(retryTime(1, now, soon).getTime(), now.getTime() + 10 * MINUTE);
  // Inside the last hour, or expired: every 10 minutes.
  const ending = new Date(now.getTime() + 30 * MINUTE);
  assertEquals(retryTime(9, now, ending).getTime(), now.getTime() + 10 * MINUTE);
  const expired = new Date(now.getTime() - DAY);
  assertEquals(retryTime(9, now, expired).getTime(), now.getTime() + 10 * MINUTE);
});
