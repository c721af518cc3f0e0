// The tokens of RFC 9051 §4 and §9, through commands that carry them (LOGIN takes two
// astrings, STORE flags); per-command grammar is tested beside each command.
import { assert, assertEquals } from "../../../tests/assert.ts";
import { ImapParseError, parseCommand } from "./command.ts";
import {
  assertCommands,
  assertRefused,
  bytes,
  command,
  literal,
  refusal,
} from "./_parse_test_support.ts";

const login = (user: string, password: string) => ({ name: "LOGIN", user, password }) as const;

Deno.test("strings: atoms, quoted strings with escapes, literals of every form", () => {
  assertCommands([
    ["a LOGIN alice secret", login("alice", "secret")],
    ['a LOGIN "alice" "se cr\\"et\\\\"', login("alice", 'se cr"et\\')],
    ['a LOGIN "" ""', login("", "")],
    ["a LOGIN {5}\r\nalice {6}\r\nsecret", login("alice", "secret")],
    ["a LOGIN {5+}\r\nalice {6-}\r\nsecret", login("alice", "secret")], // RFC 7888
    ["a LOGIN alice {0}\r\n", login("alice", "")], // empty literal, no final CRLF
    ["a LOGIN alice {0}\r\n\r\n", login("alice", "")], // empty literal, then CRLF
    ["a LOGIN {005}\r\nalice x", login("alice", "x")], // leading zeros in the size
    // A literal carries any octet but NUL: spaces, quotes, CRLF, controls, braces.
    [`a LOGIN alice ${literal('p w"\r\n\t\x01{3}')}`, login("alice", 'p w"\r\n\t\x01{3}')],
    // A literal's last octets may look like the command's CRLF.
    [`a LOGIN alice ${literal("pw\r\n")}`, login("alice", "pw\r\n")],
    [`a LOGIN alice ${literal("pw\r\n")}\r\n`, login("alice", "pw\r\n")],
    ['a LOGIN "jürgen" "pässwörd"', login("jürgen", "pässwörd")], // RFC 9051: UTF-8 in quoted
    ["a LOGIN jürgen pässwörd", login("jürgen", "pässwörd")], // leniency: UTF-8 in astrings
    [`a LOGIN ${literal("日本語")} x`, login("日本語", "x")],
    ["a LOGIN a]b c", login("a]b", "c")], // ASTRING-CHAR includes "]"
    ["a LOGIN a!#$&'+,-./:;<=>?@[^_`|}~ c", login("a!#$&'+,-./:;<=>?@[^_`|}~", "c")],
    ["a LOGIN NIL NIL", login("NIL", "NIL")], // an astring, not nil
  ]);
});

Deno.test("strings: refusals", () => {
  assertRefused([
    ['a LOGIN "a\tb" c', "Control character in a quoted string"],
    ['a LOGIN "a\x01b" c', "Control character"],
    ['a LOGIN "a\x7fb" c', "Control character"],
    ['a LOGIN "a\x00b" c', "Control character"],
    ['a LOGIN "a\rb" c', "Line break in a quoted string"],
    ['a LOGIN "a\r\nb" c', "Line break in a quoted string"],
    ['a LOGIN "abc', "quoted string is not closed"],
    ['a LOGIN "a\\xb" c', "may only escape"],
    ['a LOGIN "a\\', "may only escape"],
    ["a LOGIN {5}\r\nabc", "shorter than announced"],
    ["a LOGIN alice {7}\r\nsecret", "shorter than announced"],
    ["a LOGIN {3}\r\na\x00b c", "NUL in a literal"],
    ["a LOGIN {3}abc c", "Expected CRLF after a literal's size"],
    ["a LOGIN {3}\nabc c", "Expected CRLF"],
    ["a LOGIN {3} \r\nabc c", "Expected CRLF"],
    ["a LOGIN {}\r\n c", "literal's size"],
    ["a LOGIN {+}\r\n c", "literal's size"],
    ["a LOGIN {3+-}\r\nabc c", '"}"'],
    ["a LOGIN {-3}\r\nabc c", "literal's size"],
    ["a LOGIN {3 c", '"}"'],
    ["a LOGIN ~{3}\r\nabc c", "allowed only in APPEND"],
    ["a LOGIN {4294967296}\r\nabc c", "too large"],
    ["a LOGIN {99999999999999999999}\r\nabc c", "too large"],
    ["a LOGIN a(b c", "Expected one space before the password"],
    ["a LOGIN al%ce secret", "Expected one space before the password"],
    ["a LOGIN alice  secret", "Expected password"],
    ["a LOGIN alice", "Missing password"],
    ["a LOGIN alice ", "Missing password"],
    ["a LOGIN", "Missing user name"],
    ["a LOGIN alice secret extra", 'Unexpected " extra" after the arguments'],
    ["a LOGIN (alice) secret", "Expected user name"],
  ]);
  assertEquals(refusal("a LOGIN {4294967296}\r\nabc c").code, "TOOBIG");
  // Not UTF-8: a lone continuation octet, an overlong form, a surrogate.
  for (const octets of [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe6, 0x97]]) {
    const error = refusal(
      bytes("a LOGIN {", `${octets.length}`, "}\r\n", new Uint8Array(octets), " x"),
    );
    assertEquals(error.text, "The user name is not valid UTF-8");
    assertEquals(refusal(bytes('a LOGIN "', new Uint8Array(octets), '" x')).tag, "a");
    assertEquals(refusal(bytes("a LOGIN x", new Uint8Array(octets), " x")).tag, "a");
  }
});

