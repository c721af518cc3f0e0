import { assert, assertEquals, assertRejects } from "../../../tests/assert.ts";
import { type FetchItem, parseCommand } from "../proto/mod.ts";
import { describe, type MessageCache, type MessageInfo } from "../../store/messages.ts";
import { fetchResponse, type FetchSource, impliesSeen, UnknownCteError } from "./fetch.ts";

const encoder = new TextEncoder();
/** Bytes as a string of code points 0-255 (TextDecoder's "latin1" is windows-1252). */
const octets = (bytes: Uint8Array) => String.fromCharCode(...bytes);
const CRLF = (text: string) => text.replace(/\n/g, "\r\n");

const HEADER = CRLF(`From: =?utf-8?q?J=C3=B6rg?= <joerg@example.org>
To: Ann <ann@example.com>, bob@example.net
Subject: =?utf-8?q?Caf=C3=A9?= menu
Date: Tue, 24 Nov 2026 23:30:00 -0500
Message-ID: <m1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

`);
const PREAMBLE = "Preamble.\r\n";
const PART1_MIME = CRLF(`Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

`);
const PART1 = CRLF(`Caf=C3=A9 au lait =E2=82=AC3=
 today`);
const PART2_MIME = CRLF(`Content-Type: application/octet-stream; name="data.bin"
Content-Transfer-Encoding: base64

`);
const PART2 = "AAEC/w==";
const PART3_MIME = "Content-Type: message/rfc822\r\n\r\n";
const PART3 = CRLF(`From: inner@example.org
Subject: Inner

Inner body`);
const PART4_MIME = "Content-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\n";
const PART4 = "begin 644 x";
const BODY = `${PREAMBLE}--b1\r\n${PART1_MIME}${PART1}\r\n--b1\r\n${PART2_MIME}${PART2}\r\n` +
  `--b1\r\n${PART3_MIME}${PART3}\r\n--b1\r\n${PART4_MIME}${PART4}\r\n--b1--\r\n`;
const MESSAGE = HEADER + BODY;

interface Counted extends FetchSource {
  readonly loads: { cache: number; raw: number };
}

