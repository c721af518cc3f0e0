import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../../tests/assert.ts";
import {
  continuation,
  formatCapabilities,
  formatResponseCode,
  isTag,
  MAX_TEXT_OCTETS,
  type ResponseCode,
  sanitizeText,
  type SimpleCode,
  tagged,
  untagged,
} from "./response.ts";

Deno.test("tagged writes the completion line (RFC 9051 §7.1)", () => {
  const cases: [string, string][] = [
    [tagged("a1", "OK", "NOOP completed"), "a1 OK NOOP completed\r\n"],
    [
      tagged("A142", "OK", "SELECT completed", "READ-WRITE"),
      "A142 OK [READ-WRITE] SELECT completed\r\n",
    ],
    [tagged("a2", "NO", "No such mailbox", "TRYCREATE"), "a2 NO [TRYCREATE] No such mailbox\r\n"],
    [tagged("x.y", "BAD", "Unknown command"), "x.y BAD Unknown command\r\n"],
    [tagged("t]1", "OK", "done"), "t]1 OK done\r\n"], // "]" is an ASTRING-CHAR
    [tagged("a3", "OK", "", "CLOSED"), "a3 OK [CLOSED] ok\r\n"], // RFC 3501 needs text
  ];
  for (const [line, expected] of cases) assertEquals(line, expected);
});

Deno.test("untagged writes status responses, BYE and PREAUTH (RFC 9051 §7.1)", () => {
  const cases: [string, string][] = [
    [untagged("OK", "IMAP4rev2 server ready"), "* OK IMAP4rev2 server ready\r\n"],
    [
      untagged("OK", "Predicted next UID", { code: "UIDNEXT", uid: 4392 }),
      "* OK [UIDNEXT 4392] Predicted next UID\r\n",
    ],
    [
      untagged("OK", "UIDs valid", { code: "UIDVALIDITY", uidValidity: 3857529045 }),
      "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
    ],
    [untagged("BYE", "Logging out"), "* BYE Logging out\r\n"],
    [untagged("PREAUTH", "Welcome"), "* PREAUTH Welcome\r\n"],
    [untagged("NO", "Disk is 98% full", "ALERT"), "* NO [ALERT] Disk is 98% full\r\n"],
    [untagged("BAD", "Too many errors"), "* BAD Too many errors\r\n"],
  ];
  for (const [line, expected] of cases) assertEquals(line, expected);
});

Deno.test("continuation keeps the space even without text (RFC 9051 §7.5)", () => {
  assertEquals(continuation(), "+ \r\n");
  assertEquals(continuation(""), "+ \r\n");
  assertEquals(continuation("Ready for literal data"), "+ Ready for literal data\r\n");
  assertEquals(continuation("PDw+"), "+ PDw+\r\n"); // a base64 SASL challenge
  assertEquals(continuation("x\r\n* OK y"), "+ x  * OK y\r\n");
});

Deno.test("response codes with arguments (RFC 9051 §7.1, RFC 4315, RFC 7162)", () => {
  const cases: [ResponseCode, string][] = [
    [
      {
        code: "CAPABILITY",
        capabilities: ["IMAP4rev2", "STARTTLS", "AUTH=PLAIN", "LOGINDISABLED"],
      },
      "CAPABILITY IMAP4rev2 STARTTLS AUTH=PLAIN LOGINDISABLED",
    ],
    [
      { code: "PERMANENTFLAGS", flags: ["\\Deleted", "\\Seen", "\\*"] },
      "PERMANENTFLAGS (\\Deleted \\Seen \\*)",
    ],
    [{ code: "PERMANENTFLAGS", flags: [] }, "PERMANENTFLAGS ()"],
    [{ code: "BADCHARSET" }, "BADCHARSET"],
    [{ code: "BADCHARSET", charsets: ["UTF-8", "US-ASCII"] }, "BADCHARSET (UTF-8 US-ASCII)"],
    [{ code: "UIDNEXT", uid: 1 }, "UIDNEXT 1"],
    [{ code: "UIDVALIDITY", uidValidity: 4294967295 }, "UIDVALIDITY 4294967295"],
    [{ code: "UNSEEN", seq: 12 }, "UNSEEN 12"],
    [{ code: "APPENDUID", uidValidity: 38505, uids: [3955] }, "APPENDUID 38505 3955"],
    [
      { code: "APPENDUID", uidValidity: 38505, uids: [3955, 3956, 3957] },
      "APPENDUID 38505 3955:3957",
    ],
    [
      {
        code: "COPYUID",
        uidValidity: 38505,
        source: [304, 319, 320],
        destination: [3956, 3957, 3958],
      },
      "COPYUID 38505 304,319:320 3956:3958", // the RFC 4315 §3 example
    ],
    [{ code: "HIGHESTMODSEQ", modseq: 715194045007 }, "HIGHESTMODSEQ 715194045007"],
    [{ code: "HIGHESTMODSEQ", modseq: 2n ** 63n - 1n }, "HIGHESTMODSEQ 9223372036854775807"],
    [{ code: "MODIFIED", set: [7, 9] }, "MODIFIED 7,9"], // the RFC 7162 §3.1.3 example
  ];
  for (const [code, expected] of cases) assertEquals(formatResponseCode(code), expected);
});

