import fc from "fast-check";
import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import {
  canonicalLocalPart,
  formatAddress,
  formatLocalPart,
  type MailAddress,
  MAX_ADDRESS_OCTETS,
  normalizeDomain,
  parseAddress,
  splitSubaddress,
  tryParseAddress,
} from "./address.ts";
import { InvalidInputError } from "./errors.ts";

const GOOD: ReadonlyArray<readonly [string, MailAddress]> = [
  ["alice@example.com", {
    local: "alice",
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: "alice@example.com",
  }],
  ["Alice.Smith@Example.COM", {
    local: "Alice.Smith",
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: "alice.smith@example.com",
  }],
  ["alice+Lists@example.com", {
    local: "alice+Lists",
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: "alice+lists@example.com",
  }],
  ["!#$%&'*+-/=?^_`{|}~@example.com", {
    local: "!#$%&'*+-/=?^_`{|}~",
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: "!#$%&'*+-/=?^_`{|}~@example.com",
  }],
  // RFC 5321 §4.1.2 Quoted-string; canonical uses the least quoting possible.
  ['"John Doe"@example.com', {
    local: "John Doe",
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: '"john doe"@example.com',
  }],
  ['"john"@example.com', {
    local: "john",
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: "john@example.com",
  }],
  ['"a\\"b\\\\c"@example.com', {
    local: 'a"b\\c',
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: '"a\\"b\\\\c"@example.com',
  }],
  ['"\\j\\o"@example.com', {
    local: "jo",
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: "jo@example.com",
  }],
  ['"a..b"@example.com', {
    local: "a..b",
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: '"a..b"@example.com',
  }],
  ['".a"@example.com', {
    local: ".a",
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: '".a"@example.com',
  }],
  ['"a@b"@example.com', {
    local: "a@b",
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: '"a@b"@example.com',
  }],
  ["postmaster@localhost", {
    local: "postmaster",
    domain: "localhost",
    unicodeDomain: "localhost",
    canonical: "postmaster@localhost",
  }],
  // RFC 6531 §3.3: UTF-8 local parts; IDNA domains to A-labels.
  ["Ünal@Bücher.Example", {
    local: "Ünal",
    domain: "xn--bcher-kva.example",
    unicodeDomain: "bücher.example",
    canonical: "ünal@xn--bcher-kva.example",
  }],
  ["用户@例え.テスト", {
    local: "用户",
    domain: "xn--r8jz45g.xn--zckzah",
    unicodeDomain: "例え.テスト",
    canonical: "用户@xn--r8jz45g.xn--zckzah",
  }],
  ["a@XN--BCHER-KVA.example", {
    local: "a",
    domain: "xn--bcher-kva.example",
    unicodeDomain: "bücher.example",
    canonical: "a@xn--bcher-kva.example",
  }],
  ["ß@faß.de", { // IDNA2008: ß is kept (non-transitional)
    local: "ß",
    domain: "xn--fa-hia.de",
    unicodeDomain: "faß.de",
    canonical: "ß@xn--fa-hia.de",
  }],
  ["e\u0301@example.com", { // NFC in the key, the local part as given
    local: "e\u0301",
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: "\u00e9@example.com",
  }],
  ["\u0130@example.com", { // İ lower-cases to i + U+0307
    local: "\u0130",
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: "i\u0307@example.com",
  }],
  ["a@ＥＸＡＭＰＬＥ。com", { // UTS #46 maps full-width letters and the ideographic full stop
    local: "a",
    domain: "example.com",
    unicodeDomain: "example.com",
    canonical: "a@example.com",
  }],
  ["a@a-b.1example.co.uk", {
    local: "a",
    domain: "a-b.1example.co.uk",
    unicodeDomain: "a-b.1example.co.uk",
    canonical: "a@a-b.1example.co.uk",
  }],
  ["a@123.example", {
    local: "a",
    domain: "123.example",
    unicodeDomain: "123.example",
    canonical: "a@123.example",
  }],
];

Deno.test("parseAddress: good addresses", () => {
  for (const [input, expected] of GOOD) {
    assertEquals(parseAddress(input), expected, input);
  }
});

