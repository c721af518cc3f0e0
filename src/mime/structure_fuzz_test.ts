import fc from "fast-check";
import { type BodyPart, DEFAULT_LIMITS, parseStructure } from "./structure.ts";
import { assert, assertEquals, bytes, checkTree, crlf, MIXED } from "./_test_support.ts";

const fragment = fc.constantFrom(
  "Content-Type: multipart/mixed; boundary=b",
  "Content-Type: multipart/alternative; boundary=c",
  'Content-Type: multipart/digest; boundary="b"',
  "Content-Type: message/rfc822",
  "Content-Type: message/global",
  "Content-Type: text/plain; charset*0*=utf-8''%C3; charset*1*=%A9",
  "Content-Type: multipart/mixed",
  "Content-Disposition: attachment; filename=x",
  "Content-Transfer-Encoding: base64",
  "Subject: =?utf-8?q?x?=",
  "From: a <b@c>, g: d@e;",
  "--b",
  "--b--",
  "--c",
  "--c--",
  "--b  ",
  " folded",
  "text",
  "",
  "\r\n",
  "\n",
  "\r",
  "-",
);

function check(raw: Uint8Array, limits?: Partial<typeof DEFAULT_LIMITS>): BodyPart {
  const root = parseStructure(raw, limits);
  assertEquals([root.headerStart, root.end], [0, raw.length]);
  const stats = checkTree(root, raw);
  const maxParts = limits?.maxParts ?? DEFAULT_LIMITS.maxParts;
  const maxDepth = limits?.maxDepth ?? DEFAULT_LIMITS.maxDepth;
  assert(stats.parts <= maxParts, `${stats.parts} parts`);
  assert(stats.depth <= maxDepth, `depth ${stats.depth}`);
  return root;
}

Deno.test("parseStructure holds its invariants on arbitrary bytes (property)", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => void check(raw)), {
    numRuns: 300,
  });
});

Deno.test("parseStructure holds its invariants on mixes of MIME fragments (property)", () => {
  const message = fc.array(fragment, { maxLength: 60 }).chain((pieces) =>
    fc.constantFrom("\r\n", "\n").map((eol) => bytes(pieces.join(eol)))
  );
  const limits = fc.record({
    maxDepth: fc.integer({ min: 0, max: 6 }),
    maxParts: fc.integer({ min: 1, max: 12 }),
  });
  fc.assert(fc.property(message, (raw) => void check(raw)), { numRuns: 400 });
  fc.assert(fc.property(message, limits, (raw, l) => void check(raw, l)), { numRuns: 200 });
});

Deno.test("a message cut at every byte still parses within bounds", () => {
  for (const text of [crlf(MIXED), MIXED]) {
    const raw = bytes(text);
    for (let n = 0; n <= raw.length; n++) check(raw.subarray(0, n));
  }
});

Deno.test("offsets are relative to the view passed in, whatever its byteOffset", () => {
  const raw = bytes(crlf(MIXED));
  const root = parseStructure(raw);
  const shifted = new Uint8Array(raw.length + 14);
  shifted.set(raw, 7);
  const again = parseStructure(shifted.subarray(7, 7 + raw.length));
  assertEquals(again, root);
});

function nestedMultiparts(levels: number): string {
  let text = "";
  for (let i = 0; i < levels; i++) {
    text += `Content-Type: multipart/mixed; boundary=b${i}\n\n--b${i}\n`;
  }
  text += "\ninnermost\n";
  for (let i = levels - 1; i >= 0; i--) text += `--b${i}--\n`;
  return text;
}

function deepest(part: BodyPart): BodyPart {
  const next = part.parts?.[0] ?? part.message?.body;
  return next === undefined ? part : deepest(next);
}

