import { assert, assertEquals, assertThrows } from "../../../tests/assert.ts";
import {
  bytewise,
  feed,
  type Outcome,
  random,
  randomCuts,
  splitAt,
  toBytes,
} from "./_data_test_support.ts";
import { type DataProblem, DataReceiver, type DataReceiverOptions } from "./data_receiver.ts";

const OPTIONS: DataReceiverOptions = { maxSize: 4000, maxHeaderSize: 2000 };

interface Case {
  readonly name: string;
  readonly mode?: "dot" | "raw";
  readonly input: string;
  readonly options?: Partial<DataReceiverOptions>;
  readonly content?: string; // expected when there is no problem
  readonly problem?: DataProblem;
  readonly done?: boolean; // default: true without a fatal problem
  readonly rest?: string; // the input's tail left unconsumed (pipelined), "dot" mode
}

const x = (n: number) => "x".repeat(n);

const cases: Case[] = [
  {
    name: "a message",
    input: "Subject: hi\r\n\r\nbody\r\n.\r\n",
    content: "Subject: hi\r\n\r\nbody\r\n",
  },
  { name: "an empty message", input: ".\r\n", content: "" },
  { name: "a message of one empty line", input: "\r\n.\r\n", content: "\r\n" },
  {
    name: "pipelined commands after the terminator are not consumed (RFC 2920)",
    input: "a\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.org>\r\n",
    content: "a\r\n",
    rest: "MAIL FROM:<>\r\nRCPT TO:<b@example.org>\r\n",
  },
  { name: "dot-stuffing: ..x is .x (RFC 5321 §4.5.2)", input: "..x\r\n.\r\n", content: ".x\r\n" },
  { name: "a line that is just ..", input: "a\r\n..\r\n.\r\n", content: "a\r\n.\r\n" },
  { name: "three dots", input: "...\r\n.\r\n", content: "..\r\n" },
  { name: "a single leading dot is removed", input: ".x\r\n.\r\n", content: "x\r\n" },
  { name: "a dot inside a line stays", input: "a.\r\nb .\r\n.\r\n", content: "a.\r\nb .\r\n" },
  { name: "a dot line with spaces is not the end", input: ". \r\n.\r\n", content: " \r\n" },
  {
    name: "8-bit and NUL octets pass",
    input: "\x00\xff\xe9\r\n.\r\n",
    content: "\x00\xff\xe9\r\n",
  },
  // SMTP smuggling: every shape of a half-terminator is fatal where it shows.
  {
    name: "smuggling \\n.\\r\\n",
    input: "a\n.\r\nMAIL FROM:<>\r\n",
    problem: "bare-lf",
    rest: ".\r\nMAIL FROM:<>\r\n",
  },
  {
    name: "smuggling \\r.\\r\\n",
    input: "a\r.\r\nMAIL FROM:<>\r\n",
    problem: "bare-cr",
    rest: "\r\nMAIL FROM:<>\r\n",
  },
  {
    name: "smuggling \\n.\\n",
    input: "a\n.\nMAIL FROM:<>\n",
    problem: "bare-lf",
    rest: ".\nMAIL FROM:<>\n",
  },
  {
    name: "smuggling \\r\\n.\\n",
    input: "a\r\n.\nb\r\n.\r\n",
    problem: "bare-lf",
    rest: "b\r\n.\r\n",
  },
  {
    name: "smuggling \\r\\n.\\rX",
    input: "a\r\n.\rb\r\n.\r\n",
    problem: "bare-cr",
    rest: "\r\n.\r\n",
  },
  {
    name: "smuggling \\r\\n.\\r\\r",
    input: "a\r\n.\r\r\n.\r\n",
    problem: "bare-cr",
    rest: "\n.\r\n",
  },
  { name: "a message starting with LF", input: "\n.\r\n", problem: "bare-lf", rest: ".\r\n" },
  {
    name: "bare LF inside a header line",
    input: "Subject: a\nb\r\n\r\n.\r\n",
    problem: "bare-lf",
    rest: "b\r\n\r\n.\r\n",
  },
  {
    name: "bare CR in a line",
    input: "Subject: a\rb\r\n.\r\n",
    problem: "bare-cr",
    rest: "\r\n.\r\n",
  },
  {
    name: "bare LF in the body",
    input: "S: a\r\n\r\nb\nc\r\n.\r\n",
    problem: "bare-lf",
    rest: "c\r\n.\r\n",
  },
  {
    name: "a bare LF after a non-fatal problem still ends the read",
    input: `${x(12)}\r\na\n.\r\n`,
    options: { maxSize: 10 },
    problem: "bare-lf",
    rest: ".\r\n",
  },
  // Bounds.
  {
    name: "content of exactly maxSize",
    input: "12345678\r\n.\r\n",
    options: { maxSize: 10 },
    content: "12345678\r\n",
  },
  {
    name: "content one octet over maxSize (RFC 1870 §6)",
    input: "123456789\r\n.\r\n",
    options: { maxSize: 10 },
    problem: "too-big",
  },
  {
    name: "stuffed dots do not count towards the size",
    input: "..234567\r\n.\r\n",
    options: { maxSize: 9 },
    content: ".234567\r\n",
  },
  {
    name: "a 1000-octet line (RFC 5321 §4.5.3.1.6)",
    input: `${x(998)}\r\n.\r\n`,
    content: `${x(998)}\r\n`,
  },
  { name: "a 1001-octet line", input: `${x(999)}\r\n.\r\n`, problem: "line-too-long" },
  {
    name: "a stuffed dot does not count towards the line length",
    input: `.${x(998)}\r\n.\r\n`,
    content: `${x(998)}\r\n`,
  },
  {
    name: "a 1000-octet line with its stuffed dot",
    input: `..${x(997)}\r\n.\r\n`,
    content: `.${x(997)}\r\n`,
  },
  {
    name: "a custom line length",
    input: "abcd\r\nabcde\r\n.\r\n",
    options: { maxLineLength: 6 },
    problem: "line-too-long",
  },
  {
    name: "a header block of exactly maxHeaderSize, then a longer body",
    input: `A: ${x(15)}\r\n\r\n${x(40)}\r\n.\r\n`,
    options: { maxHeaderSize: 20 },
    content: `A: ${x(15)}\r\n\r\n${x(40)}\r\n`,
  },
  {
    name: "a header block over maxHeaderSize",
    input: `A: ${x(10)}\r\nB: ${x(2)}\r\n\r\nbody\r\n.\r\n`,
    options: { maxHeaderSize: 20 },
    problem: "header-too-big",
  },
  {
    name: "a message without an empty line is all header",
    input: `A: ${x(10)}\r\nB: ${x(2)}\r\n.\r\n`,
    options: { maxHeaderSize: 20 },
    problem: "header-too-big",
  },
  {
    name: "line and size bounds crossed by the same octet: the line wins",
    input: `${x(5)}\r\n.\r\n`,
    options: { maxSize: 4, maxLineLength: 6 },
    problem: "line-too-long",
  },
  {
    name: "the size bound crossed first",
    input: `${x(5)}\r\n.\r\n`,
    options: { maxSize: 3, maxLineLength: 6 },
    problem: "too-big",
  },
  // "raw" mode (BDAT).
  {
    name: "raw: content as is",
    mode: "raw",
    input: "a\r\n.\r\n..b\r\n",
    content: "a\r\n.\r\n..b\r\n",
  },
  { name: "raw: empty", mode: "raw", input: "", content: "" },
  { name: "raw: a last line without CRLF", mode: "raw", input: "a\r\nb", content: "a\r\nb" },
  { name: "raw: bare LF", mode: "raw", input: "a\nb\r\n", problem: "bare-lf" },
  { name: "raw: bare CR", mode: "raw", input: "a\rb\r\n", problem: "bare-cr" },
  { name: "raw: CR at the very end", mode: "raw", input: "a\r\nb\r", problem: "bare-cr" },
  { name: "raw: a 1001-octet line", mode: "raw", input: `${x(999)}\r\n`, problem: "line-too-long" },
  {
    name: "raw: a 1000-octet line",
    mode: "raw",
    input: `${x(998)}\r\n`,
    content: `${x(998)}\r\n`,
  },
  {
    name: "raw: too big",
    mode: "raw",
    input: "12345678\r\nz",
    options: { maxSize: 10 },
    problem: "too-big",
  },
  {
    name: "raw: a header without CRLF at the end counts",
    mode: "raw",
    input: `A: ${x(18)}`,
    options: { maxHeaderSize: 20 },
    problem: "header-too-big",
  },
];

