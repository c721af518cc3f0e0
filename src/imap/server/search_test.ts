import { assert, assertEquals } from "../../../tests/assert.ts";
import { parseCommand, type SearchKey } from "../proto/mod.ts";
import { describe, type MessageCache, type MessageInfo } from "../../store/messages.ts";
import {
  matches,
  matchesLoaded,
  savedResult,
  type SearchContext,
  searchNeeds,
  searchResponse,
  type SearchSource,
} from "./search.ts";

const encoder = new TextEncoder();
const CRLF = (text: string) => text.replace(/\n/g, "\r\n");

/** Joins text and raw octets (for an ISO-8859-1 body). */
function bytes(...parts: (string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) => typeof p === "string" ? encoder.encode(p) : p);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

// 1: multipart; quoted-printable text, base64 HTML, a base64 PDF holding "secretword".
const MESSAGE_1 = encoder.encode(CRLF(`From: =?utf-8?q?J=C3=B6rg?= <joerg@example.org>
To: Ann <ann@example.com>
Subject: =?utf-8?q?Caf=C3=A9?= menu
Date: Tue, 24 Nov 2026 23:30:00 -0500
Message-ID: <m1@example.org>
X-Mailer: Mutt 2.2
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Caf=C3=A9 au=
 lait
--b1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

${btoa("<p>\u00dcn\u00efcode</p>".replace(/./g, (c) => unescape(encodeURIComponent(c))))}
--b1
Content-Type: application/pdf
Content-Transfer-Encoding: base64

${btoa("%PDF secretword")}
--b1--
`));
// 2: one ISO-8859-1 part, 8bit.
const MESSAGE_2 = bytes(
  CRLF(`From: bob@example.net
To: "Smith, John" <john@example.com>
Cc: carol@example.com
Bcc: dave@example.com
Subject: Invoice 42
Date: 1 Dec 2026 00:30:00 +1400
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: 8bit

Please pay, `),
  new Uint8Array([0x53, 0x74, 0x72, 0x61, 0xdf, 0x65]), // "Straße"
  "\r\n",
);
// 3: no Date, no Subject.
const MESSAGE_3 = encoder.encode(CRLF(`From: eve@example.org
Message-ID: <c@example.org>
In-Reply-To: <m1@example.org>

hello
`));

interface Counted extends SearchSource {
  readonly loads: { cache: number; raw: number };
}

/** A source as the session builds it: the cache is what the store returns after JSON. */
function source(seq: number, raw: Uint8Array, info: Omit<MessageInfo, "messageId">): Counted {
  const { envelope, summary, structure } = describe(raw);
  const stored = JSON.stringify({ envelope, summary });
  const storedStructure = JSON.stringify(structure);
  const loads = { cache: 0, raw: 0 };
  return {
    seq,
    info: { ...info, messageId: seq },
    loads,
    cache(): Promise<MessageCache> {
      loads.cache++;
      return Promise.resolve({ ...JSON.parse(stored), structure: JSON.parse(storedStructure) });
    },
    raw(): Promise<Uint8Array> {
      loads.raw++;
      return Promise.resolve(raw);
    },
  };
}

function mailbox(): Counted[] {
  return [
    source(1, MESSAGE_1, {
      uid: 10,
      flags: ["$Forwarded", "\\Answered", "\\Seen"],
      modseq: 5,
      size: 1000,
      internalDate: new Date(Date.UTC(2026, 10, 5, 23, 59, 59)),
    }),
    source(2, MESSAGE_2, {
      uid: 20,
      flags: ["$Junk", "\\Flagged"],
      modseq: 9,
      size: 2000,
      internalDate: new Date(Date.UTC(2026, 10, 6, 0, 0, 0)),
    }),
    source(3, MESSAGE_3, {
      uid: 30,
      flags: [],
      modseq: 12,
      size: 3000,
      internalDate: new Date(Date.UTC(2026, 10, 7, 12, 0, 0)),
    }),
  ];
}

const CONTEXT: SearchContext = { maxSeq: 3, maxUid: 30, saved: [10, 30] };

