/**
 * Timed phases: run an operation `total` times with a number of concurrent workers, print
 * progress as it goes, and stop at a time budget instead of running on when a backend turns out
 * much slower than expected.
 *
 * @module
 */

import { watchStalls } from "./_stall.ts";

const HEARTBEAT_MS = 10_000;

/** What a phase did. */
export interface PhaseResult {
  readonly label: string;
  readonly workers: number;
  readonly planned: number;
  readonly done: number;
  /** Wall time of the phase. */
  readonly seconds: number;
  /** Why it stopped before `planned`, or null. */
  readonly cutShort: string | null;
  /** The longest the event loop could not run a timer during the phase, in ms. */
  readonly stallMs: number;
}

/** How to run a phase. */
export interface PhaseOptions {
  readonly label: string;
  readonly total: number;
  readonly workers: number;
  readonly budgetSeconds: number;
  /** A progress line every this many operations. */
  readonly progressEvery: number;
  readonly print: (line: string) => void;
}

/**
 * Runs `op(0)` … `op(total - 1)`, `workers` at a time. Workers stop taking new operations at
 * the first failure (which is rethrown once all have stopped) or when the budget is spent.
 */
export async function runPhase(
  options: PhaseOptions,
  op: (index: number) => Promise<void>,
): Promise<PhaseResult> {
  const { label, total, budgetSeconds, progressEvery, print } = options;
  const workers = Math.max(1, Math.min(options.workers, total));
  const stalls = watchStalls();
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  let next = 0;
  let done = 0;
  // Set from inside the workers; an object, so the compiler does not narrow them to null.
  const stop: { budget: boolean; failure: { error: unknown } | null } = {
    budget: false,
    failure: null,
  };
  let warned = false;
  let lastLine = start;
  const say = (line: string) => {
    lastLine = performance.now();
    print(line);
  };
  // A phase that stops making progress says so rather than sitting silent.
  const watchdog = setInterval(() => {
    if (performance.now() - lastLine < HEARTBEAT_MS) return;
    say(
      `  ${label}: ${count(done)} / ${count(total)} after ${elapsed().toFixed(0)} s, still waiting`,
    );
  }, HEARTBEAT_MS);

  const worker = async () => {
    while (next < total && !stop.budget && stop.failure === null) {
      const index = next++;
      try {
        await op(index);
      } catch (error) {
        stop.failure ??= { error };
        return;
      }
      done++;
      const seconds = elapsed();
      if (done % progressEvery === 0 || done === total) {
        say(
          `  ${label}: ${count(done)} / ${count(total)}  ${rate(done, seconds)}/s  ${
            seconds.toFixed(1)
          } s`,
        );
        const projected = (seconds / done) * total;
        if (!warned && done < total && projected > budgetSeconds) {
          warned = true;
          say(
            `  ! ${label}: slower than expected, ${total} would take about ${
              projected.toFixed(0)
            } s; stopping at the ${budgetSeconds} s budget`,
          );
        }
      }
      if (seconds > budgetSeconds && next < total) stop.budget = true;
    }
  };
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    clearInterval(watchdog);
  }
  const stallMs = stalls();
  if (stop.failure !== null) throw stop.failure.error;
  const seconds = elapsed();
  const cutShort = stop.budget
    ? `stopped at the ${budgetSeconds} s budget after ${count(done)} of ${count(total)}`
    : null;
  if (cutShort !== null) print(`  ! ${label}: ${cutShort}`);
  return { label, workers, planned: total, done, seconds, cutShort, stallMs };
}

/** Operations per second, rounded for people. */
export function rate(n: number, seconds: number): string {
  if (seconds <= 0) return "-";
  const r = n / seconds;
  return r >= 100 ? count(Math.round(r)) : r.toFixed(1);
}

/** An integer with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** A share as a percentage. */
export function percent(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : "-";
}
