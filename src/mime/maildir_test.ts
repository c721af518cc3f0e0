import { assertEquals } from "../../tests/assert.ts";
import {
  maildirFlags,
  maildirPlusPlusFolder,
  parseDovecotKeywords,
  parseMaildirName,
  toCrlf,
} from "./maildir.ts";

Deno.test("Maildir file names: flags, Dovecot sizes, delivery time", () => {
  assertEquals(parseMaildirName("1700000000.M123P45.host,S=1234,W=1260:2,FRSab"), {
    flags: "FRSab",
    size: 1234,
    virtualSize: 1260,
    time: new Date(1700000000 * 1000),
  });
  assertEquals(parseMaildirName("1700000000.M1P2.host"), {
    flags: "",
    size: null,
    virtualSize: null,
    time: new Date(1700000000 * 1000),
  });
  assertEquals(parseMaildirName("weird;2,S").flags, "S");
  assertEquals(parseMaildirName("weird!2,T").flags, "T");
  assertEquals(parseMaildirName("no-time:2,").time, null);
});

Deno.test("flag letters become IMAP flags; keyword letters by the keywords file", () => {
  const keywords = parseDovecotKeywords("0 $Label1\n1 project-x\n\n3 later\nbad line\n");
  assertEquals(keywords[0], "$Label1");
  assertEquals(keywords[1], "project-x");
  assertEquals(keywords[2], undefined);
  assertEquals(keywords[3], "later");
  assertEquals(maildirFlags("DFPRST", []), [
    "$Forwarded",
    "\\Answered",
    "\\Deleted",
    "\\Draft",
    "\\Flagged",
    "\\Seen",
  ]);
  assertEquals(maildirFlags("Sbcd", keywords), ["\\Seen", "later", "project-x"]);
  assertEquals(maildirFlags("", keywords), []);
});

Deno.test("Maildir++ folder names and line ends", () => {
  assertEquals(maildirPlusPlusFolder(".Sent"), ["Sent"]);
  assertEquals(maildirPlusPlusFolder(".Projects.2026"), ["Projects", "2026"]);
  assertEquals(maildirPlusPlusFolder("cur"), null);
  assertEquals(maildirPlusPlusFolder(".."), null);
  assertEquals(maildirPlusPlusFolder(".a..b"), null);
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  assertEquals(dec.decode(toCrlf(enc.encode("a\nb\r\nc\n"))), "a\r\nb\r\nc\r\n");
  const same = enc.encode("a\r\n");
  assertEquals(toCrlf(same), same);
});
