import { assertEquals } from "../../tests/assert.ts";
import { formatSize, parseSize } from "./size.ts";

Deno.test("sizes parse in binary units", () => {
  const cases: [string, number | null][] = [
    ["0", 0],
    ["1024", 1024],
    ["25M", 25 * 1024 * 1024],
    ["25 MiB", 25 * 1024 * 1024],
    ["1.5g", 1.5 * 1024 ** 3],
    ["512k", 512 * 1024],
    ["2TB", 2 * 1024 ** 4],
    ["", null],
    ["-1", null],
    ["10 parsecs", null],
    ["1e3", null],
    ["M", null],
  ];
  for (const [text, bytes] of cases) assertEquals(parseSize(text), bytes, text);
});

Deno.test("sizes format for people", () => {
  assertEquals(formatSize(300), "300 B");
  assertEquals(formatSize(25 * 1024 * 1024), "25 MiB");
  assertEquals(formatSize(1.5 * 1024 ** 3), "1.5 GiB");
});
