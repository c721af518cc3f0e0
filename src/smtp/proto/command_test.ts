import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../../tests/assert.ts";
import { FumiError } from "../../util/errors.ts";
import {
  parseCommandLine,
  parseHeloArgument,
  parseMailFrom,
  parseRcptTo,
  SmtpSyntaxError,
} from "./command.ts";

const encoder = new TextEncoder();

/** The reply code and enhanced code `fn` is refused with. */
function refusal(fn: () => unknown): [number, string | null] {
  const error = assertThrows(fn, SmtpSyntaxError);
  return [error.reply.code, error.reply.enhanced];
}

const UTF8 = { smtputf8: true };
const ASCII = { smtputf8: false };

// A 254-octet address: the longest whose path ("<" address ">") fits 256 octets.
const LONGEST = `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;

Deno.test("parseCommandLine splits the verb (upper-cased) from the arguments", () => {
  const cases: [string, string, string][] = [
    ["EHLO mail.example.org", "EHLO", "mail.example.org"],
    ["quit", "QUIT", ""],
    ["mail FROM:<a@example.org> SIZE=10", "MAIL", "FROM:<a@example.org> SIZE=10"],
    ["NOOP  ", "NOOP", ""], // trailing spaces dropped
    ["DATA ", "DATA", ""],
    ["MAIL  FROM:<>", "MAIL", " FROM:<>"], // only one space is the separator
    ["RCPT TO:<ü@bücher.example>", "RCPT", "TO:<ü@bücher.example>"],
    ["StartTLS", "STARTTLS", ""],
  ];
  for (const [line, verb, args] of cases) {
    assertEquals(parseCommandLine(encoder.encode(line)), { verb, args }, line);
  }
});

Deno.test("parseCommandLine refuses control characters, bad verbs and bad UTF-8 with 500 5.5.2", () => {
  const lines: Uint8Array[] = [
    "",
    " NOOP",
    "MA1L FROM:<>",
    "MAIL:FROM:<>",
    "NO\x00OP",
    "NOOP\x00",
    "NOOP\tx",
    "DATA\r",
    "DATA\n.",
    "HELO x\x1b[0m",
    "NOOP \x7f",
    "NOOP \u0085", // C1 control
    "\uFEFFEHLO x", // a byte order mark is not part of a verb
  ].map((s) => encoder.encode(s));
  lines.push(new Uint8Array([0x4e, 0x4f, 0x4f, 0x50, 0x20, 0xff])); // invalid UTF-8
  lines.push(new Uint8Array([0x4e, 0x4f, 0x4f, 0x50, 0x20, 0xc0, 0x80])); // overlong NUL
  lines.push(new Uint8Array([0x4e, 0x4f, 0x4f, 0x50, 0x20, 0xed, 0xa0, 0x80])); // surrogate
  for (const line of lines) {
    assertEquals(refusal(() => parseCommandLine(line)), [500, "5.5.2"], JSON.stringify(line));
  }
  // An HTTP request line parses; that GET is no SMTP verb is the session's to say.
  assertEquals(parseCommandLine(encoder.encode("GET / HTTP/1.1")).verb, "GET");
});

Deno.test("SmtpSyntaxError is a permanent FumiError whose message is the reply text", () => {
  const error = assertThrows(() => parseCommandLine(new Uint8Array()), SmtpSyntaxError);
  assert(error instanceof FumiError);
  assertEquals(error.temporary, false);
  assertEquals(error.message, error.reply.lines.join(" "));
});

Deno.test("parseHeloArgument accepts and normalises domains and address literals", () => {
  const cases: [string, string][] = [
    ["mail.example.org", "mail.example.org"],
    ["Mail.Example.ORG.", "mail.example.org"], // trailing dot dropped
    ["localhost", "localhost"],
    ["mybox", "mybox"], // bare host names are common
    ["my-box.local", "my-box.local"],
    [" client.example ", "client.example"],
    ["bücher.example", "xn--bcher-kva.example"], // U-label (RFC 6531 §3.3)
    ["xn--bcher-kva.example", "xn--bcher-kva.example"],
    ["192.0.2.1", "192.0.2.1"], // all-digit labels are Ldh-str (RFC 5321 §4.1.2)
    ["[192.0.2.1]", "[192.0.2.1]"],
    ["[192.000.002.001]", "[192.0.2.1]"],
    ["[IPv6:2001:DB8:0:0::1]", "[IPv6:2001:db8::1]"],
    ["[ipv6:::1]", "[IPv6:::1]"],
    ["[IPv6:::ffff:192.0.2.1]", "[IPv6:::ffff:c000:201]"],
    [`${"a".repeat(63)}.example`, `${"a".repeat(63)}.example`],
  ];
  for (const [input, expected] of cases) assertEquals(parseHeloArgument(input), expected, input);
});

Deno.test("parseHeloArgument refuses anything else with 501 5.5.4", () => {
  const bad = [
    "",
    "   ",
    "mail example.org",
    "<mail.example.org>",
    "a@b.example",
    "mail.example.org:25",
    "a_b.example",
    "-a.example",
    "a-.example",
    "a..example",
    ".example",
    "example..",
    `${"a".repeat(64)}.example`,
    Array(64).fill("abc").join("."), // 255 octets
    "[300.1.1.1]",
    "[1.2.3]",
    "[192.0.2.1",
    "[]",
    "[IPv6:zz::1]",
    "[IPv6:1::2::3]",
    "[IPv6:fe80::1%eth0]",
    "[IPv6:192.0.2.1]",
    "[tag:content]",
    "bad\u3002example", // ideographic full stop maps to a dot inside one label
    "a\u00a0b.example",
  ];
  for (const input of bad) {
    assertEquals(refusal(() => parseHeloArgument(input)), [501, "5.5.4"], input);
  }
});

Deno.test("parseMailFrom accepts senders and parameters", () => {
  const alice = parseMailFrom("FROM:<Alice@Example.ORG>", ASCII);
  assertEquals(alice.sender?.local, "Alice");
  assertEquals(alice.sender?.canonical, "alice@example.org");
  assertEquals(alice.params, {
    size: null,
    body: null,
    smtputf8: false,
    ret: null,
    envid: null,
    auth: null,
    requireTls: false,
  });
  assertEquals(parseMailFrom("from:<>", ASCII).sender, null); // null reverse-path
  assertEquals(parseMailFrom("FROM: <a@example.org>", ASCII).sender?.local, "a"); // Postfix-style
  assertEquals(parseMailFrom('FROM:<"john doe"@example.org>', ASCII).sender?.local, "john doe");
  assertEquals(parseMailFrom('FROM:<"a>b"@example.org>', ASCII).sender?.local, "a>b");
  assertEquals(parseMailFrom('FROM:<"a\\"> x"@example.org>', ASCII).sender?.local, 'a"> x');
  const routed = parseMailFrom("FROM:<@relay.example,@b.example:a@example.org>", ASCII);
  assertEquals(routed.sender?.canonical, "a@example.org"); // source route dropped
  assertEquals(parseMailFrom(`FROM:<${LONGEST}>`, ASCII).sender?.local, "a".repeat(64));

  const full = parseMailFrom(
    "FROM:<> size=1024  body=8bitmime Ret=hdrs ENVID=QQ+2B1 AUTH=<> SMTPUTF8 requiretls",
    { ...UTF8, requireTls: true },
  );
  assertEquals(full.params, {
    size: 1024,
    body: "8BITMIME",
    smtputf8: true,
    ret: "HDRS",
    envid: "QQ+1",
    auth: "<>",
    requireTls: true,
  });
  assertEquals(parseMailFrom("FROM:<> BODY=7BIT SIZE=0", ASCII).params.body, "7BIT");
  assertEquals(parseMailFrom("FROM:<> SIZE=0", ASCII).params.size, 0);
  assertEquals(
    parseMailFrom(`FROM:<> SIZE=${"9".repeat(20)}`, ASCII).params.size,
    Number.MAX_SAFE_INTEGER,
  );
  assertEquals(
    parseMailFrom("FROM:<> AUTH=a+2Bb@example.org", ASCII).params.auth,
    "a+b@example.org",
  );
  assertEquals(parseMailFrom(`FROM:<> ENVID=${"x".repeat(100)}`, ASCII).params.envid?.length, 100);
  const utf8 = parseMailFrom("FROM:<ünal@bücher.example> SMTPUTF8", UTF8);
  assertEquals([utf8.sender?.local, utf8.sender?.domain], ["ünal", "xn--bcher-kva.example"]);
});

Deno.test("parseMailFrom refuses with the exact reply", () => {
  const TLS = { ...ASCII, requireTls: true };
  const cases: [string, { smtputf8: boolean; requireTls?: boolean }, number, string][] = [
    ["FROM alice@example.org", ASCII, 501, "5.5.2"],
    ["FROM:alice@example.org", ASCII, 501, "5.5.2"],
    ["TO:<a@example.org>", ASCII, 501, "5.5.2"],
    ["", ASCII, 501, "5.5.2"],
    ["FROM:<a@example.org", ASCII, 501, "5.5.2"],
    ['FROM:<"a>@example.org>', ASCII, 501, "5.5.2"], // unterminated quote swallows the ">"
    ["FROM:<a@example.org>SIZE=1", ASCII, 501, "5.5.2"],
    [`FROM:<${LONGEST}x>`, ASCII, 501, "5.1.7"], // 257 octets (RFC 5321 §4.5.3.1.3)
    ["FROM:<alice>", ASCII, 553, "5.1.7"],
    ["FROM:<a b@example.org>", ASCII, 553, "5.1.7"],
    ["FROM:<a@@example.org>", ASCII, 553, "5.1.7"],
    ["FROM:<a@[192.0.2.1]>", ASCII, 553, "5.1.7"], // address literals are not hosted
    ["FROM:<@relay.example a@example.org>", ASCII, 501, "5.1.7"],
    ["FROM:<@:a@example.org>", ASCII, 501, "5.1.7"],
    ["FROM:<ünal@example.org>", UTF8, 550, "5.6.7"], // no SMTPUTF8 parameter
    ["FROM:<ünal@example.org> SMTPUTF8", ASCII, 555, "5.5.4"], // not offered
    ["FROM:<a@example.org> SMTPUTF8", ASCII, 555, "5.5.4"],
    ["FROM:<> SMTPUTF8=yes", UTF8, 501, "5.5.4"],
    ["FROM:<> SIZE", ASCII, 501, "5.5.4"],
    ["FROM:<> SIZE=", ASCII, 501, "5.5.4"],
    ["FROM:<> SIZE=12a", ASCII, 501, "5.5.4"],
    ["FROM:<> SIZE=-1", ASCII, 501, "5.5.4"],
    [`FROM:<> SIZE=${"9".repeat(21)}`, ASCII, 501, "5.5.4"],
    ["FROM:<> SIZE=1 size=2", ASCII, 501, "5.5.4"], // duplicate
    ["FROM:<> BODY=BINARYMIME", ASCII, 555, "5.5.4"],
    ["FROM:<> BODY=9BIT", ASCII, 501, "5.5.4"],
    ["FROM:<> RET=ALL", ASCII, 501, "5.5.4"],
    ["FROM:<> RET", ASCII, 501, "5.5.4"],
    [`FROM:<> ENVID=${"x".repeat(101)}`, ASCII, 501, "5.5.4"],
    ["FROM:<> ENVID=a+2", ASCII, 501, "5.5.4"],
    ["FROM:<> ENVID=+0A", ASCII, 501, "5.5.4"], // not printable
    ["FROM:<> AUTH=alice", ASCII, 501, "5.5.4"],
    ["FROM:<> AUTH=a+zz@example.org", ASCII, 501, "5.5.4"],
    ["FROM:<> FOO=bar", ASCII, 555, "5.5.4"],
    ["FROM:<> X-FOO", ASCII, 555, "5.5.4"],
    ["FROM:<> NOTIFY=NEVER", ASCII, 555, "5.5.4"], // an RCPT parameter
    ["FROM:<> REQUIRETLS", ASCII, 530, "5.7.10"], // RFC 8689 §4.1: not without TLS
    ["FROM:<> REQUIRETLS=yes", TLS, 501, "5.5.4"], // RFC 8689 §3: no value
    ["FROM:<> =x", ASCII, 501, "5.5.4"],
    ["FROM:<> SIZE=1=2", ASCII, 501, "5.5.4"],
    ["FROM:<> -SIZE=1", ASCII, 501, "5.5.4"],
  ];
  for (const [args, options, code, enhanced] of cases) {
    assertEquals(refusal(() => parseMailFrom(args, options)), [code, enhanced], args);
  }
});

Deno.test("parseRcptTo accepts recipients, Postmaster and DSN parameters", () => {
  assertEquals(parseRcptTo("TO:<Bob@Example.org>", ASCII).recipient, {
    local: "Bob",
    domain: "example.org",
    unicodeDomain: "example.org",
    canonical: "bob@example.org",
  });
  for (const postmaster of ["<Postmaster>", "<postmaster>", "<POSTMASTER>"]) {
    assertEquals(parseRcptTo(`to:${postmaster}`, ASCII).recipient, "postmaster");
  }
  const withDomain = parseRcptTo("TO:<Postmaster@example.org>", ASCII).recipient;
  assert(withDomain !== "postmaster");
  assertEquals(withDomain.canonical, "postmaster@example.org");
  const routed = parseRcptTo("TO:<@a.example,@b.example:bob@example.org>", ASCII).recipient;
  assertEquals(routed !== "postmaster" && routed.canonical, "bob@example.org");
  const percent = parseRcptTo("TO:<user%other@example.org>", ASCII).recipient;
  assertEquals(percent !== "postmaster" && percent.local, "user%other"); // no percent hack
  const utf8 = parseRcptTo("TO:<ünal@bücher.example>", UTF8).recipient;
  assertEquals(utf8 !== "postmaster" && utf8.local, "ünal");

  assertEquals(parseRcptTo("TO:<b@example.org>", ASCII).params, { notify: null, orcpt: null });
  const dsn = parseRcptTo(
    "TO:<b@example.org> notify=success,Failure ORCPT=rfc822;b+40x.example",
    ASCII,
  );
  assertEquals(dsn.params, {
    notify: ["SUCCESS", "FAILURE"],
    orcpt: { type: "rfc822", address: "b@x.example" },
  });
  assertEquals(parseRcptTo("TO:<b@example.org> NOTIFY=never", ASCII).params.notify, "NEVER");
  assertEquals(parseRcptTo("TO:<b@example.org> NOTIFY=DELAY", ASCII).params.notify, ["DELAY"]);
  const other = parseRcptTo("TO:<b@example.org> ORCPT=x-type;+E2+82+AC", ASCII).params.orcpt;
  assertEquals(other, { type: "x-type", address: "€" });
});

Deno.test("parseRcptTo refuses with the exact reply", () => {
  const cases: [string, { smtputf8: boolean }, number, string][] = [
    ["TO:<>", ASCII, 501, "5.1.3"],
    ["FROM:<b@example.org>", ASCII, 501, "5.5.2"],
    ["TO:b@example.org", ASCII, 501, "5.5.2"],
    ["TO:<b@example.org", ASCII, 501, "5.5.2"],
    [`TO:<${LONGEST}x>`, ASCII, 501, "5.1.3"],
    ["TO:<bob>", ASCII, 553, "5.1.3"],
    ["TO:<Postmaster@>", ASCII, 553, "5.1.3"],
    ["TO:<bob@[192.0.2.1]>", ASCII, 553, "5.1.3"],
    ["TO:<bob@[IPv6:2001:db8::1]>", ASCII, 553, "5.1.3"],
    ["TO:<ünal@example.org>", ASCII, 553, "5.6.7"], // MAIL had no SMTPUTF8
    ["TO:<bob@bücher.example>", ASCII, 553, "5.6.7"],
    ["TO:<b@example.org> NOTIFY=NEVER,SUCCESS", ASCII, 501, "5.5.4"],
    ["TO:<b@example.org> NOTIFY=SUCCESS,SUCCESS", ASCII, 501, "5.5.4"],
    ["TO:<b@example.org> NOTIFY=SUCCESS,", ASCII, 501, "5.5.4"],
    ["TO:<b@example.org> NOTIFY=SOMETIMES", ASCII, 501, "5.5.4"],
    ["TO:<b@example.org> NOTIFY", ASCII, 501, "5.5.4"],
    ["TO:<b@example.org> ORCPT=rfc822", ASCII, 501, "5.5.4"],
    ["TO:<b@example.org> ORCPT=;b@x.example", ASCII, 501, "5.5.4"],
    ["TO:<b@example.org> ORCPT=rfc822;", ASCII, 501, "5.5.4"],
    ["TO:<b@example.org> ORCPT=utf-8;a+0D+0ABcc:x@y", ASCII, 501, "5.5.4"],
    [`TO:<b@example.org> ORCPT=rfc822;${"a".repeat(500)}`, ASCII, 501, "5.5.4"],
    ["TO:<b@example.org> ORCPT=rfc822;a+0Ab", ASCII, 501, "5.5.4"],
    ["TO:<b@example.org> ORCPT=rfc822;a+0", ASCII, 501, "5.5.4"],
    ["TO:<b@example.org> NOTIFY=NEVER notify=NEVER", ASCII, 501, "5.5.4"],
    ["TO:<b@example.org> SIZE=10", ASCII, 555, "5.5.4"],
    ["TO:<b@example.org> SMTPUTF8", UTF8, 555, "5.5.4"],
  ];
  for (const [args, options, code, enhanced] of cases) {
    assertEquals(refusal(() => parseRcptTo(args, options)), [code, enhanced], args);
  }
});

Deno.test("after HELO (esmtp: false) every parameter is refused with 555 5.5.4", () => {
  const helo = { smtputf8: false, esmtp: false };
  assertEquals(parseMailFrom("FROM:<a@example.org>", helo).sender?.local, "a");
  assertEquals(parseRcptTo("TO:<b@example.org>", helo).params, { notify: null, orcpt: null });
  assertEquals(refusal(() => parseMailFrom("FROM:<> SIZE=10", helo)), [555, "5.5.4"]);
  assertEquals(refusal(() => parseMailFrom("FROM:<> BODY=8BITMIME", helo)), [555, "5.5.4"]);
  assertEquals(refusal(() => parseRcptTo("TO:<b@example.org> NOTIFY=NEVER", helo)), [555, "5.5.4"]);
  // The path is checked first: a bad path is still a syntax error.
  assertEquals(refusal(() => parseMailFrom("FROM:x SIZE=10", helo)), [501, "5.5.2"]);
});

Deno.test("the parsers throw nothing but SmtpSyntaxError (property)", () => {
  const piece = fc.constantFrom(
    "FROM:",
    "TO:",
    "<",
    ">",
    "@",
    '"',
    "\\",
    " ",
    ",",
    ":",
    "=",
    "+",
    "[",
    "]",
    "a",
    "example.org",
    "ü",
    "SIZE=",
    "NOTIFY=",
    "ORCPT=rfc822;",
    "ENVID=",
    "AUTH=",
    "SMTPUTF8",
    "IPv6:",
    "1",
    "\x00",
  );
  const text = fc.oneof(
    fc.array(piece, { maxLength: 16 }).map((parts) => parts.join("")),
    fc.string({ maxLength: 60 }),
  );
  const only = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      assert(error instanceof SmtpSyntaxError, String(error));
      assert(error.reply.code >= 500 && error.reply.code < 600);
    }
  };
  fc.assert(
    fc.property(text, fc.boolean(), fc.boolean(), (args, smtputf8, esmtp) => {
      only(() => parseMailFrom(args, { smtputf8, esmtp }));
      only(() => parseRcptTo(args, { smtputf8, esmtp }));
      only(() => parseHeloArgument(args));
      only(() => parseCommandLine(encoder.encode(args)));
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (line) => only(() => parseCommandLine(line))),
    { numRuns: 300 },
  );
});
