import { assert, assertEquals } from "../../tests/assert.ts";
import { limitSignatures } from "./signatures.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("limitSignatures keeps the first signatures, each dropped one with its folded lines", () => {
  const message = [
    "DKIM-Signature: v=1; d=a.example;",
    "\tb=one",
    "Subject: x",
    "dkim-signature : v=1; d=b.example; b=two",
    "DKIM-Signature: v=1; d=c.example;",
    " b=three",
    "From: a@a.example",
    "",
    "DKIM-Signature: in the body, not counted",
    "",
  ].join("\r\n");
  const out = limitSignatures(encoder.encode(message), 1);
  assertEquals([out.total, out.kept], [3, 1]);
  assertEquals(
    decoder.decode(out.message),
    [
      "DKIM-Signature: v=1; d=a.example;",
      "\tb=one",
      "Subject: x",
      "From: a@a.example",
      "",
      "DKIM-Signature: in the body, not counted",
      "",
    ].join("\r\n"),
  );
  // Within the limit: the same bytes.
  const raw = encoder.encode(message);
  const same = limitSignatures(raw, 10);
  assert(same.message === raw);
  assertEquals([same.total, same.kept], [3, 3]);
});

Deno.test("limitSignatures counts past the header parser's 1,000 fields", () => {
  const fields = Array.from({ length: 1_500 }, (_, i) => `DKIM-Signature: v=1; d=d${i}.example`);
  const out = limitSignatures(encoder.encode(`${fields.join("\n")}\n\nbody\n`));
  assertEquals([out.total, out.kept], [1_500, 10]);
  assertEquals(decoder.decode(out.message), `${fields.slice(0, 10).join("\n")}\n\nbody\n`);
});