Deno.test("parseAddress: limits are inclusive (RFC 5321 §4.5.3.1)", () => {
  const local64 = "a".repeat(64);
  assertEquals(parseAddress(`${local64}@example.com`).local, local64);
  const label63 = "b".repeat(63);
  assertEquals(parseAddress(`a@${label63}.com`).domain, `${label63}.com`);
  // 253-octet domain: 63 + 1 + 63 + 1 + 63 + 1 + 61.
  const domain253 = ["c".repeat(63), "c".repeat(63), "c".repeat(63), "c".repeat(61)].join(".");
  assertEquals(domain253.length, 253);
  assertEquals(normalizeDomain(domain253).ascii, domain253);
  assertThrows(() => normalizeDomain(`${domain253}c`), InvalidInputError, "longer than 253 octets");
  // 254-octet address: local 64 + "@" + 189-octet domain.
  const domain189 = ["d".repeat(63), "d".repeat(63), "d".repeat(61)].join(".");
  const address254 = `${local64}@${domain189}`;
  assertEquals(new TextEncoder().encode(address254).length, MAX_ADDRESS_OCTETS);
  assertEquals(parseAddress(address254).canonical, address254);
  // Octets, not characters: 21 × 3 octets + "a" = 64.
  const wide = `${"€".repeat(21)}a`;
  assertEquals(parseAddress(`${wide}@example.com`).local, wide);
});

const BAD: ReadonlyArray<readonly [string, string]> = [
  ["", "address is empty"],
  ["alice", "missing domain"],
  ["alice@", "missing domain"],
  ['"alice"', "missing domain"],
  ["@example.com", "missing local part"],
  [".alice@example.com", "local part starts with a dot"],
  ["alice.@example.com", "local part ends with a dot"],
  ["al..ice@example.com", "local part has consecutive dots"],
  [".@example.com", "local part starts with a dot"],
  ["al ice@example.com", "local part contains whitespace"],
  [" alice@example.com", "local part contains whitespace"],
  ["alice\u00a0@example.com", "local part contains whitespace"],
  ["alice\u2028@example.com", "local part contains whitespace"],
  ["alice\t@example.com", "address contains a control character"],
  ["alice@example.com\r\n", "address contains a control character"],
  ["alice\u0000@example.com", "address contains a control character"],
  ["alice\u0085@example.com", "address contains a control character"],
  ["al(ice)@example.com", 'local part contains the character "("'],
  ['al"ice@example.com', 'local part contains the character "\\""'],
  ["<alice@example.com>", 'local part contains the character "<"'],
  ["Alice <alice@example.com>", "local part contains whitespace"],
  ["alice@bob@example.com", 'address has more than one "@"'],
  ['"alice@example.com', "local part has an unterminated quoted string"],
  ['"alice\\', "local part has an unterminated quoted string"],
  ['"al"ice@example.com', "local part has text after its quoted string"],
  ['""@example.com', "local part is empty"],
  ['"a\\é"@example.com', "local part has an invalid escape"],
  ['"a\u3000b"@example.com', "local part contains whitespace"],
  ["alice@[192.0.2.1]", "address literals are not supported"],
  ["alice@[IPv6:2001:db8::1]", "address literals are not supported"],
  ["alice@192.0.2.1", "IP addresses are not supported"],
  ["alice@0x7f.1", "IP addresses are not supported"],
  ["alice@example.123", "domain is not a valid host name"],
  ["alice@example.com:25", 'domain contains the character ":"'],
  ["alice@example.com/path", 'domain contains the character "/"'],
  ["alice@exa%6dple.com", 'domain contains the character "%"'],
  ["alice@exa_mple.com", 'domain contains the character "_"'],
  ["alice@exa mple.com", "domain contains whitespace"],
  ["alice@example.com ", "domain contains whitespace"],
  ["alice@example.com\u3000", "domain contains whitespace"],
  ["alice@-example.com", 'domain label "-example" must be letters, digits and inner hyphens'],
  ["alice@example-.com", 'domain label "example-" must be letters'],
  ["alice@example..com", "domain has consecutive dots"],
  ["alice@.example.com", "domain starts with a dot"],
  ["alice@example.com.", "domain ends with a dot"],
  ["alice@example", "domain needs at least two labels"],
  ["alice@xn--zz.com", "domain is not a valid host name"],
  ["alice@xn--ab-cd.com", "domain is not a valid host name"],
  ["a@Xn--0.A.com", "domain is not a valid host name"],
  [`alice@${"a".repeat(64)}.com`, "domain has a label longer than 63 octets"],
  [`alice@${Array(64).fill("abc").join(".")}`, "domain is longer than 253 octets"],
  [`${"a".repeat(65)}@example.com`, "local part is longer than 64 octets"],
  [`${"€".repeat(22)}@example.com`, "local part is longer than 64 octets"],
  // As given 64 octets, but the lookup key (İ → i + U+0307) would be 96.
  [`${"\u0130".repeat(32)}@example.com`, "local part is longer than 64 octets"],
  [
    `${"a".repeat(64)}@${["d".repeat(63), "d".repeat(63), "d".repeat(62)].join(".")}`,
    "address is longer than 254 octets",
  ],
  [`${"a".repeat(2000)}@example.com`, "address is longer than 254 octets"],
  ["a\ud800@example.com", "address is not valid Unicode text"],
];

