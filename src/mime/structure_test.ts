import { type BodyPart, parseStructure } from "./structure.ts";
import { assert, assertEquals, bytes, checkTree, crlf, MIXED, slice } from "./_test_support.ts";

/** A compact picture of a tree: type, params and children, for table comparisons. */
type Shape = [string, ...unknown[]];
function shape(part: BodyPart): Shape {
  const out: Shape = [`${part.type}/${part.subtype}`];
  if (part.parts !== undefined) out.push(part.parts.map(shape));
  if (part.message !== undefined) out.push({ message: shape(part.message.body) });
  return out;
}

/** BODY[section] of a tree, for offset checks: "1.2", "3.HEADER", "1.MIME", "TEXT". */
function section(root: BodyPart, raw: Uint8Array, spec: string): string {
  let part = root;
  const path = spec.split(".");
  const last = /^\d+$/.test(path.at(-1)!) ? "" : path.pop()!;
  for (const n of path.map(Number)) {
    const inner = part.message?.body ?? part;
    const next = inner.parts?.[n - 1] ?? (n === 1 ? inner : undefined);
    assert(next !== undefined, `no part ${spec}`);
    part = next;
  }
  if (last === "MIME") return slice(raw, part.headerStart, part.bodyStart);
  if (last === "") return slice(raw, part.bodyStart, part.end);
  const msg = path.length === 0 ? part : part.message?.body;
  assert(msg !== undefined, `not a message: ${spec}`);
  if (last === "HEADER") return slice(raw, msg.headerStart, msg.bodyStart);
  return slice(raw, msg.bodyStart, msg.end); // TEXT
}

for (const [name, eol] of [["CRLF", crlf], ["LF", (s: string) => s]] as const) {
  Deno.test(`parseStructure reads a mixed message with ${name} line ends`, () => {
    const text = eol(MIXED);
    const nl = name === "CRLF" ? "\r\n" : "\n";
    const raw = bytes(text);
    const root = parseStructure(raw);
    checkTree(root, raw);
    assertEquals(shape(root), ["multipart/mixed", [
      ["multipart/alternative", [["text/plain"], ["text/html"]]],
      ["application/pdf"],
      ["message/rfc822", { message: ["text/plain"] }],
    ]]);
    const [alt, pdf, msg] = root.parts!;
    const [plain, html] = alt!.parts!;
    assertEquals(plain!.params, [["charset", "utf-8"]]);
    assertEquals(plain!.encoding, "quoted-printable");
    assertEquals(plain!.lines, 1);
    assertEquals(html!.encoding, "8bit");
    assertEquals(alt!.params, [["boundary", "inner-b"]]);
    assertEquals(pdf!.params, [["name", "agenda.pdf"]]);
    assertEquals(pdf!.disposition, { type: "attachment", params: [["filename", "été.pdf"]] });
    assertEquals(pdf!.encoding, "base64");
    assertEquals(pdf!.id, "<agenda@example.com>");
    assertEquals(pdf!.description, "Agenda");
    assertEquals(pdf!.language, ["fr", "en"]);
    assertEquals(pdf!.lines, null);
    assertEquals(msg!.lines, 8);
    assertEquals(msg!.message!.envelope.messageId, "<inner@example.org>");
    assertEquals(msg!.message!.envelope.from, [{
      name: "Bob Example",
      mailbox: "bob",
      host: "example.org",
    }]);
    assertEquals(msg!.message!.body.params, [["charset", "us-ascii"]]);
    assertEquals(msg!.message!.body.lines, 2);

    assert(section(root, raw, "HEADER").startsWith(`Return-Path: <alice@example.com>${nl}`));
    assert(section(root, raw, "HEADER").endsWith(`boundary="outer-b"${nl}${nl}`));
    assert(section(root, raw, "TEXT").startsWith("This is a multi-part"));
    assertEquals(section(root, raw, "1.1"), "R=C3=A9union demain =C3=A0 10h.");
    assertEquals(
      section(root, raw, "1.1.MIME"),
      eol(
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n",
      ),
    );
    assertEquals(section(root, raw, "1.2"), "<p>Réunion demain à 10h.</p>");
    assertEquals(section(root, raw, "2"), "JVBERi0xLjQKJcOkw7zDtsOfCg==");
    assertEquals(section(root, raw, "3.HEADER"), eol(MIXED_ATTACHED_HEADER));
    assertEquals(section(root, raw, "3.TEXT"), eol("See you there.\nBob\n"));
    assertEquals(section(root, raw, "3.1"), eol("See you there.\nBob\n"));
    assert(section(root, raw, "3").startsWith("From: Bob Example"));
    assert(section(root, raw, "1").startsWith(`--inner-b${nl}`));
    assert(section(root, raw, "1").endsWith(`--inner-b--${nl}`));
  });
}

const MIXED_ATTACHED_HEADER = `From: Bob Example <bob@example.org>
To: alice@example.com
Subject: =?iso-8859-1?q?Re:_R=E9union?=
Date: Mon, 1 Jan 2024 09:00:00 +0000
Message-ID: <inner@example.org>

`;

interface Case {
  name: string;
  input: string;
  shape: Shape;
  /** BODY[1], BODY[2], … of the top multipart (or BODY[TEXT] of a single part). */
  bodies: string[];
}