function expected(c: Case): Outcome {
  const fatal = (c.mode ?? "dot") === "dot" &&
    (c.problem === "bare-lf" || c.problem === "bare-cr");
  const length = toBytes(c.input).length;
  return {
    consumed: length - (c.rest ?? "").length,
    done: c.done ?? !fatal,
    problem: c.problem ?? null,
    size: -1, // compared separately
    content: c.problem === undefined ? c.content ?? "" : "",
  };
}

for (const c of cases) {
  Deno.test(`DataReceiver: ${c.name}`, () => {
    const mode = c.mode ?? "dot";
    const options = { ...OPTIONS, ...c.options };
    const input = toBytes(c.input);
    assert(c.input.endsWith(c.rest ?? ""), "rest is the input's tail");
    const whole = feed(mode, options, [input]);
    assertEquals({ ...whole, size: -1 }, expected(c), "whole");
    if (c.problem === undefined) assertEquals(whole.size, whole.content.length, "size");
    assert(whole.size <= whole.consumed, "size is at most what was consumed");
    // The same outcome however the input is cut: byte by byte, at every single offset, and
    // at random offsets.
    assertEquals(feed(mode, options, bytewise(input)), whole, "byte by byte");
    for (let cut = 1; cut < Math.min(input.length, 80); cut++) {
      assertEquals(feed(mode, options, splitAt(input, [cut])), whole, `cut at ${cut}`);
    }
    const next = random(input.length);
    for (let run = 0; run < 30; run++) {
      const cuts = randomCuts(input.length, next);
      assertEquals(feed(mode, options, splitAt(input, cuts)), whole, `cuts ${cuts}`);
    }
  });
}