/** The criteria of `SEARCH <text>`, parsed as the session gets them. */
function keys(text: string): SearchKey {
  const { command } = parseCommand(encoder.encode(`a SEARCH ${text}\r\n`));
  assert(command.name === "SEARCH");
  return command.search;
}

async function search(text: string, messages = mailbox()): Promise<number[]> {
  const key = keys(text);
  const found: number[] = [];
  for (const m of messages) if (await matches(key, m, CONTEXT)) found.push(m.seq);
  return found;
}

const TABLE: [string, number[]][] = [
  ["ALL", [1, 2, 3]],
  // flags and keywords (keywords case-insensitively)
  ["SEEN", [1]],
  ["UNSEEN", [2, 3]],
  ["ANSWERED", [1]],
  ["UNANSWERED", [2, 3]],
  ["FLAGGED", [2]],
  ["UNFLAGGED", [1, 3]],
  ["DELETED", []],
  ["UNDELETED", [1, 2, 3]],
  ["DRAFT", []],
  ["KEYWORD $forwarded", [1]],
  ["UNKEYWORD $Junk", [1, 3]],
  // no \Recent in Fumi: RECENT and NEW match nothing, OLD everything
  ["RECENT", []],
  ["NEW", []],
  ["OLD", [1, 2, 3]],
  // sizes
  ["LARGER 2000", [3]],
  ["SMALLER 2000", [1]],
  ["LARGER 999", [1, 2, 3]],
  // internal date by UTC day
  ["BEFORE 6-Nov-2026", [1]],
  ["ON 5-Nov-2026", [1]],
  ["ON 6-Nov-2026", [2]],
  ["SINCE 6-Nov-2026", [2, 3]],
  ['SINCE "7-Nov-2026"', [3]],
  // Date: header by the day written (1 is 25 Nov in UTC, 2 is 30 Nov); 3 has no Date
  ["SENTON 24-Nov-2026", [1]],
  ["SENTON 25-Nov-2026", []],
  ["SENTBEFORE 25-Nov-2026", [1]],
  ["SENTSINCE 1-Dec-2026", [2]],
  ["SENTON 30-Nov-2026", []],
  ["SENTSINCE 1-Jan-1970", [1, 2]],
  // addresses: decoded names and addresses
  ['FROM "jörg"', [1]],
  ["FROM JOERG@EXAMPLE", [1]],
  ["FROM bob", [2]],
  ['TO "smith, john"', [2]],
  ["TO ann", [1]],
  ["CC carol", [2]],
  ["BCC dave", [2]],
  ["BCC carol", []],
  // subject, decoded and case-folded
  ['SUBJECT "café"', [1]],
  ['SUBJECT "CAFÉ MENU"', [1]],
  ["SUBJECT invoice", [2]],
  // HEADER: envelope fields and others; "" is presence
  ["HEADER Message-ID <c@example.org>", [3]],
  ["HEADER in-reply-to m1@", [3]],
  ['HEADER Subject ""', [1, 2]],
  ['HEADER X-Mailer ""', [1]],
  ["HEADER x-mailer MUTT", [1]],
  ["HEADER Subject =?utf-8?q?Caf", [1]],
  ['HEADER Subject "Café"', [1]],
  // BODY: text parts decoded (QP soft break, base64, ISO-8859-1); not the PDF, not headers
  ['BODY "café au lait"', [1]],
  ['BODY "ünïcode"', [1]],
  ["BODY secretword", []],
  ['BODY "straße"', [2]],
  ["BODY STRASSE", [2]],
  ["BODY menu", []],
  // TEXT: headers and body
  ['TEXT "café menu"', [1]],
  ['TEXT "x-mailer: mutt"', [1]],
  ["TEXT hello", [3]],
  ["TEXT lait", [1]],
  // sequence numbers, UIDs, the saved result, modseq
  ["2", [2]],
  ["2:*", [2, 3]],
  ["*", [3]],
  ["3:1", [1, 2, 3]],
  ["UID 20:*", [2, 3]],
  ["UID 25", []],
  ["UID 31:*", [3]],
  ["$", [1, 3]],
  ["UID $", [1, 3]],
  ["MODSEQ 9", [2, 3]],
  ['MODSEQ "/flags/\\\\seen" all 10', [3]],
  ["MODSEQ 0", [1, 2, 3]],
  // boolean structure
  ["NOT SEEN", [2, 3]],
  ["OR SEEN FLAGGED", [1, 2]],
  ["SEEN ANSWERED", [1]],
  ["(SEEN FLAGGED)", []],
  ['OR (FROM bob) (SUBJECT "café")', [1, 2]],
  ["NOT OR 1 2", [3]],
  ["UNSEEN NOT BODY hello", [2]],
];

