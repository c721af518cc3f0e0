import fc from "fast-check";
import { assert, assertEquals } from "../../../tests/assert.ts";
import { ImapParseError, parseCommand } from "./command.ts";
import type { SearchKey } from "./search_keys.ts";
import { formatSequenceSet, type SequenceSet } from "./sequence_set.ts";
import { bytes, literal } from "./_parse_test_support.ts";

/** Parses `input`; anything thrown but an ImapParseError with a clean text fails the test. */
function check(input: Uint8Array): void {
  try {
    const { tag } = parseCommand(input);
    assert(tag.length > 0);
  } catch (error) {
    if (!(error instanceof ImapParseError)) throw error;
    assert(/^[\x20-\x7e]{1,200}$/.test(error.text), JSON.stringify(error.text));
  }
}

const VERBS = [
  "CAPABILITY",
  "NOOP",
  "LOGOUT",
  "STARTTLS",
  "AUTHENTICATE",
  "LOGIN",
  "ENABLE",
  "ID",
  "SELECT",
  "EXAMINE",
  "CREATE",
  "DELETE",
  "RENAME",
  "SUBSCRIBE",
  "UNSUBSCRIBE",
  "LIST",
  "LSUB",
  "NAMESPACE",
  "STATUS",
  "APPEND",
  "IDLE",
  "CHECK",
  "CLOSE",
  "UNSELECT",
  "EXPUNGE",
  "SEARCH",
  "FETCH",
  "STORE",
  "COPY",
  "MOVE",
  "SORT",
  "THREAD",
  "GETQUOTA",
  "GETQUOTAROOT",
  "UID FETCH",
  "UID SEARCH",
  "UID STORE",
  "UID COPY",
  "UID MOVE",
  "UID EXPUNGE",
  "UID SORT",
  "UID THREAD",
];

// Pieces of IMAP syntax, so that random commands get deep into the grammar.
const TOKENS = [
  " ",
  " ",
  " ",
  "(",
  ")",
  "(",
  ")",
  "[",
  "]",
  "<",
  ">",
  ".",
  '"',
  "\\",
  "{",
  "}",
  "~",
  "\r\n",
  "\r",
  "\n",
  "\x00",
  "\x01",
  "\xff",
  "*",
  "%",
  "$",
  ":",
  ",",
  "1",
  "0",
  "4294967296",
  "1:*",
  "{0}\r\n",
  "{1}\r\nx",
  "{3+}\r\nabc",
  "{2-}\r\n\r\n",
  "~{1}\r\n\x00",
  "{99}\r\n",
  '"a b"',
  '"\\""',
  "NIL",
  "INBOX",
  "RETURN",
  "CHARSET",
  "UTF-8",
  "NOT",
  "OR",
  "ALL",
  "SEEN",
  "KEYWORD",
  "HEADER",
  "SUBJECT",
  "SINCE",
  "1-Feb-2026",
  "LARGER",
  "UID",
  "MODSEQ",
  '"/flags/\\\\seen"',
  "BODY",
  "BODY.PEEK",
  "BINARY",
  "BINARY.SIZE",
  "HEADER.FIELDS",
  "MIME",
  "TEXT",
  "FLAGS",
  "+FLAGS.SILENT",
  "\\Seen",
  "CHANGEDSINCE",
  "VANISHED",
  "UNCHANGEDSINCE",
  "CONDSTORE",
  "QRESYNC",
  "SUBSCRIBED",
  "RECURSIVEMATCH",
  "CHILDREN",
  "STATUS",
  "MESSAGES",
  "USE",
  "\\Sent",
  "REVERSE",
  "DATE",
  "UTF8",
  '"17-Jul-1996 02:44:25 -0700"',
  "PLAIN",
  "=",
  "AGFh",
  "ü",
];

const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((t) => t.join(""));