Deno.test("parseAddress: bad addresses, each with the reason in the message", () => {
  for (const [input, reason] of BAD) {
    const error = assertThrows(() => parseAddress(input), InvalidInputError, reason);
    assert(error.message.startsWith("Cannot parse address "), error.message);
  }
});

Deno.test("parseAddress: the message quotes the input", () => {
  assertThrows(
    () => parseAddress("x"),
    InvalidInputError,
    'Cannot parse address "x": missing domain',
  );
  // Quoted as JSON, so control characters cannot forge log lines; long input is cut.
  assertThrows(() => parseAddress("a\r\nb"), InvalidInputError, 'address "a\\r\\nb"');
  const error = assertThrows(() => parseAddress("a".repeat(5000)), InvalidInputError);
  assert(error.message.length < 200, error.message);
});

Deno.test("normalizeDomain returns both IDNA forms, lower case", () => {
  assertEquals(normalizeDomain("Bücher.Example"), {
    ascii: "xn--bcher-kva.example",
    unicode: "bücher.example",
  });
  assertEquals(normalizeDomain("xn--mnchen-3ya.DE"), {
    ascii: "xn--mnchen-3ya.de",
    unicode: "münchen.de",
  });
  assertEquals(normalizeDomain("EXAMPLE.org"), { ascii: "example.org", unicode: "example.org" });
  assertEquals(normalizeDomain("LocalHost"), { ascii: "localhost", unicode: "localhost" });
  assertThrows(
    () => normalizeDomain("example.com:25"),
    InvalidInputError,
    'Cannot parse domain "example.com:25": domain contains the character ":"',
  );
  assertThrows(() => normalizeDomain("a@b.com"), InvalidInputError, 'the character "@"');
  assertThrows(() => normalizeDomain(""), InvalidInputError, "missing domain");
  assertThrows(() => normalizeDomain("\ud800.com"), InvalidInputError, "not valid Unicode");
  assertThrows(() => normalizeDomain("x".repeat(3000)), InvalidInputError, "longer than 253");
});

Deno.test("formatLocalPart and formatAddress quote only when needed", () => {
  assertEquals(formatLocalPart("alice.smith"), "alice.smith");
  assertEquals(formatLocalPart("ünal"), "ünal");
  assertEquals(formatLocalPart("john doe"), '"john doe"');
  assertEquals(formatLocalPart('a"b\\c'), '"a\\"b\\\\c"');
  assertEquals(formatLocalPart("a."), '"a."');
  assertEquals(formatLocalPart(""), '""');
  const address = parseAddress('"John Doe"@Bücher.example');
  assertEquals(formatAddress(address), '"John Doe"@xn--bcher-kva.example');
  assertEquals(formatAddress(address, { unicode: true }), '"John Doe"@bücher.example');
});

Deno.test("splitSubaddress splits at the first separator (RFC 5233)", () => {
  assertEquals(splitSubaddress("alice+lists"), { base: "alice", tag: "lists" });
  assertEquals(splitSubaddress("alice+a+b"), { base: "alice", tag: "a+b" });
  assertEquals(splitSubaddress("alice+"), { base: "alice", tag: "" });
  assertEquals(splitSubaddress("alice"), { base: "alice", tag: null });
  assertEquals(splitSubaddress("+alice"), { base: "+alice", tag: null });
  assertEquals(splitSubaddress("alice-lists", "-"), { base: "alice", tag: "lists" });
  assertEquals(splitSubaddress("alice--lists", "--"), { base: "alice", tag: "lists" });
  assertEquals(splitSubaddress("alice+lists", "-"), { base: "alice+lists", tag: null });
  assertThrows(() => splitSubaddress("alice", ""), InvalidInputError);
});