/** A source as the session builds it: the cache is what the store returns after JSON. */
function source(text: string, info: Partial<MessageInfo> = {}): Counted {
  const raw = encoder.encode(text);
  const { envelope, summary, structure } = describe(raw);
  const stored = JSON.stringify({ envelope, summary });
  const storedStructure = JSON.stringify(structure);
  const loads = { cache: 0, raw: 0 };
  return {
    seq: 3,
    info: {
      uid: 42,
      messageId: 7,
      flags: ["\\Answered", "$Forwarded"],
      modseq: 917,
      size: raw.length,
      internalDate: new Date(Date.UTC(2026, 10, 5, 6, 7, 8)),
      ...info,
    },
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

/** The items of `FETCH 1 <text>`, parsed as the session gets them. */
function items(text: string): readonly FetchItem[] {
  const { command } = parseCommand(encoder.encode(`a FETCH 1 ${text}\r\n`));
  assert(command.name === "FETCH");
  return command.items;
}

const REV2 = { utf8: true, uid: false, modseq: false, rev2: true };
const REV1 = { utf8: false, uid: false, modseq: false, rev2: false };

async function fetch(
  text: string,
  options: Parameters<typeof fetchResponse>[2] = REV1,
  src: FetchSource = source(MESSAGE),
): Promise<string> {
  return octets(await fetchResponse(src, items(text), options));
}

function literal(content: string): string {
  return `{${encoder.encode(content).length}}\r\n${content}`;
}

Deno.test("FETCH answers the store's items without loading the message", async () => {
  const src = source(MESSAGE);
  assertEquals(
    await fetch("(FLAGS INTERNALDATE RFC822.SIZE UID MODSEQ)", REV1, src),
    `* 3 FETCH (FLAGS (\\Answered $Forwarded) INTERNALDATE " 5-Nov-2026 06:07:08 +0000" ` +
      `RFC822.SIZE ${MESSAGE.length} UID 42 MODSEQ (917))\r\n`,
  );
  assertEquals(src.loads, { cache: 0, raw: 0 });
});

Deno.test("FETCH ENVELOPE, BODY and BODYSTRUCTURE come from the cache alone", async () => {
  const src = source(MESSAGE);
  const envelope = `ENVELOPE ("Tue, 24 Nov 2026 23:30:00 -0500" "=?utf-8?q?Caf=C3=A9?= menu" ` +
    `(("=?utf-8?q?J=C3=B6rg?=" NIL "joerg" "example.org")) ` +
    `(("=?utf-8?q?J=C3=B6rg?=" NIL "joerg" "example.org")) ` +
    `(("=?utf-8?q?J=C3=B6rg?=" NIL "joerg" "example.org")) ` +
    `(("Ann" NIL "ann" "example.com")(NIL NIL "bob" "example.net")) NIL NIL NIL ` +
    `"<m1@example.org>")`;
  const text1 = `("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" ${PART1.length} 2`;
  const data2 = `("APPLICATION" "OCTET-STREAM" ("NAME" "data.bin") NIL NIL "BASE64" 8`;
  const innerEnvelope = `(NIL "Inner" ((NIL NIL "inner" "example.org")) ` +
    `((NIL NIL "inner" "example.org")) ((NIL NIL "inner" "example.org")) NIL NIL NIL NIL NIL)`;
  const inner = `("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 10 1`;
  const message3 = `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" ${PART3.length} ${innerEnvelope} `;
  const text4 = `("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "X-UUENCODE" ${PART4.length} 1`;
  assertEquals(
    await fetch("(ENVELOPE BODY)", REV1, src),
    `* 3 FETCH (${envelope} BODY (${text1})${data2})${message3}${inner}) 4)${text4}) "MIXED"))\r\n`,
  );
  assertEquals(
    await fetch("BODYSTRUCTURE", REV1, src),
    `* 3 FETCH (BODYSTRUCTURE (${text1} NIL NIL NIL NIL)${data2} NIL NIL NIL NIL)` +
      `${message3}${inner} NIL NIL NIL NIL) 4 NIL NIL NIL NIL)${text4} NIL NIL NIL NIL) ` +
      `"MIXED" ("BOUNDARY" "b1") NIL NIL NIL))\r\n`,
  );
  assertEquals(src.loads, { cache: 2, raw: 0 });
});

Deno.test("FETCH BODY[section] returns each kind of section", async () => {
  const cases: [string, string, string][] = [
    ["BODY[]", "BODY[]", MESSAGE],
    ["BODY[HEADER]", "BODY[HEADER]", HEADER],
    ["BODY[TEXT]", "BODY[TEXT]", BODY],
    ["BODY[1]", "BODY[1]", PART1],
    ["BODY[1.MIME]", "BODY[1.MIME]", PART1_MIME],
    ["BODY[2]", "BODY[2]", PART2],
    ["BODY[3]", "BODY[3]", PART3],
    ["BODY[3.HEADER]", "BODY[3.HEADER]", "From: inner@example.org\r\nSubject: Inner\r\n\r\n"],
    ["BODY[3.TEXT]", "BODY[3.TEXT]", "Inner body"],
    ["BODY[3.1]", "BODY[3.1]", "Inner body"],
    [
      "BODY[HEADER.FIELDS (subject TO)]",
      "BODY[HEADER.FIELDS (subject TO)]",
      "To: Ann <ann@example.com>, bob@example.net\r\n" +
      "Subject: =?utf-8?q?Caf=C3=A9?= menu\r\n\r\n",
    ],
    [
      "BODY[HEADER.FIELDS.NOT (From To Subject Date Message-ID Content-Type)]",
      "BODY[HEADER.FIELDS.NOT (From To Subject Date Message-ID Content-Type)]",
      "MIME-Version: 1.0\r\n\r\n",
    ],
  ];
  for (const [ask, name, content] of cases) {
    const want = content.length > 0 && !content.includes("\n") && content.length < 100
      ? `"${content}"`
      : literal(content);
    assertEquals(await fetch(ask), `* 3 FETCH (${name} ${want})\r\n`, ask);
  }
});

Deno.test("FETCH of a section that does not exist answers the empty string", async () => {
  for (const ask of ["BODY[9]", "BODY[1.HEADER]", "BODY[2.1]", "BODY[5.MIME]", "BINARY[7]"]) {
    assertEquals(await fetch(ask), `* 3 FETCH (${ask} "")\r\n`, ask);
  }
  assertEquals(await fetch("BODY[9]<0.10>"), '* 3 FETCH (BODY[9]<0> "")\r\n');
  assertEquals(await fetch("BINARY.SIZE[8]"), "* 3 FETCH (BINARY.SIZE[8] 0)\r\n");
});

Deno.test("FETCH BODY.PEEK and partial fetches name the origin, never PEEK", async () => {
  assertEquals(await fetch("BODY.PEEK[]<0.4>"), '* 3 FETCH (BODY[]<0> "From")\r\n');
  assertEquals(await fetch("BODY.PEEK[1]<10.7>"), '* 3 FETCH (BODY[1]<10> "au lait")\r\n');
  assertEquals(await fetch("BODY[1]<1000.10>"), '* 3 FETCH (BODY[1]<1000> "")\r\n');
  const tail = PART1.slice(20);
  assertEquals(await fetch("BODY.PEEK[1]<20.100>"), `* 3 FETCH (BODY[1]<20> ${literal(tail)})\r\n`);
  assertEquals(await fetch("BODY.PEEK[TEXT]"), `* 3 FETCH (BODY[TEXT] ${literal(BODY)})\r\n`);
});

Deno.test("FETCH RFC822, RFC822.HEADER and RFC822.TEXT keep their names", async () => {
  assertEquals(await fetch("RFC822"), `* 3 FETCH (RFC822 ${literal(MESSAGE)})\r\n`);
  assertEquals(
    await fetch("(RFC822.HEADER RFC822.TEXT)"),
    `* 3 FETCH (RFC822.HEADER ${literal(HEADER)} RFC822.TEXT ${literal(BODY)})\r\n`,
  );
});

Deno.test("FETCH BINARY decodes base64 and quoted-printable parts", async () => {
  // base64 00 01 02 ff: a NUL, so a literal8 (RFC 9051 §4.3.1)
  assertEquals(await fetch("BINARY[2]"), "* 3 FETCH (BINARY[2] ~{4}\r\n\x00\x01\x02\xff)\r\n");
  assertEquals(await fetch("BINARY.PEEK[2]<1.2>"), "* 3 FETCH (BINARY[2] {2}\r\n\x01\x02)\r\n");
  // quoted-printable: "Café au lait €3 today" (soft break removed); content is a literal
  const decoded = "Caf\xc3\xa9 au lait \xe2\x82\xac3 today";
  assertEquals(
    await fetch("BINARY.PEEK[1]"),
    `* 3 FETCH (BINARY[1] {${decoded.length}}\r\n${decoded})\r\n`,
  );
  assertEquals(await fetch("BINARY[3.1]"), `* 3 FETCH (BINARY[3.1] ${literal("Inner body")})\r\n`);
  assertEquals(await fetch("BINARY[]"), `* 3 FETCH (BINARY[] ${literal(MESSAGE)})\r\n`);
  assertEquals(
    await fetch("(BINARY.SIZE[1] BINARY.SIZE[2] BINARY.SIZE[3] BINARY.SIZE[])"),
    `* 3 FETCH (BINARY.SIZE[1] ${decoded.length} BINARY.SIZE[2] 4 ` +
      `BINARY.SIZE[3] ${PART3.length} BINARY.SIZE[] ${MESSAGE.length})\r\n`,
  );
});

Deno.test("FETCH BINARY.SIZE of a 7bit part needs no decryption of the message", async () => {
  const src = source(MESSAGE);
  await fetch("BINARY.SIZE[3]", REV1, src);
  assertEquals(src.loads, { cache: 1, raw: 0 });
  await fetch("BINARY.SIZE[2]", REV1, src);
  assertEquals(src.loads, { cache: 2, raw: 1 });
});

Deno.test("FETCH BINARY of an unknown transfer encoding throws UnknownCteError", async () => {
  for (const ask of ["BINARY[4]", "BINARY.PEEK[4]<0.1>", "BINARY.SIZE[4]"]) {
    const error = await assertRejects(() => fetch(`(UID ${ask})`), UnknownCteError);
    assertEquals(error.encoding, "x-uuencode");
  }
  // BODY[4] is not decoded, so any encoding is fine
  assertEquals(await fetch("BODY.PEEK[4]"), `* 3 FETCH (BODY[4] "${PART4}")\r\n`);
});

Deno.test("FETCH decrypts the message once for all sections of a response", async () => {
  const src = source(MESSAGE);
  await fetch("(BODY.PEEK[1] BODY.PEEK[2] RFC822.HEADER BINARY.PEEK[2] BODY[])", REV1, src);
  assertEquals(src.loads, { cache: 1, raw: 1 });
  const whole = source(MESSAGE);
  await fetch("(RFC822 BODY.PEEK[])", REV1, whole);
  assertEquals(whole.loads, { cache: 0, raw: 1 }); // the whole message needs no MIME tree
});

Deno.test("UID FETCH adds UID first, CONDSTORE adds MODSEQ, \\Seen adds FLAGS", async () => {
  // RFC 7162 §3.1.4.1: * 1 FETCH (UID 4 MODSEQ (65402) FLAGS (\Seen))
  const src = source(MESSAGE, { uid: 4, modseq: 65402, flags: ["\\Seen"] });
  assertEquals(
    await fetch("FLAGS", { ...REV1, uid: true, modseq: true }, src),
    "* 3 FETCH (UID 4 MODSEQ (65402) FLAGS (\\Seen))\r\n",
  );
  assertEquals(
    await fetch("(MODSEQ UID)", { ...REV1, uid: true, modseq: true }, src),
    "* 3 FETCH (UID 4 MODSEQ (65402))\r\n",
  );
  const unseen = source(MESSAGE, { flags: ["$Junk"] });
  assertEquals(
    await fetch("BODY[1]<0.4>", { ...REV2, flagsChanged: true }, unseen),
    '* 3 FETCH (BODY[1]<0> "Caf=" FLAGS ($Junk \\Seen))\r\n',
  );
  assertEquals(
    await fetch("(FLAGS BODY[1]<0.4>)", { ...REV2, flagsChanged: true }, unseen),
    '* 3 FETCH (FLAGS ($Junk \\Seen) BODY[1]<0> "Caf=")\r\n',
  );
  assertEquals(
    await fetch("(UID FLAGS UID FLAGS)", { ...REV2, uid: true }, unseen),
    "* 3 FETCH (UID 42 FLAGS ($Junk))\r\n",
  );
});

Deno.test("impliesSeen: only non-PEEK sections, RFC822 and RFC822.TEXT set \\Seen", () => {
  const table: [string, boolean][] = [
    ["(FLAGS UID ENVELOPE BODYSTRUCTURE RFC822.SIZE INTERNALDATE)", false],
    ["ALL", false],
    ["FULL", false],
    ["BODY", false],
    ["RFC822.HEADER", false],
    ["BODY.PEEK[]", false],
    ["BINARY.PEEK[1]", false],
    ["BINARY.SIZE[1]", false],
    ["BODY[]", true],
    ["BODY[HEADER]", true],
    ["(FLAGS BODY[1]<0.10>)", true],
    ["BINARY[1]", true],
    ["RFC822", true],
    ["RFC822.TEXT", true],
  ];
  for (const [ask, seen] of table) assertEquals(impliesSeen(items(ask)), seen, ask);
});

Deno.test("FETCH writes UTF-8 headers as literals for rev1, quoted for UTF-8 clients", async () => {
  const text = CRLF("Subject: Grüße\nFrom: a@example.org\n\nhi");
  const src = source(text);
  const subject = "Gr\xc3\xbc\xc3\x9fe";
  assertEquals(
    await fetch("ENVELOPE", REV1, src),
    `* 3 FETCH (ENVELOPE (NIL {${subject.length}}\r\n${subject} ((NIL NIL "a" "example.org")) ` +
      `((NIL NIL "a" "example.org")) ((NIL NIL "a" "example.org")) NIL NIL NIL NIL NIL))\r\n`,
  );
  assertEquals(
    await fetch("ENVELOPE", REV2, src),
    `* 3 FETCH (ENVELOPE (NIL "${subject}" ((NIL NIL "a" "example.org")) ` +
      `((NIL NIL "a" "example.org")) ((NIL NIL "a" "example.org")) NIL NIL NIL NIL NIL))\r\n`,
  );
  // a single-part message: part 1 is its body, BINARY[1] decodes it
  assertEquals(
    await fetch("(BODY[1] BINARY[1])", REV1, src),
    `* 3 FETCH (BODY[1] "hi" BINARY[1] {2}\r\nhi)\r\n`,
  );
});