// Valid commands, to be cut and mutated.
const CORPUS = [
  "A654 FETCH 2:4 (FLAGS BODY.PEEK[1.2.HEADER.FIELDS (DATE FROM)]<0.100>)\r\n",
  "s101 UID FETCH 300:500 (FLAGS BINARY[1] BINARY.SIZE[2]) (CHANGEDSINCE 12345 VANISHED)",
  'A282 SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR (FLAGGED SINCE 1-Feb-1994) NOT FROM "Smith"',
  `a SEARCH MODSEQ "/flags/\\\\draft" all 620162338 HEADER X ${literal("ü")} UID $`,
  "A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211 (1:5 41:45)))",
  'A03 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("%" "a/*") RETURN (CHILDREN STATUS (MESSAGES))',
  `A003 APPEND saved (\\Seen) " 7-Feb-1994 21:52:25 -0800" ${literal("Subject: x\r\n\r\nhi\r\n")}`,
  "a APPEND x UTF8 (~{3+}\r\n\x00\x7f\x01)",
  "d105 UID STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted $Junk)",
  `a LOGIN ${literal("fred")} "pa\\"ss"`,
  'a023 ID ("name" "sodr" "version" NIL)',
  "C283 UID SORT (SUBJECT REVERSE DATE) UTF-8 ALL",
  "t1 CREATE x (USE (\\Drafts))",
  "A01 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=",
];

Deno.test("parseCommand throws only ImapParseError on random bytes (property)", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (input) => check(input)), {
    numRuns: 5000,
  });
  fc.assert(
    fc.property(fc.constantFrom(...VERBS), fc.uint8Array({ maxLength: 120 }), (verb, rest) => {
      check(bytes(`a ${verb} `, rest));
    }),
    { numRuns: 5000 },
  );
});

Deno.test("parseCommand throws only ImapParseError on token soup (property)", () => {
  fc.assert(
    fc.property(fc.constantFrom(...VERBS), soup, (verb, rest) => check(bytes(`a ${verb} ${rest}`))),
    { numRuns: 10_000 },
  );
});

Deno.test("parseCommand throws only ImapParseError on mutated valid commands (property)", () => {
  for (const valid of CORPUS) check(bytes(valid)); // the corpus itself parses
  for (const valid of CORPUS) parseCommand(bytes(valid));
  const mutation = fc.tuple(
    fc.constantFrom(...CORPUS),
    fc.array(
      fc.tuple(fc.nat({ max: 300 }), fc.nat({ max: 4 }), fc.constantFrom(...TOKENS, "")),
      { minLength: 1, maxLength: 4 },
    ),
  );
  fc.assert(
    fc.property(mutation, ([valid, edits]) => {
      let text = valid;
      for (const [at, cut, insert] of edits) {
        const p = at % (text.length + 1);
        text = text.slice(0, p) + insert + text.slice(p + cut);
      }
      check(bytes(text));
      check(bytes(text.slice(0, text.length >> 1)));
    }),
    { numRuns: 10_000 },
  );
});

// Search keys: a random tree, written as IMAP, parses back to itself.
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const SYSTEM: [string, string, string][] = [
  ["\\Answered", "ANSWERED", "UNANSWERED"],
  ["\\Deleted", "DELETED", "UNDELETED"],
  ["\\Draft", "DRAFT", "UNDRAFT"],
  ["\\Flagged", "FLAGGED", "UNFLAGGED"],
  ["\\Seen", "SEEN", "UNSEEN"],
  ["\\Recent", "RECENT", "OLD"],
];

function str(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return literal(value);
}

function format(key: SearchKey): string {
  switch (key.key) {
    case "ALL":
      return "ALL";
    case "FLAG": {
      const system = SYSTEM.find(([flag]) => flag === key.flag);
      if (system) return key.set ? system[1] : system[2];
      return `${key.set ? "KEYWORD" : "UNKEYWORD"} ${key.flag}`;
    }
    case "BCC":
    case "BODY":
    case "CC":
    case "FROM":
    case "SUBJECT":
    case "TEXT":
    case "TO":
      return `${key.key} ${str(key.value)}`;
    case "HEADER":
      return `HEADER ${str(key.field)} ${str(key.value)}`;
    case "BEFORE":
    case "ON":
    case "SINCE":
    case "SENTBEFORE":
    case "SENTON":
    case "SENTSINCE":
      return `${key.key} ${key.date.day}-${MONTHS[key.date.month - 1]}-${key.date.year}`;
    case "LARGER":
    case "SMALLER":
      return `${key.key} ${key.size}`;
    case "SEQ":
      return formatSequenceSet(key.set);
    case "UID":
      return `UID ${formatSequenceSet(key.set)}`;
    case "MODSEQ":
      return key.entry === null
        ? `MODSEQ ${key.modseq}`
        : `MODSEQ ${str(`/flags/${key.entry.flag}`)} ${key.entry.type} ${key.modseq}`;
    case "NOT":
      return `NOT ${format(key.operand)}`;
    case "OR":
      return `OR ${format(key.left)} ${format(key.right)}`;
    case "AND":
      return `(${key.operands.map(format).join(" ")})`;
  }
}

