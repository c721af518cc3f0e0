/**
 * Test support for the MIME tests: real-looking messages, byte helpers, and the two
 * assertions they need (the module has no dependencies, so none from std either).
 *
 * @module
 */

import type { BodyPart } from "./structure.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes text as UTF-8 bytes. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Turns the LF line ends of a template into CRLF. */
export function crlf(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}

/** Decodes `raw[from, to)` as UTF-8, to compare slices with expected text. */
export function slice(raw: Uint8Array, from: number, to: number): string {
  return decoder.decode(raw.subarray(from, to));
}

/** The attached message (part 3 of {@link MIXED}). */
export const ATTACHED = `From: Bob Example <bob@example.org>
To: alice@example.com
Subject: =?iso-8859-1?q?Re:_R=E9union?=
Date: Mon, 1 Jan 2024 09:00:00 +0000
Message-ID: <inner@example.org>

See you there.
Bob
`;

/**
 * multipart/mixed holding multipart/alternative (text and HTML), a PDF attachment with an
 * RFC 2231 file name, and an attached message/rfc822. Written with LF; use {@link crlf}.
 */
export const MIXED = `Return-Path: <alice@example.com>
From: =?UTF-8?B?QWxpY2Ugw4lsw6hyZQ==?= <alice@example.com>
To: "Doe, John" <john@example.net>,
 team: carol@example.net, dave@example.net;
Cc: eve@example.net (Eve Example)
Subject: =?UTF-8?Q?R=C3=A9union_de?=
 =?UTF-8?Q?_demain?=
Date: Tue, 2 Jan 2024 10:30:00 +0100
Message-ID: <outer@example.com>
In-Reply-To: <inner@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer-b"

This is a multi-part message in MIME format.
--outer-b
Content-Type: multipart/alternative;
 boundary=inner-b

--inner-b
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

R=C3=A9union demain =C3=A0 10h.
--inner-b
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

<p>Réunion demain à 10h.</p>
--inner-b--

--outer-b
Content-Type: application/pdf; name="agenda.pdf"
Content-Disposition: attachment;
 filename*0*=utf-8''%C3%A9t%C3%A9;
 filename*1=".pdf"
Content-Transfer-Encoding: base64
Content-ID: <agenda@example.com>
Content-Description: Agenda
Content-Language: fr, en

JVBERi0xLjQKJcOkw7zDtsOfCg==
--outer-b
Content-Type: message/rfc822

${ATTACHED}
--outer-b--
Epilogue text.
`;

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
  );
}

/** Throws when `actual` and `expected` differ structurally. */
export function assertEquals(actual: unknown, expected: unknown, message = ""): void {
  if (!deepEqual(actual, expected)) {
    throw new Error(
      `${message ? message + ": " : ""}values differ\n  actual:   ${
        JSON.stringify(actual)
      }\n  expected: ${JSON.stringify(expected)}`,
    );
  }
}

/** Throws when `condition` is false. */
export function assert(condition: boolean, message = "Assertion failed"): asserts condition {
  if (!condition) throw new Error(message);
}

/** Counts of a checked tree. */
export interface TreeStats {
  parts: number;
  depth: number;
}

/**
 * Checks the structural invariants of a parsed tree against its input and returns the
 * number of parts and the deepest level: offsets ordered and within the input, sizes
 * consistent, children ordered inside their parent's body, every multipart with a child.
 */
export function checkTree(part: BodyPart, raw: Uint8Array, depth = 0): TreeStats {
  const where = `${part.type}/${part.subtype} at ${part.headerStart}`;
  assert(
    0 <= part.headerStart && part.headerStart <= part.bodyStart && part.bodyStart <= part.end &&
      part.end <= raw.length,
    `offsets out of order: ${where} ${part.bodyStart} ${part.end}`,
  );
  assert(part.size === part.end - part.bodyStart, `size: ${where}`);
  assert(part.type === part.type.toLowerCase() && part.subtype === part.subtype.toLowerCase());
  assert(
    (part.type === "multipart") === (part.parts !== undefined),
    `multipart children: ${where}`,
  );
  if (part.type === "text") assert(part.lines !== null, `text lines: ${where}`);
  const stats: TreeStats = { parts: 1, depth };
  const add = (child: BodyPart): void => {
    const s = checkTree(child, raw, depth + 1);
    stats.parts += s.parts;
    stats.depth = Math.max(stats.depth, s.depth);
  };
  if (part.parts !== undefined) {
    assert(part.parts.length > 0, `empty multipart: ${where}`);
    let previousEnd = part.bodyStart;
    for (const child of part.parts) {
      assert(child.headerStart >= previousEnd && child.end <= part.end, `child outside: ${where}`);
      previousEnd = child.end;
      add(child);
    }
  }
  if (part.message !== undefined) {
    const body = part.message.body;
    assert(body.headerStart === part.bodyStart && body.end === part.end, `message: ${where}`);
    add(body);
  }
  return stats;
}
