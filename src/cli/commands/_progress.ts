/**
 * Progress of long commands on standard error: a line every few seconds while a table (or a
 * folder) is worked on, nothing for a run that finishes quickly.
 *
 * @module
 */

import type { CliIo } from "../io.ts";

/** Shows progress at most every `intervalMs`; the clock is injectable for tests. */
export function progressPrinter(
  io: CliIo,
  verb: string,
  intervalMs = 5000,
  now: () => number = Date.now,
): (what: string, count: number, octets?: number) => void {
  let last = now();
  return (what, count, octets) => {
    const t = now();
    if (t - last < intervalMs) return;
    last = t;
    const size = octets === undefined ? "" : `, ${formatOctets(octets)}`;
    io.err(`${verb} ${what}: ${count.toLocaleString("en")}${size}`);
  };
}

/** 1536 → "1.5 KiB". */
export function formatOctets(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}