const text = fc.string({ unit: "grapheme", maxLength: 8 }).filter((s) => !s.includes("\0"));
const keyword = fc.stringMatching(/^[A-Za-z$][A-Za-z0-9_$-]{0,6}$/);
const seqNumber = fc.oneof(fc.integer({ min: 1, max: 0xffff_ffff }), fc.constant("*" as const));
const sequenceSet: fc.Arbitrary<SequenceSet> = fc.oneof(
  fc.constant({ kind: "saved" as const }),
  fc.array(fc.tuple(seqNumber, seqNumber).map(([from, to]) => ({ from, to })), {
    minLength: 1,
    maxLength: 4,
  })
    .map((ranges) => ({ kind: "ranges" as const, ranges })),
);
const leaf: fc.Arbitrary<SearchKey> = fc.oneof(
  fc.constant({ key: "ALL" as const }),
  fc.tuple(fc.constantFrom(...SYSTEM.map(([flag]) => flag)), fc.boolean()).map(([flag, set]) => ({
    key: "FLAG" as const,
    flag,
    set,
  })),
  fc.tuple(keyword, fc.boolean()).map(([flag, set]) => ({ key: "FLAG" as const, flag, set })),
  fc.tuple(fc.constantFrom("BCC", "BODY", "CC", "FROM", "SUBJECT", "TEXT", "TO" as const), text)
    .map(([key, value]) => ({ key, value })),
  fc.tuple(fc.stringMatching(/^[!-9;-~]{1,10}$/), text).map(([field, value]) => ({
    key: "HEADER" as const,
    field,
    value,
  })),
  fc.tuple(
    fc.constantFrom("BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE" as const),
    fc.integer({ min: 1000, max: 9999 }),
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 28 }),
  ).map(([key, year, month, day]) => ({ key, date: { year, month, day } })),
  fc.tuple(fc.constantFrom("LARGER", "SMALLER" as const), fc.maxSafeNat()).map(([key, size]) => ({
    key,
    size,
  })),
  fc.tuple(fc.constantFrom("SEQ", "UID" as const), sequenceSet).map(([key, set]) => ({ key, set })),
  fc.tuple(
    fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
    fc.option(
      fc.tuple(
        fc.oneof(keyword, fc.constantFrom("\\Seen", "\\Draft")),
        fc.constantFrom("priv", "shared", "all" as const),
      ),
    ),
  ).map(([modseq, entry]) => ({
    key: "MODSEQ" as const,
    modseq,
    entry: entry === null ? null : { flag: entry[0], type: entry[1] },
  })),
);
const { tree } = fc.letrec<{ tree: SearchKey }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    tie("tree").map((operand) => ({ key: "NOT" as const, operand })),
    fc.tuple(tie("tree"), tie("tree")).map(([left, right]) => ({
      key: "OR" as const,
      left,
      right,
    })),
    fc.array(tie("tree"), { minLength: 2, maxLength: 3 }).map((operands) => ({
      key: "AND" as const,
      operands,
    })),
  ),
}));

Deno.test("search keys written as IMAP parse back to themselves (property)", () => {
  fc.assert(
    fc.property(tree, (key) => {
      const parsed = parseCommand(bytes(`a UID SEARCH CHARSET UTF-8 ${format(key)}`)).command;
      assert(parsed.name === "SEARCH");
      assertEquals(parsed.search, key);
    }),
    { numRuns: 1000 },
  );
});
