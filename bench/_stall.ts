/**
 * Event-loop stalls: how long the process could not run a timer. With the embedded database,
 * PGlite executes queries synchronously on this thread, so every other connection of the
 * server waits as long as the longest stall. A loaded machine stalls timers too; compare with
 * the PostgreSQL backend.
 *
 * @module
 */

const TICK_MS = 5;

/** Starts watching; the returned function stops and gives the longest stall in ms. */
export function watchStalls(): () => number {
  let longest = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - TICK_MS);
    last = now;
  }, TICK_MS);
  return () => {
    clearInterval(timer);
    longest = Math.max(longest, performance.now() - last - TICK_MS);
    return Math.max(0, longest);
  };
}