Deno.test("the end of a command: optional CRLF, trailing spaces, nothing after", () => {
  assertCommands([
    ["a NOOP", { name: "NOOP" }],
    ["a NOOP\r\n", { name: "NOOP" }],
    ["a NOOP   ", { name: "NOOP" }], // leniency: trailing spaces
    ["a NOOP  \r\n", { name: "NOOP" }],
    ["a noop", { name: "NOOP" }], // command names are case-insensitive
  ]);
  assertRefused([
    ["a NOOP\r\n\r\n", "Unexpected"],
    ["a NOOP\n", "Unexpected"], // a bare LF is not a line end
    ["a NOOP\r", "Unexpected"],
    ["a NOOP\r\nb NOOP", "Unexpected"], // a second command in the same buffer
    ["a NOOP x", "Unexpected"],
    ["a NOOP\tx", "Unexpected"],
    ["a NOOP\x00", "Unexpected"],
  ]);
});

Deno.test("tags: any ASTRING-CHAR but +; no tag means an untagged BAD", () => {
  const tags = ["a", "A001", "a]1", "x.y-z_1", "1", "!#$&'", "~tag"];
  for (const tag of tags) assertEquals(parseCommand(bytes(`${tag} NOOP`)).tag, tag, tag);
  const untagged = [
    "",
    " NOOP",
    "+ NOOP",
    "a+b NOOP",
    "* NOOP",
    '"a" NOOP',
    "{5} NOOP",
    "(a) NOOP",
    "a%b NOOP",
    "a\\b NOOP",
    "\x01 NOOP",
    "\r\n",
    "täg NOOP",
  ];
  for (const line of untagged) assertEquals(refusal(line).tag, null, JSON.stringify(line));
  assertEquals(refusal("a").text, "Missing command");
  assertEquals(refusal("a").tag, "a");
  assertEquals(refusal("a\r\n").tag, "a");
  assertRefused([
    ["a ", "Expected command name"],
    ["a (NOOP)", "Expected command name"],
    ["a  NOOP", "Expected command name"],
    ["a UID", "Missing command after UID"],
    ["a UID NOOP", 'UID cannot precede "NOOP"'],
    ["a UID UID FETCH 1 FLAGS", "UID cannot precede"],
  ]);
});

Deno.test("unknown commands come back as UNKNOWN, arguments unread", () => {
  assertCommands([
    ["a XYZZY", { name: "UNKNOWN", verb: "XYZZY" }],
    ["a x-vendor-thing (((( {5}\r\n", { name: "UNKNOWN", verb: "X-VENDOR-THING" }],
    ['a SETQUOTA "" (STORAGE 512)', { name: "UNKNOWN", verb: "SETQUOTA" }],
    ["a DONE", { name: "UNKNOWN", verb: "DONE" }],
    ["a MULTISEARCH x", { name: "UNKNOWN", verb: "MULTISEARCH" }],
    [`a FOO ${"(".repeat(10_000)}`, { name: "UNKNOWN", verb: "FOO" }],
  ]);
});

Deno.test("flags: system flags in canonical case, keywords and extensions as written", () => {
  const store = command("a STORE 1 FLAGS (\\seen \\ANSWERED \\Flagged \\deleted \\DRAFT \\recent)");
  assert(store.name === "STORE");
  assertEquals(store.flags, [
    "\\Seen",
    "\\Answered",
    "\\Flagged",
    "\\Deleted",
    "\\Draft",
    "\\Recent",
  ]);
  const other = command("a STORE 1 FLAGS ($MDNSent \\Important NonJunk $label1 \\X-Vendor)");
  assert(other.name === "STORE");
  assertEquals(other.flags, ["$MDNSent", "\\Important", "NonJunk", "$label1", "\\X-Vendor"]);
  assertRefused([
    ["a STORE 1 FLAGS (\\)", "Expected flag"],
    ["a STORE 1 FLAGS (\\*)", "Expected flag"], // \* appears only in PERMANENTFLAGS
    ['a STORE 1 FLAGS ("quoted")', "Expected flag"],
    ["a STORE 1 FLAGS (a(b))", '")" to close the flag list'],
    ["a STORE 1 FLAGS ((\\Seen))", "Expected flag"],
    ["a STORE 1 FLAGS (\\Seen", '")" to close the flag list'],
    ["a STORE 1 FLAGS (\\Seen )", "Expected flag"],
    ["a STORE 1 FLAGS ( \\Seen)", "Expected flag"],
    ["a STORE 1 FLAGS (a]b)", '")" to close the flag list'], // "]" is not an ATOM-CHAR
  ]);
});

Deno.test("error texts are printable, one line, and quote little of the input", () => {
  const nasty = [
    "a LOGIN x\x1b[31m\r\n* OK injected",
    "a FETCH 1 (\r\n* BYE\r\n)",
    `a LOGIN x ${"y".repeat(5000)}(`,
  ];
  for (const line of nasty) {
    const error = refusal(line);
    assert(error instanceof ImapParseError);
    assert(/^[\x20-\x7e]*$/.test(error.text), JSON.stringify(error.text));
    assert(error.text.length <= 200, `${error.text.length}`);
    assertEquals(error.message, error.text);
    assertEquals(error.temporary, false);
  }
});