Deno.test("tryParseAddress returns null instead of throwing", () => {
  assertEquals(tryParseAddress("alice"), null);
  assertEquals(tryParseAddress("a\ud800@example.com"), null);
  assertEquals(tryParseAddress("Alice@Example.com")?.canonical, "alice@example.com");
});

Deno.test("canonicalLocalPart is the local part of the lookup key", () => {
  assertEquals(canonicalLocalPart("Alice"), "alice");
  assertEquals(canonicalLocalPart("E\u0301COLE"), "\u00e9cole");
  const { base } = splitSubaddress(parseAddress("Alice+News@example.com").local);
  assertEquals(
    `${canonicalLocalPart(base)}@example.com`,
    parseAddress("ALICE@example.com").canonical,
  );
});

/** Parses, and when that succeeds checks that the canonical form is a fixed point. */
function checkParse(input: string): MailAddress | null {
  let parsed: MailAddress;
  try {
    parsed = parseAddress(input);
  } catch (error) {
    if (error instanceof InvalidInputError) return null;
    throw error;
  }
  const again = parseAddress(parsed.canonical);
  assertEquals(again.canonical, parsed.canonical, `canonical of ${JSON.stringify(input)}`);
  assertEquals(again.domain, parsed.domain);
  assertEquals(again.unicodeDomain, parsed.unicodeDomain);
  assertEquals(parseAddress(formatAddress(parsed, { unicode: true })).canonical, parsed.canonical);
  return parsed;
}

const interestingChar = fc.constantFrom(
  ...'aZ09.@"\\ +-_!#~()<>[]:;,%/\t\r\n\u0000\u007f\u0085\u00a0\u3000\u3002．'.split(""),
  "ß",
  "İ",
  "Σ",
  "K", // KELVIN SIGN, lower-cases to ASCII k
  "\u0301",
  "é",
  "ü",
  "例",
  "😀",
  "\ud800",
  "\udc00",
  "xn--",
);

Deno.test("property: parseAddress throws only InvalidInputError; canonical is a fixed point", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: interestingChar, maxLength: 40 }),
        fc.string({ unit: "binary", maxLength: 40 }),
        fc.string({ maxLength: 300 }),
      ),
      (input) => {
        checkParse(input);
      },
    ),
    { numRuns: 2000 },
  );
});

const atext = fc.constantFrom(
  ..."abcXYZ019!#$%&'*+-/=?^_`{|}~".split(""),
  "ß",
  "İ",
  "Σ",
  "σ",
  "K",
  "é",
  "e\u0301",
  "ü",
  "用",
  "😀",
);
const atom = fc.string({ unit: atext, minLength: 1, maxLength: 8 });
const dotString = fc.array(atom, { minLength: 1, maxLength: 4 }).map((atoms) => atoms.join("."));
const quotedString = fc.string({
  unit: fc.constantFrom(...'a B.@(" \\'.split(""), "ü", "İ"),
  minLength: 1,
  maxLength: 12,
}).map(formatLocalPart);
// "--" in the third and fourth positions is reserved for A-labels (RFC 5891 §4.2.3.1), and a
// random "xn--0" is not a valid one, so the LDH labels leave that shape out.
const label = fc.oneof(
  fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?$/)
    .filter((ldh) => ldh.slice(2, 4) !== "--"),
  fc.constantFrom("bücher", "例え", "テスト", "münchen", "xn--bcher-kva", "FAß", "ÉCOLE"),
);
const domain = fc.tuple(
  fc.array(label, { minLength: 1, maxLength: 3 }),
  fc.constantFrom("com", "example", "テスト", "de"),
)
  .map(([labels, tld]) => [...labels, tld].join("."));

Deno.test("property: well-formed addresses parse, and their canonical forms are fixed points", () => {
  fc.assert(
    fc.property(fc.oneof(dotString, quotedString), domain, (local, host) => {
      const parsed = checkParse(`${local}@${host}`);
      assert(parsed !== null, `${local}@${host} did not parse`);
      assertEquals(
        parsed.local.normalize("NFC").toLowerCase().normalize("NFC"),
        parseAddress(parsed.canonical).local,
      );
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: generated RFC-style addresses parse or fail with InvalidInputError", () => {
  fc.assert(
    fc.property(fc.emailAddress(), (input) => {
      checkParse(input);
    }),
    { numRuns: 500 },
  );
});
