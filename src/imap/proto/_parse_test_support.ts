/**
 * Helpers for the parser's tests: commands from text (UTF-8, literals counted in octets), and
 * the refusal a command gets. No Deno APIs, so the folder stays pure (tests/layering_test.ts).
 *
 * @module
 */

import { assertEquals, assertStringIncludes, assertThrows } from "../../../tests/assert.ts";
import { type Command, ImapParseError, parseCommand } from "./command.ts";

const encoder = new TextEncoder();

/** Joins text (as UTF-8) and byte arrays. */
export function bytes(...parts: (string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) => typeof p === "string" ? encoder.encode(p) : p);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** A literal carrying `text` (UTF-8): `{n}` CRLF text, with `form` "", "+" or "-". */
export function literal(text: string, form: "" | "+" | "-" = ""): string {
  return `{${encoder.encode(text).length}${form}}\r\n${text}`;
}

/** The command parsed from `input`. */
export function command(input: string | Uint8Array): Command {
  return parseCommand(typeof input === "string" ? encoder.encode(input) : input).command;
}

/** The ImapParseError `input` is refused with. */
export function refusal(input: string | Uint8Array): ImapParseError {
  return assertThrows(
    () => parseCommand(typeof input === "string" ? encoder.encode(input) : input),
    ImapParseError,
  );
}

/** Asserts each input parses to its expected command. */
export function assertCommands(cases: readonly (readonly [string, Command])[]): void {
  for (const [input, expected] of cases) assertEquals(command(input), expected, input);
}

/** Asserts each input is refused (BAD) with the tag it has and a text including `part`. */
export function assertRefused(cases: readonly (readonly [string, string])[]): void {
  for (const [input, part] of cases) {
    const error = refusal(input);
    const tag = /^([^ ]+) /.exec(input)?.[1] ?? null;
    assertEquals(error.tag, tag, `tag of ${JSON.stringify(input)}`);
    assertStringIncludes(error.text, part, JSON.stringify(input));
  }
}

/** A sequence set of ranges, for expected values: `set([1, 3], [5, "*"])`, `set(7)`. */
export function set(
  ...ranges: (number | "*" | readonly [number | "*", number | "*"])[]
): { kind: "ranges"; ranges: { from: number | "*"; to: number | "*" }[] } {
  return {
    kind: "ranges",
    ranges: ranges.map((r) =>
      typeof r === "object" ? { from: r[0], to: r[1] } : { from: r, to: r }
    ),
  };
}
