/**
 * When to try a temporarily failed recipient again (RFC 5321 §4.5.4.1): the first retry after
 * `retryFirst`, each later one after twice the wait before, never more than `retryMax`, and
 * no retry once `giveUpAfter` has passed since the message was queued: then it fails for good.
 *
 * @module
 */

/** The schedule's settings, in milliseconds. */
export interface RetrySchedule {
  readonly retryFirst: number;
  readonly retryMax: number;
  readonly giveUpAfter: number;
}

/**
 * The next attempt after `attempts` failed ones (this one included), or null when the
 * message has waited long enough and the recipient fails.
 *
 * @example
 * ```ts
 * const s = { retryFirst: 300_000, retryMax: 14_400_000, giveUpAfter: 432_000_000 };
 * nextAttempt(s, 1, queuedAt, now); // now + 5 min
 * nextAttempt(s, 3, queuedAt, now); // now + 20 min
 * ```
 */
export function nextAttempt(
  schedule: RetrySchedule,
  attempts: number,
  queuedAt: Date,
  now: Date,
): Date | null {
  const deadline = queuedAt.getTime() + schedule.giveUpAfter;
  if (now.getTime() >= deadline) return null;
  const wait = Math.min(schedule.retryMax, schedule.retryFirst * 2 ** Math.max(0, attempts - 1));
  // The last try falls on the deadline, not past it.
  return new Date(Math.min(now.getTime() + wait, deadline));
}
