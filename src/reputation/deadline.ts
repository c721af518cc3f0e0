/**
 * A time bound on a DNS question whose resolver may take longer (attempts × name servers ×
 * timeout): the answer, or `fallback` once `ms` have passed. The question itself goes on in the
 * resolver (it cannot be cancelled); its late answer is dropped here, and its rejection too.
 *
 * @module
 */

/** The value of `promise`, or `fallback` when it takes longer than `ms` (no bound if infinite). */
export async function withDeadline<T, F>(
  promise: Promise<T>,
  ms: number,
  fallback: F,
): Promise<T | F> {
  if (!Number.isFinite(ms)) return await promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), Math.max(0, ms));
  });
  // A rejection after the deadline would otherwise be unhandled.
  promise.catch(() => {});
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