Deno.test("SEARCH keys × messages", async () => {
  for (const [text, want] of TABLE) assertEquals(await search(text), want, text);
});

Deno.test("SEARCH loads only what a key needs, cheap keys first", async () => {
  let messages = mailbox();
  await search("OR SEEN LARGER 10 UID 1:* MODSEQ 1 BEFORE 1-Jan-2030", messages);
  assertEquals(messages.map((m) => m.loads), [0, 0, 0].map(() => ({ cache: 0, raw: 0 })));
  messages = mailbox();
  await search("FROM bob SUBJECT x SENTON 1-Dec-2026", messages);
  assertEquals(messages.map((m) => m.loads.raw), [0, 0, 0]);
  assertEquals(messages.map((m) => m.loads.cache), [1, 1, 1]);
  messages = mailbox();
  // BODY is tested only where SEEN matched, and the message is read once for two keys
  await search("BODY lait SEEN TEXT menu", messages);
  assertEquals(messages.map((m) => m.loads.raw), [1, 0, 0]);
});

Deno.test("matchesLoaded answers with what is loaded, or says what is missing", async () => {
  const [first] = mailbox();
  const cache = await first!.cache();
  const raw = await first!.raw();
  const at = (c: MessageCache | null, r: Uint8Array | null) => ({
    seq: first!.seq,
    info: first!.info,
    cache: c,
    raw: r,
  });
  const test = (text: string, c: MessageCache | null, r: Uint8Array | null) =>
    matchesLoaded(keys(text), at(c, r), CONTEXT);
  assertEquals(test("SEEN", null, null), true);
  assertEquals(test("UNSEEN FROM nobody", null, null), false, "flags first: nothing needed");
  assertEquals(test("FROM nobody", null, null), { cache: true, raw: false });
  assertEquals(test("FROM nobody", cache, null), false);
  assertEquals(test("BODY lait", null, null), { cache: true, raw: true });
  assertEquals(test("BODY lait", cache, null), { cache: false, raw: true });
  assertEquals(test("BODY lait", null, raw), { cache: true, raw: false });
  assertEquals(test("BODY lait", cache, raw), true);
  assertEquals(test("HEADER X-Nothing x", cache, null), { cache: false, raw: true });
});

Deno.test("searchNeeds says what a key needs", () => {
  const table: [string, string][] = [
    ["ALL", "info"],
    ["SEEN UID 1:* LARGER 5 ON 1-Jan-2026 MODSEQ 3 1:*", "info"],
    ["FROM a", "cache"],
    ["SENTON 1-Jan-2026", "cache"],
    ["HEADER Message-ID x", "cache"],
    ["HEADER X-Spam x", "raw"],
    ["HEADER From x", "raw"],
    ["SEEN OR FROM a NOT BODY b", "raw"],
    ["TEXT a", "raw"],
    ["NOT SUBJECT a", "cache"],
  ];
  for (const [text, need] of table) assertEquals(searchNeeds(keys(text)), need, text);
});

Deno.test("searchResponse: SEARCH for IMAP4rev1, with MODSEQ after a MODSEQ search", () => {
  const base = { tag: "A282", uid: false, returnOptions: null, rev2: false };
  // RFC 9051 §7.3.4 example (RFC 3501 form)
  assertEquals(searchResponse({ ...base, results: [2, 84, 882] }), "* SEARCH 2 84 882\r\n");
  assertEquals(searchResponse({ ...base, results: [] }), "* SEARCH\r\n");
  // RFC 7162 §3.1.5: * SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)
  assertEquals(
    searchResponse({
      ...base,
      results: [2, 5, 6, 7, 11, 12, 18, 19, 20, 23],
      highestModseq: 917162500n,
    }),
    "* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n",
  );
  assertEquals(searchResponse({ ...base, results: [], highestModseq: 5 }), "* SEARCH\r\n");
});

