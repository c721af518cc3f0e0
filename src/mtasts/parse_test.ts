import { assertEquals } from "../../tests/assert.ts";
import {
  isStsRecord,
  MAX_AGE_LIMIT,
  mxAllowed,
  type Parsed,
  parsePolicy,
  parseRecord,
  type Policy,
} from "./parse.ts";

Deno.test("TXT record: version first, an id of 1 to 32 letters and digits, extensions allowed (RFC 8461 §3.1)", () => {
  const id = (text: string) => {
    const parsed = parseRecord(text);
    return parsed.ok ? parsed.value.id : null;
  };
  assertEquals(id("v=STSv1; id=20160831085700Z;"), "20160831085700Z");
  assertEquals(id("v=STSv1;id=abc"), "abc");
  assertEquals(id("v=STSv1 ;\tid=abc ; ext_1=x.y-z"), "abc");
  assertEquals(id("v=STSv1; id=first; id=second"), "first");
  assertEquals(id(`v=STSv1; id=${"a".repeat(32)}`), "a".repeat(32));
  for (
    const bad of [
      "v=STSv1",
      "v=STSv1;",
      "v=STSv1; id=",
      `v=STSv1; id=${"a".repeat(33)}`,
      "v=STSv1; id=a-b",
      "id=abc; v=STSv1",
      "v=stsv1; id=abc",
      "v=STSv1; id=abc; =x",
      "v=STSv1; id=abc; ext=a b",
      "v=STSv1; id=abc;; ext=x",
      "v=STSv2; id=abc",
    ]
  ) {
    assertEquals(id(bad), null, bad);
  }
  assertEquals(isStsRecord("v=STSv1; id=a"), true);
  assertEquals(isStsRecord("v=STSv1 ;id=a"), true);
  assertEquals(isStsRecord("v=spf1 -all"), false);
  assertEquals(isStsRecord("v=STSv10; id=a"), false);
});

const GOOD = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\n" +
  "mx: backupmx.example.com\r\nmax_age: 604800\r\n";

Deno.test("policy: the RFC's example, LF or CRLF, fields in any order, unknown keys ignored (RFC 8461 §3.2)", () => {
  const want: Parsed<Policy> = {
    ok: true,
    value: {
      mode: "enforce",
      mx: ["mail.example.com", "*.example.net", "backupmx.example.com"],
      maxAge: 604800,
    },
  };
  assertEquals(parsePolicy(GOOD), want);
  assertEquals(parsePolicy(GOOD.replaceAll("\r\n", "\n")), want);
  assertEquals(parsePolicy(GOOD.replace(/\r\n$/, "")), want);
  assertEquals(
    parsePolicy(
      "max_age:604800\nmx:Mail.Example.COM.\nfuture_key: some value \nmode:\t testing\nversion: STSv1",
    ),
    { ok: true, value: { mode: "testing", mx: ["mail.example.com"], maxAge: 604800 } },
  );
  // Of a repeated key other than mx, the first counts.
  assertEquals(
    parsePolicy("version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmax_age: 5\n"),
    { ok: true, value: { mode: "testing", mx: ["a.example"], maxAge: 5 } },
  );
  // mode none needs no mx.
  assertEquals(parsePolicy("version: STSv1\nmode: none\nmax_age: 86400\n"), {
    ok: true,
    value: { mode: "none", mx: [], maxAge: 86400 },
  });
});

Deno.test("policy: max_age is capped at 31557600; malformed policies are refused", () => {
  const withAge = (age: string) =>
    parsePolicy(`version: STSv1\nmode: enforce\nmx: a.example\nmax_age: ${age}\n`);
  const age = withAge("9999999999");
  assertEquals(age.ok && age.value.maxAge, MAX_AGE_LIMIT);
  const reasons = [
    "mode: enforce\nmx: a.example\nmax_age: 5\n", // no version
    "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 5\n",
    "version: STSv1\nmode: reject\nmx: a.example\nmax_age: 5\n",
    "version: STSv1\nmode: enforce\nmax_age: 5\n", // enforce without mx
    "version: STSv1\nmode: testing\nmx: a.example\n", // no max_age
    "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -5\n",
    "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 12345678901\n",
    "version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 5\n",
    "version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 5\n",
    "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 5\n\nmode: none\n", // empty line
    "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 5\njunk\n",
    "<html><body>version: STSv1</body></html>",
    "",
  ].map((text) => parsePolicy(text));
  assertEquals(reasons.map((r) => r.ok), reasons.map(() => false));
});

Deno.test("MX match: exact or one label for a leading *., case and trailing dot ignored (RFC 8461 §4.1)", () => {
  const policy = { mx: ["mail.example.com", "*.example.net"] };
  const cases: [string, boolean][] = [
    ["mail.example.com", true],
    ["MAIL.Example.Com.", true],
    ["mx1.example.net", true],
    ["example.net", false],
    ["a.b.example.net", false],
    ["mail.example.com.evil", false],
    ["xmail.example.com", false],
    ["mail.example.org", false],
  ];
  assertEquals(cases.map(([host]) => mxAllowed(policy, host)), cases.map(([, want]) => want));
  assertEquals(mxAllowed({ mx: [] }, "mail.example.com"), false);
});