const cases: Case[] = [
  {
    name: "no Content-Type",
    input: "Subject: x\n\nhello\nworld",
    shape: ["text/plain"],
    bodies: ["hello\nworld"],
  },
  { name: "empty body", input: "Subject: x\n\n", shape: ["text/plain"], bodies: [""] },
  { name: "no header at all", input: "", shape: ["text/plain"], bodies: [""] },
  {
    name: "invalid Content-Type",
    input: "Content-Type: text\n\nx",
    shape: ["text/plain"],
    bodies: ["x"],
  },
  {
    name: "preamble, padded boundaries, epilogue",
    input:
      "Content-Type: multipart/mixed; boundary=b\n\npre\n--b \t\n\none\n--b\n\ntwo\n--b-- \nepilogue",
    shape: ["multipart/mixed", [["text/plain"], ["text/plain"]]],
    bodies: ["one", "two"],
  },
  {
    name: "missing close delimiter: the last part runs to the end",
    input: "Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n",
    shape: ["multipart/mixed", [["text/plain"], ["text/plain"]]],
    bodies: ["one", "two\n"],
  },
  {
    name: "a longer boundary-like line is content",
    input: "Content-Type: multipart/mixed; boundary=b\n\n--b\n\n--bx\n--b-x\n--b--",
    shape: ["multipart/mixed", [["text/plain"]]],
    bodies: ["--bx\n--b-x"],
  },
  {
    name: "multipart without boundary: one empty text/plain",
    input: "Content-Type: multipart/mixed\n\n--b\n\none\n",
    shape: ["multipart/mixed", [["text/plain"]]],
    bodies: [""],
  },
  {
    name: "boundary never seen: one empty text/plain",
    input: "Content-Type: multipart/mixed; boundary=zz\n\njust text\n",
    shape: ["multipart/mixed", [["text/plain"]]],
    bodies: [""],
  },
  {
    name: "empty parts and a part with no header",
    input:
      "Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\nbody only\n--b\nno blank line\n--b--\n",
    shape: ["multipart/mixed", [["text/plain"], ["text/plain"], ["text/plain"]]],
    bodies: ["", "body only", ""],
  },
  {
    name: "digest parts default to message/rfc822 (RFC 2046 §5.1.5)",
    input: "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nfirst\n--d\n" +
      "Content-Type: text/plain\n\nplain\n--d--\n",
    shape: ["multipart/digest", [["message/rfc822", { message: ["text/plain"] }], ["text/plain"]]],
    bodies: ["Subject: one\n\nfirst", "plain"],
  },
  {
    name: "message/global is parsed like message/rfc822 (RFC 6532 §3.5)",
    input: "Content-Type: message/global\n\nSubject: Grüße\nContent-Type: text/html\n\n<b>x</b>",
    shape: ["message/global", { message: ["text/html"] }],
    bodies: ["Subject: Grüße\nContent-Type: text/html\n\n<b>x</b>"],
  },
  {
    name: "an inner multipart without close delimiter ends at the outer boundary",
    input:
      "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/related; boundary=i\n\n" +
      "--i\n\ninner\n--o\n\nouter\n--o--",
    shape: ["multipart/mixed", [["multipart/related", [["text/plain"]]], ["text/plain"]]],
    bodies: ["--i\n\ninner", "outer"],
  },
  {
    name: "quoted boundary with special characters",
    input:
      'Content-Type: multipart/mixed; boundary="=_a b:c?"\n\n--=_a b:c?\r\n\r\nx\r\n--=_a b:c?--\r\n',
    shape: ["multipart/mixed", [["text/plain"]]],
    bodies: ["x"],
  },
];

Deno.test("parseStructure parses the table", () => {
  for (const c of cases) {
    const raw = bytes(c.input);
    const root = parseStructure(raw);
    checkTree(root, raw);
    assertEquals(shape(root), c.shape, c.name);
    const parts = root.parts ?? [root];
    assertEquals(parts.map((p) => slice(raw, p.bodyStart, p.end)), c.bodies, c.name);
  }
});

Deno.test("text parts get charset us-ascii by default (RFC 2046 §4.1.2)", () => {
  const html = parseStructure(bytes("Content-Type: text/html\n\n<p>"));
  assertEquals(html.params, [["charset", "us-ascii"]]);
  const latin = parseStructure(
    bytes("Content-Type: text/plain; CHARSET=iso-8859-1; format=flowed\n\n"),
  );
  assertEquals(latin.params, [["charset", "iso-8859-1"], ["format", "flowed"]]);
  const image = parseStructure(
    bytes("Content-Type: image/png\nContent-Transfer-Encoding: BASE64\n\niVBO"),
  );
  assertEquals([image.params, image.encoding, image.lines, image.size], [[], "base64", null, 4]);
});

Deno.test("lines count line feeds plus an unterminated last line", () => {
  for (
    const [body, lines] of [["", 0], ["a", 1], ["a\n", 1], ["a\r\nb", 2], ["\n\n", 2]] as const
  ) {
    assertEquals(parseStructure(bytes("\n" + body)).lines, lines, JSON.stringify(body));
  }
});
