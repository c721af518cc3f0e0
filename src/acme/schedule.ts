/**
 * When to renew: pure date arithmetic, the clock a parameter.
 *
 * - A certificate is due at two thirds of its lifetime (for Let's Encrypt's 90 days: 30 days
 *   before it expires), leaving a third of the lifetime for retries.
 * - After a failure the next attempt waits {@link backoffMs}: 10 minutes, doubling with each
 *   further failure, at most 12 hours — but {@link retryTime} keeps one attempt in the
 *   certificate's last hour, and retries every 10 minutes after that.
 *
 * @module
 */

/** Backoff after the first failure. */
export const BACKOFF_BASE_MS = 10 * 60 * 1000;
/** Longest wait between attempts. */
export const BACKOFF_MAX_MS = 12 * 3600 * 1000;

/** What a renewal decision needs to know about a certificate. */
export interface RenewalState {
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Set after a failure: not before then. */
  readonly nextAttemptAt: Date | null;
}

/** Two thirds into the lifetime `[notBefore, notAfter]`. */
export function renewalTime(notBefore: Date, notAfter: Date): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  return new Date(notBefore.getTime() + Math.floor((lifetime * 2) / 3));
}

/** When the next attempt is due: two thirds of the lifetime, or later while backing off. */
export function nextAttemptTime(state: RenewalState): Date {
  const due = renewalTime(state.notBefore, state.notAfter);
  return state.nextAttemptAt !== null && state.nextAttemptAt > due ? state.nextAttemptAt : due;
}

/** True when a renewal should be attempted at `now`. */
export function isDue(state: RenewalState, now: Date): boolean {
  return now.getTime() >= nextAttemptTime(state).getTime();
}

/** The wait after the `failures`-th consecutive failure (1-based). */
export function backoffMs(failures: number): number {
  if (failures < 1) return 0;
  // 2 ** 7 × 10 min > 12 h: stop doubling early, before any overflow.
  const doubled = BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 16);
  return Math.min(doubled, BACKOFF_MAX_MS);
}

/**
 * When to try again after the `failures`-th consecutive failure at `now`, for a certificate
 * ending at `notAfter`: after the backoff, but no later than an hour before the end (one more
 * attempt while it still serves), and never sooner than the base interval.
 */
export function retryTime(failures: number, now: Date, notAfter: Date): Date {
  const t = now.getTime();
  const lastChance = Math.max(t + BACKOFF_BASE_MS, notAfter.getTime() - 3600 * 1000);
  return new Date(Math.min(t + backoffMs(failures), lastChance));
}