Deno.test("DataReceiver: push after the end consumes nothing", () => {
  const receiver = new DataReceiver("dot", OPTIONS);
  assertEquals(receiver.push(toBytes("a\r\n.\r\nQUIT\r\n")), 6);
  assertEquals(receiver.done, true);
  assertEquals(receiver.push(toBytes("QUIT\r\n")), 0);
  const fatal = new DataReceiver("dot", OPTIONS);
  assertEquals(fatal.push(toBytes("a\n")), 2);
  assertEquals(fatal.push(toBytes(".\r\n")), 0);
  assertEquals([fatal.problem, fatal.done], ["bare-lf", false]);
});

Deno.test("DataReceiver: content is dropped from the first problem on", () => {
  const receiver = new DataReceiver("dot", { maxSize: 5, maxHeaderSize: 100 });
  receiver.push(toBytes("abc\r\n"));
  assertEquals(receiver.takeContent().map((c) => c.length), [5]);
  receiver.push(toBytes("d\r\n"));
  assertEquals(receiver.problem, "too-big");
  assertEquals(receiver.takeContent(), []);
  receiver.push(toBytes(`${x(500)}\r\n.\r\n`));
  assertEquals([receiver.done, receiver.size, receiver.takeContent()], [true, 510, []]);
});

Deno.test("DataReceiver: the caller's buffer is copied, not kept", () => {
  const receiver = new DataReceiver("dot", OPTIONS);
  const buffer = toBytes("abc\r\n");
  receiver.push(buffer);
  buffer.fill(0x21);
  receiver.push(toBytes(".\r\n"));
  assertEquals(receiver.takeContent(), [toBytes("abc\r\n")]);
});

Deno.test("DataReceiver: octet-by-octet input is kept in few blocks", () => {
  const receiver = new DataReceiver("raw", { maxSize: 1 << 20, maxHeaderSize: 100 });
  const line = toBytes(`${x(78)}\r\n`);
  for (let i = 0; i < 2000; i++) {
    for (let j = 0; j < line.length; j++) receiver.push(line.subarray(j, j + 1));
  }
  receiver.finish();
  const chunks = receiver.takeContent();
  assertEquals(receiver.problem, "header-too-big"); // no empty line: all of it is header
  assertEquals(chunks, []);
  const body = new DataReceiver("raw", { maxSize: 1 << 20, maxHeaderSize: 100 });
  body.push(toBytes("\r\n"));
  for (let i = 0; i < 2000; i++) {
    for (let j = 0; j < line.length; j++) body.push(line.subarray(j, j + 1));
  }
  body.finish();
  const kept = body.takeContent();
  assertEquals(body.problem, null);
  assertEquals(kept.reduce((n, c) => n + c.length, 0), 2 + 2000 * 80);
  assert(kept.length <= 3, `${kept.length} chunks`);
});

Deno.test("DataReceiver: 16 MiB in 64 KiB chunks, linear time", () => {
  const size = 16 << 20;
  const line = toBytes(`${x(70)}\r\n..${x(6)}\r\n`);
  const chunk = new Uint8Array(64 << 10);
  for (let i = 0; i < chunk.length; i++) chunk[i] = line[i % line.length]!;
  const receiver = new DataReceiver("dot", { maxSize: size, maxHeaderSize: size });
  const started = performance.now();
  for (let fed = 0; fed < size; fed += chunk.length) {
    assertEquals(receiver.push(chunk), chunk.length);
  }
  receiver.push(toBytes("\r\n.\r\n"));
  const elapsed = performance.now() - started;
  assertEquals([receiver.done, receiver.problem], [true, null]);
  const total = receiver.takeContent().reduce((n, c) => n + c.length, 0);
  assertEquals(total, receiver.size);
  assert(elapsed < 5000, `took ${elapsed} ms`);
});

Deno.test("DataReceiver: mode misuse and bad options throw", () => {
  const raw = new DataReceiver("raw", OPTIONS);
  raw.finish();
  raw.finish(); // idempotent
  assertThrows(() => raw.push(toBytes("a")), Error, "after finish");
  assertThrows(() => new DataReceiver("dot", OPTIONS).finish(), Error, "raw mode");
  const bad: DataReceiverOptions[] = [
    { maxSize: -1, maxHeaderSize: 1 },
    { maxSize: 1.5, maxHeaderSize: 1 },
    { maxSize: 1, maxHeaderSize: NaN },
    { maxSize: 1, maxHeaderSize: 1, maxLineLength: 2 },
    { maxSize: Infinity, maxHeaderSize: 1 },
  ];
  for (const options of bad) assertThrows(() => new DataReceiver("dot", options), RangeError);
});
