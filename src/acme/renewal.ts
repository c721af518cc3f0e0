/**
 * The renewal loop the server runs: every `intervalMs` (15 minutes), {@link Acme.renewDue} at
 * the clock's time. Every node may run it; the advisory lock lets one renew at a time, and the
 * others find nothing due afterwards. Clock and timers are parameters, so tests drive it
 * without waiting.
 *
 * Runs never overlap: the next is scheduled when the previous has finished. A run that fails
 * as a whole (database unreachable) is logged and retried at the next interval; failures of
 * single certificates are handled by `renewDue` (backoff, event).
 *
 * @module
 */

import type { Logger } from "../ops/log.ts";
import type { Acme, RenewalReport } from "./issuer.ts";

/** The timer functions the loop uses. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What {@link startRenewal} takes. */
export interface RenewalLoopOptions {
  readonly acme: Pick<Acme, "renewDue">;
  readonly log: Logger;
  readonly clock?: () => Date;
  /** Between the end of one run and the start of the next; default 15 min. */
  readonly intervalMs?: number;
  /** Before the first run; default 1 min (start-up settles first). */
  readonly firstDelayMs?: number;
  readonly timers?: Timers;
  /** Called after every run that completed (tests, metrics). */
  readonly onRun?: (report: RenewalReport) => void;
}

/** A running renewal loop. */
export interface RenewalLoop {
  /** Stops scheduling and waits for a run in progress to end. */
  stop(): Promise<void>;
}

/** Default interval between renewal checks. */
export const RENEWAL_INTERVAL_MS = 15 * 60 * 1000;

/** Starts the renewal loop. */
export function startRenewal(options: RenewalLoopOptions): RenewalLoop {
  const timers: Timers = options.timers ??
    {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (handle) => clearTimeout(handle as number),
    };
  const clock = options.clock ?? (() => new Date());
  const interval = options.intervalMs ?? RENEWAL_INTERVAL_MS;
  let timer: unknown = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  const run = async () => {
    try {
      const report = await options.acme.renewDue(clock());
      if (report.locked) options.log.debug("ACME renewal skipped: another node is renewing");
      options.onRun?.(report);
    } catch (error) {
      // The loop's one catch: the next interval tries again.
      options.log.warn("ACME renewal check failed", { event: "acme_renewal_check_failed", error });
    }
  };
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = timers.setTimeout(() => {
      timer = null;
      running = run().finally(() => {
        running = null;
        schedule(interval);
      });
    }, ms);
  };
  schedule(options.firstDelayMs ?? 60_000);

  return {
    stop: async () => {
      stopped = true;
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}