Deno.test("every simple response code is written as itself", () => {
  const codes: SimpleCode[] = [
    "ALERT",
    "ALREADYEXISTS",
    "AUTHENTICATIONFAILED",
    "AUTHORIZATIONFAILED",
    "CANNOT",
    "CLIENTBUG",
    "CLOSED",
    "CONTACTADMIN",
    "CORRUPTION",
    "EXPIRED",
    "EXPUNGEISSUED",
    "HASCHILDREN",
    "INUSE",
    "LIMIT",
    "NOMODSEQ",
    "NONEXISTENT",
    "NOPERM",
    "OVERQUOTA",
    "PARSE",
    "PRIVACYREQUIRED",
    "READ-ONLY",
    "READ-WRITE",
    "SERVERBUG",
    "TOOBIG",
    "TRYCREATE",
    "UIDNOTSTICKY",
    "UNAVAILABLE",
    "UNKNOWN-CTE",
  ];
  for (const code of codes) {
    assertEquals(formatResponseCode(code), code);
    assertEquals(tagged("t", "NO", "x", code), `t NO [${code}] x\r\n`);
  }
  assertThrows(() => formatResponseCode("BOGUS" as SimpleCode), RangeError, "BOGUS");
});

Deno.test("response codes refuse values their syntax cannot carry", () => {
  const bad: ResponseCode[] = [
    { code: "CAPABILITY", capabilities: ["IMAP4rev2", "two words"] },
    { code: "CAPABILITY", capabilities: ["X]"] },
    { code: "PERMANENTFLAGS", flags: ["a b"] },
    { code: "BADCHARSET", charsets: ["a)"] },
    { code: "UIDNEXT", uid: 0 },
    { code: "UIDVALIDITY", uidValidity: 4294967296 },
    { code: "UNSEEN", seq: 1.5 },
    { code: "APPENDUID", uidValidity: 1, uids: [] },
    { code: "COPYUID", uidValidity: 1, source: [1, 2], destination: [3] },
    { code: "HIGHESTMODSEQ", modseq: 0 },
    { code: "HIGHESTMODSEQ", modseq: 2n ** 63n },
    { code: "MODIFIED", set: [0] },
  ];
  for (const code of bad) assertThrows(() => formatResponseCode(code), RangeError);
  assertEquals(formatCapabilities([]), "CAPABILITY");
});

Deno.test("tags: ASTRING-CHARs but '+' (RFC 9051 §9); a bad tag is a programming error", () => {
  for (const tag of ["a1", "A.1", "t]", "x-y_z", "~"]) assert(isTag(tag), tag);
  for (const tag of ["", "+", "a+b", "a b", "a(", "a*", "a%", 'a"', "a\\", "a{", "é", "a\r\n"]) {
    assert(!isTag(tag), tag);
    assertThrows(() => tagged(tag, "BAD", "x"), RangeError);
  }
});

Deno.test("text cannot add lines or fake a response code", () => {
  assertEquals(
    tagged("a", "NO", "bad\r\na OK [ALERT] forged\0\x7f"),
    "a NO bad  a OK [ALERT] forged  \r\n",
  );
  assertEquals(untagged("OK", "[ALERT] forged"), "* OK  [ALERT] forged\r\n");
  assertEquals(untagged("OK", "[x]", "ALERT"), "* OK [ALERT] [x]\r\n");
  assertEquals(untagged("OK", ""), "* OK ok\r\n"); // RFC 3501 text needs a character
  assertEquals(tagged("a", "BAD", " \r\n"), "a BAD bad\r\n");
  assertEquals(untagged("OK", "Grüße"), "* OK Grüße\r\n"); // RFC 9051 §9 text allows UTF-8
});

Deno.test("text is cut to MAX_TEXT_OCTETS at a character boundary", () => {
  const octets = (s: string) => new TextEncoder().encode(s).length;
  assertEquals(sanitizeText("x".repeat(5000)).length, MAX_TEXT_OCTETS);
  const wide = sanitizeText("€".repeat(1000));
  assert(octets(wide) <= MAX_TEXT_OCTETS && octets(wide) > MAX_TEXT_OCTETS - 3);
  assertEquals(sanitizeText("😀".repeat(300)), "😀".repeat(250));
});

Deno.test("every response is one line ending in CRLF, whatever the text (property)", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 2000 }), (text) => {
      for (const line of [tagged("a", "OK", text), untagged("BYE", text), continuation(text)]) {
        assert(line.endsWith("\r\n"));
        assertEquals(line.indexOf("\r"), line.length - 2);
        assertEquals(line.indexOf("\n"), line.length - 1);
        assert(new TextEncoder().encode(line).length <= MAX_TEXT_OCTETS + 20);
      }
    }),
    { numRuns: 500 },
  );
});
