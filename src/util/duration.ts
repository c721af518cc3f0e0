/**
 * Durations as administrators write them: `90s`, `30m`, `12h`, `7d`, `2w`, `1h30m`.
 *
 * @module
 */

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Parses a duration into milliseconds; null when the text is not a positive duration. */
export function parseDuration(text: string): number | null {
  const parts = [...text.matchAll(/(\d{1,6})(min|s|m|h|d|w)/g)];
  const ms = parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MS[unit!]!, 0);
  return parts.map((p) => p[0]).join("") === text && ms > 0 ? ms : null;
}
