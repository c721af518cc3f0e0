import fc from "fast-check";
import { assert, assertEquals } from "../../../tests/assert.ts";
import { bytewise, feed, octets, splitAt, toBytes } from "./_data_test_support.ts";
import type { DataReceiverOptions } from "./data_receiver.ts";

const mode = fc.constantFrom<"dot" | "raw">("dot", "raw");
const options: fc.Arbitrary<DataReceiverOptions> = fc.record({
  maxSize: fc.integer({ min: 0, max: 400 }),
  maxLineLength: fc.integer({ min: 3, max: 60 }),
  maxHeaderSize: fc.integer({ min: 0, max: 200 }),
});
const cuts = fc.array(fc.nat({ max: 600 }), { maxLength: 12 });

// Bytes rich in what the receiver cares about: CR, LF, dots and terminators.
const tricky = fc.array(
  fc.constantFrom("\r", "\n", ".", "a", "\r\n", "\r\n.\r\n", "..", "\r\n.", "\x00", "\xff"),
  { maxLength: 80 },
).map((parts) => toBytes(parts.join("")));

Deno.test("DataReceiver never throws and never counts more than it was fed (property)", () => {
  fc.assert(
    fc.property(mode, options, fc.oneof(fc.uint8Array({ maxLength: 500 }), tricky), (m, o, raw) => {
      const outcome = feed(m, o, [raw]);
      assert(outcome.consumed <= raw.length, "consumed");
      assert(outcome.size <= outcome.consumed, "size");
      assert(outcome.content.length <= outcome.size, "content");
      if (m === "raw") assertEquals(outcome.consumed, raw.length);
      if (outcome.problem === null) assertEquals(outcome.content.length, outcome.size);
    }),
    { numRuns: 600 },
  );
});

Deno.test("DataReceiver: the outcome does not depend on how the input is split (property)", () => {
  fc.assert(
    fc.property(mode, options, fc.oneof(tricky, fc.uint8Array({ maxLength: 300 })), cuts, (
      m,
      o,
      raw,
      at,
    ) => {
      const whole = feed(m, o, [raw]);
      assertEquals(feed(m, o, splitAt(raw, at)), whole, "random cuts");
      assertEquals(feed(m, o, bytewise(raw)), whole, "byte by byte");
    }),
    { numRuns: 500 },
  );
});

Deno.test("DataReceiver: clean dot-mode content has only CRLF line ends (property)", () => {
  fc.assert(
    fc.property(tricky, (raw) => {
      const outcome = feed("dot", { maxSize: 1000, maxHeaderSize: 1000 }, [raw]);
      if (outcome.problem !== null || !outcome.done) return;
      assert(!/\r(?!\n)|(?<!\r)\n/.test(outcome.content), JSON.stringify(outcome.content));
      const ended = octets(raw.subarray(0, outcome.consumed));
      assert(ended === ".\r\n" || ended.endsWith("\r\n.\r\n"), JSON.stringify(ended));
    }),
    { numRuns: 500 },
  );
});

// A line of content: any octets but CR and LF, often starting with a dot or two.
const line = fc.tuple(
  fc.constantFrom("", "", ".", ".."),
  fc.uint8Array({ maxLength: 40 }).map((a) => octets(a.filter((b) => b !== 0x0a && b !== 0x0d))),
).map(([dots, text]) => dots + text);

Deno.test("DataReceiver: stuffed valid lines come back as they were (property)", () => {
  fc.assert(
    fc.property(fc.array(line, { maxLength: 30 }), fc.string({ maxLength: 30 }), cuts, (
      lines,
      pipelined,
      at,
    ) => {
      const content = lines.map((l) => `${l}\r\n`).join("");
      // RFC 5321 §4.5.2: the sender doubles a leading dot; the message ends with CRLF.CRLF.
      const wire = lines.map((l) => `${l.startsWith(".") ? "." : ""}${l}\r\n`).join("") + ".\r\n";
      const input = toBytes(wire + pipelined.replace(/[^\x20-\x7e]/g, "?"));
      const limits = { maxSize: content.length, maxHeaderSize: content.length };
      const expected = {
        consumed: wire.length,
        done: true,
        problem: null,
        size: content.length,
        content,
      };
      assertEquals(feed("dot", limits, splitAt(input, at)), expected);
      // BDAT carries the content itself, unstuffed.
      const raw = toBytes(content);
      assertEquals(feed("raw", limits, splitAt(raw, at)), { ...expected, consumed: raw.length });
    }),
    { numRuns: 400 },
  );
});
