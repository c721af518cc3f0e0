import { assertEquals } from "../../tests/assert.ts";
import { parseDuration } from "./duration.ts";

Deno.test("durations", () => {
  const cases: [string, number | null][] = [
    ["90s", 90_000],
    ["30m", 1_800_000],
    ["30min", 1_800_000],
    ["1h30m", 5_400_000],
    ["7d", 7 * 86_400_000],
    ["2w", 14 * 86_400_000],
    ["0s", null],
    ["", null],
    ["1 h", null],
    ["h", null],
    ["10x", null],
    ["-5m", null],
  ];
  for (const [text, ms] of cases) assertEquals(parseDuration(text), ms, text);
});
