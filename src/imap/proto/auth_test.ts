import { assertCommands, assertRefused, literal } from "./_parse_test_support.ts";

Deno.test("AUTHENTICATE: mechanism and SASL-IR initial response", () => {
  assertCommands([
    ["A001 AUTHENTICATE GSSAPI", {
      name: "AUTHENTICATE",
      mechanism: "GSSAPI",
      initialResponse: null,
    }], // RFC 9051 §6.2.2
    [
      "A01 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=", // RFC 4959 §3
      { name: "AUTHENTICATE", mechanism: "PLAIN", initialResponse: "dGVzdAB0ZXN0AHRlc3Q=" },
    ],
    ["a AUTHENTICATE plain =", { name: "AUTHENTICATE", mechanism: "PLAIN", initialResponse: "=" }],
    [
      "a authenticate scram-sha-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=",
      {
        name: "AUTHENTICATE",
        mechanism: "SCRAM-SHA-256",
        initialResponse: "biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=",
      },
    ],
    ["a AUTHENTICATE PLAIN AAAA", {
      name: "AUTHENTICATE",
      mechanism: "PLAIN",
      initialResponse: "AAAA",
    }],
    ["a AUTHENTICATE PLAIN AA==\r\n", {
      name: "AUTHENTICATE",
      mechanism: "PLAIN",
      initialResponse: "AA==",
    }],
  ]);
  assertRefused([
    ["a AUTHENTICATE", "Missing SASL mechanism name"],
    ['a AUTHENTICATE "PLAIN"', "Expected SASL mechanism name"],
    ["a AUTHENTICATE PLAIN AAA", "neither base64"],
    ["a AUTHENTICATE PLAIN A===", "neither base64"],
    ["a AUTHENTICATE PLAIN ==", "neither base64"],
    ["a AUTHENTICATE PLAIN AA=A", "neither base64"],
    ["a AUTHENTICATE PLAIN AA-_", "neither base64"],
    ["a AUTHENTICATE PLAIN {4}\r\nAAAA", "neither base64"],
    ["a AUTHENTICATE PLAIN AAAA BBBB", "Unexpected"],
    ["a AUTHENTICATE PLAIN (AAAA)", "Expected initial response"],
  ]);
});

Deno.test("LOGIN: user and password as astrings, quoted strings or literals", () => {
  assertCommands([
    ["a001 LOGIN SMITH SESAME", { name: "LOGIN", user: "SMITH", password: "SESAME" }], // RFC 9051 §6.2.3
    ['a LOGIN "fred@example.org" "p a s s"', {
      name: "LOGIN",
      user: "fred@example.org",
      password: "p a s s",
    }],
    [
      `a LOGIN fred ${literal('{"quoted"} and \\ spaced')}`,
      { name: "LOGIN", user: "fred", password: '{"quoted"} and \\ spaced' },
    ],
    [`a LOGIN ${literal("fred", "+")} ${literal("pw", "+")}`, {
      name: "LOGIN",
      user: "fred",
      password: "pw",
    }],
  ]);
  assertRefused([
    ["a LOGIN fred", "Missing password"],
    ["a LOGIN fred pw pw", "Unexpected"],
    ["a LOGIN (fred) pw", "Expected user name"],
    ["a LOGIN fred NIL)", "Unexpected"],
  ]);
});