Deno.test("searchResponse: ESEARCH for IMAP4rev2 and RETURN options", () => {
  const rev2 = { tag: "a1", uid: false, returnOptions: null, rev2: true };
  assertEquals(
    searchResponse({ ...rev2, results: [5, 2, 3] }),
    '* ESEARCH (TAG "a1") ALL 2:3,5\r\n',
  );
  assertEquals(
    searchResponse({ ...rev2, uid: true, results: [5, 2, 3] }),
    '* ESEARCH (TAG "a1") UID ALL 2:3,5\r\n',
  );
  assertEquals(searchResponse({ ...rev2, results: [] }), '* ESEARCH (TAG "a1")\r\n');
  assertEquals(
    searchResponse({
      tag: "a1",
      uid: true,
      returnOptions: ["ALL", "COUNT", "MAX", "MIN"],
      rev2: false,
      results: [9, 1, 2, 3],
    }),
    '* ESEARCH (TAG "a1") UID MIN 1 MAX 9 COUNT 4 ALL 1:3,9\r\n',
  );
  // RFC 9051 §6.4.4 examples
  const rfc = { uid: false, rev2: true };
  assertEquals(
    searchResponse({ ...rfc, tag: "A282", returnOptions: ["MIN", "COUNT"], results: [2, 10, 11] }),
    '* ESEARCH (TAG "A282") MIN 2 COUNT 3\r\n',
  );
  assertEquals(
    searchResponse({ ...rfc, tag: "A283", returnOptions: ["ALL"], results: [2, 10, 11] }),
    '* ESEARCH (TAG "A283") ALL 2,10:11\r\n',
  );
  // nothing found: COUNT 0, no MIN, MAX or ALL (RFC 4731 §3.1)
  assertEquals(
    searchResponse({
      ...rfc,
      tag: "t",
      returnOptions: ["MIN", "MAX", "COUNT", "ALL"],
      results: [],
    }),
    '* ESEARCH (TAG "t") COUNT 0\r\n',
  );
  // SAVE alone: no untagged response (RFC 5182 §2.4); with MIN, the MIN
  assertEquals(searchResponse({ ...rfc, tag: "t", returnOptions: ["SAVE"], results: [4] }), "");
  assertEquals(
    searchResponse({ ...rfc, tag: "t", returnOptions: ["SAVE", "MIN"], results: [7, 4] }),
    '* ESEARCH (TAG "t") MIN 4\r\n',
  );
  // RFC 7162 §3.1.5: MODSEQ as search-return-data
  assertEquals(
    searchResponse({ ...rfc, tag: "a", returnOptions: null, results: [1, 2], highestModseq: 7n }),
    '* ESEARCH (TAG "a") ALL 1:2 MODSEQ 7\r\n',
  );
  assertEquals(
    searchResponse({ ...rfc, tag: 'x"\\', returnOptions: ["COUNT"], results: [1] }),
    '* ESEARCH (TAG "x\\"\\\\") COUNT 1\r\n',
  );
});

Deno.test("savedResult keeps MIN and MAX alone, else everything", () => {
  assertEquals(savedResult([3, 1, 2], ["ALL"]), null);
  assertEquals(savedResult([3, 1, 2], ["SAVE"]), [3, 1, 2]);
  assertEquals(savedResult([3, 1, 2], ["SAVE", "MIN"]), [1]);
  assertEquals(savedResult([3, 1, 2], ["SAVE", "MIN", "MAX"]), [1, 3]);
  assertEquals(savedResult([3, 1, 2], ["SAVE", "MIN", "COUNT"]), [3, 1, 2]);
  assertEquals(savedResult([], ["SAVE", "MAX"]), []);
});