Deno.test("nesting deeper than maxDepth becomes an opaque leaf", () => {
  const raw = bytes(nestedMultiparts(100));
  const root = check(raw);
  const leaf = deepest(root);
  assertEquals([leaf.type, leaf.subtype], ["application", "octet-stream"]);
  assertEquals(checkTree(root, raw).depth, DEFAULT_LIMITS.maxDepth);
  assert(new TextDecoder().decode(raw.subarray(leaf.bodyStart, leaf.end)).includes("innermost"));

  const shallow = check(bytes(nestedMultiparts(5)), { maxDepth: 2 });
  assertEquals(checkTree(shallow, bytes(nestedMultiparts(5))).depth, 2);
  const flat = check(bytes(nestedMultiparts(3)), { maxDepth: 0 });
  assertEquals([flat.type, flat.parts], ["application", undefined]);
});

Deno.test("message/rfc822 nested deeper than maxDepth becomes an opaque leaf", () => {
  const raw = bytes("Content-Type: message/rfc822\n\n".repeat(60) + "Subject: last\n\nbody\n");
  const root = check(raw);
  assertEquals(deepest(root).type, "application");
  assertEquals(checkTree(root, raw).depth, DEFAULT_LIMITS.maxDepth);
  assertEquals(root.message?.body.message?.envelope.subject, null);
});

Deno.test("parts beyond maxParts are not parsed", () => {
  const many = Array.from(
    { length: 3000 },
    (_, i) => `--b\nContent-Type: text/plain\n\npart ${i}\n`,
  );
  const raw = bytes(`Content-Type: multipart/mixed; boundary=b\n\n${many.join("")}--b--\n`);
  const root = check(raw);
  assertEquals(root.parts!.length, DEFAULT_LIMITS.maxParts - 1);
  const few = check(raw, { maxParts: 3 });
  assertEquals(few.parts!.length, 2);
  // A container that has no room for a child is opaque rather than childless.
  const nested = bytes(nestedMultiparts(4));
  const tight = check(nested, { maxParts: 2 });
  assertEquals(tight.parts![0]!.type, "application");
});

Deno.test("a large message parses quickly and linearly", () => {
  const line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n";
  const big = bytes(crlf(MIXED).replace("See you there.", line.repeat(40_000)));
  const root = check(big);
  assertEquals(root.parts![2]!.message!.body.lines, 40_002); // 40 000 lines, an empty one, "Bob"
});

Deno.test("hostile nesting costs at most maxDepth passes", () => {
  const b = "x".repeat(70);
  let text = "";
  for (let i = 0; i < 40; i++) {
    text += `Content-Type: multipart/mixed; boundary=${b}${i}\n\n--${b}${i}\n`;
  }
  text += "\n" + `--${b}\n-\n`.repeat(10_000);
  text += "Content-Type: message/rfc822\n\n".repeat(40) + "X-A: b\n".repeat(50_000);
  const t0 = performance.now();
  check(bytes(text));
  assert(performance.now() - t0 < 1000, "too slow");
});

Deno.test("mixing CRLF and LF per line keeps the tree and its bodies (property)", () => {
  const lines = MIXED.split("\n");
  const leaves = (part: BodyPart, raw: Uint8Array): string[] => {
    const inner = part.message?.body;
    if (inner !== undefined) return leaves(inner, raw);
    if (part.parts !== undefined) return part.parts.flatMap((p) => leaves(p, raw));
    const body = new TextDecoder().decode(raw.subarray(part.bodyStart, part.end));
    return [`${part.type}/${part.subtype} ${body.replaceAll("\r\n", "\n")}`];
  };
  const reference = bytes(MIXED);
  const expected = leaves(parseStructure(reference), reference);
  fc.assert(
    fc.property(
      fc.array(fc.boolean(), { minLength: lines.length, maxLength: lines.length }),
      (crlfs) => {
        const raw = bytes(
          lines.map((l, i) => l + (i === lines.length - 1 ? "" : crlfs[i] ? "\r\n" : "\n")).join(
            "",
          ),
        );
        const root = check(raw);
        assertEquals(leaves(root, raw), expected);
      },
    ),
    { numRuns: 100 },
  );
});
