import { assert, assertEquals, assertMatch, assertStringIncludes } from "../../tests/assert.ts";
import { getField, parseDate, parseHeader } from "../mime/mod.ts";
import { parseAddress } from "../util/address.ts";
import {
  authenticationResults,
  authResultsFromTags,
  deliveredTo,
  FOLD_AT,
  formatDate,
  missingSubmissionHeaders,
  receivedHeader,
  receivedProtocol,
  type ReceivedTrace,
  returnPath,
  stripForgedAuthResults,
  stripForgedSpamFields,
} from "./headers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const DATE = new Date("2026-11-27T12:00:00Z");

function trace(overrides: Partial<ReceivedTrace> = {}): ReceivedTrace {
  return {
    helo: "client.example",
    ip: "192.0.2.1",
    reverseName: null,
    hostname: "mx.example.org",
    esmtp: true,
    tls: null,
    authenticated: false,
    smtputf8: false,
    id: "a1b2c3",
    recipients: [parseAddress("alice@example.org")],
    date: DATE,
    ...overrides,
  };
}

/** Checks the shape every field must have and returns its unfolded value. */
function checkField(text: string, name: string): string {
  assert(text.endsWith("\r\n"), "ends in CRLF");
  const lines = text.slice(0, -2).split("\r\n");
  for (const [i, line] of lines.entries()) {
    assert(
      !line.includes("\r") && !line.includes("\n"),
      `bare CR or LF in ${JSON.stringify(line)}`,
    );
    if (i > 0) assert(line.startsWith("\t"), `continuation line ${JSON.stringify(line)}`);
    assert(line.trim() !== "", "no line of white space only");
  }
  const block = parseHeader(encoder.encode(text + "\r\n"));
  assertEquals(block.fields.map((f) => f.name), [name], "exactly one field");
  return block.fields[0]!.value;
}

function maxLine(text: string): number {
  return Math.max(...text.slice(0, -2).split("\r\n").map((l) => l.length));
}

Deno.test("formatDate writes RFC 5322 dates that parse back", () => {
  assertEquals(formatDate(DATE), "Fri, 27 Nov 2026 12:00:00 +0000");
  assertEquals(formatDate(new Date("2024-01-02T03:04:05Z")), "Tue, 2 Jan 2024 03:04:05 +0000");
  for (const ms of [0, 951782400000, Date.UTC(2099, 11, 31, 23, 59, 59)]) {
    assertEquals(parseDate(formatDate(new Date(ms))), ms);
  }
});

Deno.test("with-protocol: RFC 5321, RFC 3848, RFC 6531 §3.7.3", () => {
  const tls = { protocol: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256" };
  const cases: [Partial<ReceivedTrace>, string][] = [
    [{ esmtp: false }, "SMTP"],
    [{}, "ESMTP"],
    [{ tls }, "ESMTPS"],
    [{ authenticated: true }, "ESMTPA"],
    [{ authUser: "alice@example.org" }, "ESMTPA"],
    [{ tls, authenticated: true }, "ESMTPSA"],
    [{ smtputf8: true }, "UTF8SMTP"],
    [{ smtputf8: true, tls }, "UTF8SMTPS"],
    [{ smtputf8: true, authenticated: true }, "UTF8SMTPA"],
    [{ smtputf8: true, tls, authenticated: true }, "UTF8SMTPSA"],
    [{ esmtp: false, tls }, "ESMTPS"],
  ];
  for (const [overrides, expected] of cases) {
    assertEquals(receivedProtocol(trace(overrides)), expected, JSON.stringify(overrides));
  }
});

Deno.test("Received: the RFC 5321 §4.4 stamp, folded, with TLS and one recipient", () => {
  const text = receivedHeader(trace({
    reverseName: "rdns.example",
    tls: { protocol: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256" },
  }));
  assertEquals(
    text,
    "Received: from client.example (rdns.example [192.0.2.1])\r\n" +
      "\t(using TLSv1.3 with cipher TLS_AES_128_GCM_SHA256) by mx.example.org\r\n" +
      "\twith ESMTPS id a1b2c3 for <alice@example.org>;\r\n" +
      "\tFri, 27 Nov 2026 12:00:00 +0000\r\n",
  );
  checkField(text, "Received");
  assert(maxLine(text) <= FOLD_AT);
});

Deno.test("Received: for only with one recipient; the user only when authUser is set", () => {
  const two = receivedHeader(trace({
    recipients: [parseAddress("a@example.org"), parseAddress("b@example.org")],
  }));
  assert(!checkField(two, "Received").includes(" for "), two);
  assertStringIncludes(checkField(two, "Received"), "id a1b2c3; Fri, 27 Nov 2026");

  const postmaster = receivedHeader(trace({ recipients: ["postmaster"] }));
  assertStringIncludes(checkField(postmaster, "Received"), "for <postmaster>;");

  const anonymous = receivedHeader(trace({ authenticated: true }));
  assertStringIncludes(anonymous, "with ESMTPA");
  assert(!anonymous.includes("Authenticated sender"));

  const named = checkField(
    receivedHeader(trace({ authenticated: true, authUser: "alice@example.org" })),
    "Received",
  );
  assertStringIncludes(named, "(Authenticated sender: alice@example.org) by mx.example.org");
  assertStringIncludes(named, "with ESMTPA");
});

Deno.test("Received: address literals, IPv6, and a HELO that is no domain", () => {
  const literal = checkField(
    receivedHeader(trace({ helo: "[192.0.2.1]", reverseName: "rdns.example" })),
    "Received",
  );
  assert(literal.startsWith("from [192.0.2.1] (rdns.example [192.0.2.1]) by"), literal);
  const v6 = checkField(receivedHeader(trace({ ip: "2001:db8::1" })), "Received");
  assert(v6.startsWith("from client.example ([IPv6:2001:db8::1]) by"), v6);
  const none = checkField(receivedHeader(trace({ helo: null })), "Received");
  assert(none.startsWith("from [192.0.2.1] (no helo) by"), none);
  const odd = checkField(receivedHeader(trace({ helo: "not a_domain!" })), "Received");
  assert(odd.startsWith("from [192.0.2.1] (helo=not a_domain!) by"), odd);
  // A reverse name that is no domain is left out.
  const badRdns = checkField(receivedHeader(trace({ reverseName: "x (y)" })), "Received");
  assert(badRdns.startsWith("from client.example ([192.0.2.1]) by"), badRdns);
});

Deno.test("Received: text from the client cannot add fields or break the comment", () => {
  const hostile = [
    "evil.example\r\nX-Injected: yes",
    "evil\nX-Injected: yes",
    "evil\rX-Injected: yes",
    "a(b)c\\d",
    "a\u2028X-Injected: yes",
    "x".repeat(5000),
    "\x00\x01\x7f",
  ];
  for (const text of hostile) {
    const field = receivedHeader(trace({
      helo: text,
      authUser: text,
      id: text,
      tls: { protocol: text, cipher: text },
    }));
    const value = checkField(field, "Received");
    assert(!/\r|\n/.test(field.slice(0, -2).replaceAll("\r\n\t", "")), JSON.stringify(field));
    assert(!field.includes("\r\nX-Injected"), field);
    assert(field.length < 2000, "client text is bounded");
    assertMatch(value, /\sby mx\.example\.org\s+with ESMTPSA\s+id\s/);
    // Parentheses and backslashes are quoted, so every comment closes where it should.
    let depth = 0;
    for (let i = 0; i < value.length; i++) {
      if (value[i] === "\\") i++;
      else if (value[i] === "(") depth++;
      else if (value[i] === ")") depth--;
      assert(depth >= 0 && depth <= 1, `comment nesting in ${value}`);
    }
    assertEquals(depth, 0);
  }
  const quoted = checkField(receivedHeader(trace({ helo: "a(b)c\\d" })), "Received");
  assertStringIncludes(quoted, "(helo=a\\(b\\)c\\\\d)");
});

Deno.test("Received: UTF-8 only in a SMTPUTF8 transaction", () => {
  const helo = "bücher.example";
  const utf8 = checkField(receivedHeader(trace({ helo, smtputf8: true })), "Received");
  assert(utf8.startsWith("from bücher.example ([192.0.2.1])"), utf8);
  const ascii = checkField(receivedHeader(trace({ helo })), "Received");
  assert(ascii.startsWith("from [192.0.2.1] (helo=b?cher.example)"), ascii);
  assert(!/[^\x20-\x7e]/.test(ascii.replaceAll("\t", " ")));
});

Deno.test("Received: long comments fold at their spaces", () => {
  const text = receivedHeader(trace({
    reverseName: "a-rather-long-reverse-name.of-a-host.in-some-provider.example",
    tls: {
      protocol: "TLSv1.3",
      cipher: "TLS_AES_256_GCM_SHA384 key-exchange X25519 server-signature RSA-PSS (2048 bits)",
    },
    authUser: "someone.with.a.long.name@a-long-domain-name.example",
  }));
  checkField(text, "Received");
  assert(maxLine(text) <= FOLD_AT, text);
  // An unbreakable word longer than a line stays whole (RFC 5322 §2.2.3 folds at FWS only).
  const long = "h".repeat(60) + ".example";
  const folded = receivedHeader(trace({ helo: long, reverseName: long }));
  assertEquals(checkField(folded, "Received").split(long).length, 3);
});

Deno.test("Return-Path and Delivered-To", () => {
  assertEquals(returnPath(null), "Return-Path: <>\r\n");
  assertEquals(
    returnPath(parseAddress("Bob+x@Bücher.example")),
    "Return-Path: <Bob+x@xn--bcher-kva.example>\r\n",
  );
  assertEquals(
    returnPath(parseAddress('"john doe"@example.org')),
    'Return-Path: <"john doe"@example.org>\r\n',
  );
  assertEquals(
    deliveredTo(parseAddress("alice@example.org")),
    "Delivered-To: alice@example.org\r\n",
  );
  assertEquals(
    deliveredTo("postmaster@mx.example.org\r\nX: y"),
    "Delivered-To: postmaster@mx.example.org X: y\r\n",
  );
});

Deno.test("submission: Date and Message-ID added only when missing (RFC 6409 §8.2, §8.3)", () => {
  const options = { hostname: "mx.example.org", now: DATE, uniqueId: "u-1" };
  const bare = encoder.encode("From: a@example.org\r\nSubject: hi\r\n\r\nDate: not a header\r\n");
  const lines = missingSubmissionHeaders(bare, options);
  assertEquals(
    lines,
    "Date: Fri, 27 Nov 2026 12:00:00 +0000\r\nMessage-ID: <u-1@mx.example.org>\r\n",
  );
  const block = parseHeader(encoder.encode(lines + "\r\n"));
  assertEquals(parseDate(getField(block, "date")!), DATE.getTime());
  const complete = encoder.encode("DATE: x\r\nmessage-id: <a@b>\r\n\r\nbody");
  assertEquals(missingSubmissionHeaders(complete, options), "");
  const onlyDate = encoder.encode("Date: x\r\n\r\n");
  assertEquals(missingSubmissionHeaders(onlyDate, options), "Message-ID: <u-1@mx.example.org>\r\n");
  const random = missingSubmissionHeaders(onlyDate, { hostname: "mx.example.org", now: DATE });
  assert(/^Message-ID: <[0-9a-f-]{36}@mx\.example\.org>\r\n$/.test(random), random);
  assert(random !== missingSubmissionHeaders(onlyDate, { hostname: "mx.example.org", now: DATE }));
});

Deno.test("stripForgedAuthResults removes our authserv-id's fields only, in the header only", () => {
  const message = [
    "Received: from x by y; Fri, 27 Nov 2026 12:00:00 +0000",
    "Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=forged.example",
    "Authentication-Results: other.example; dkim=pass header.d=other.example",
    "authentication-results : (a comment (nested)) MX.Example.Org 1;",
    "\tdkim=pass header.d=forged.example",
    'Authentication-Results: "mx.example.org"; none',
    "Authentication-Results: mx.example.org.evil; none",
    "ARC-Authentication-Results: i=1; mx.example.org; spf=pass",
    "Subject: test",
    "",
    "Authentication-Results: mx.example.org; spf=pass",
    "",
  ].join("\r\n");
  const out = decoder.decode(stripForgedAuthResults(encoder.encode(message), "mx.example.org"));
  assertEquals(
    out,
    [
      "Received: from x by y; Fri, 27 Nov 2026 12:00:00 +0000",
      "Authentication-Results: other.example; dkim=pass header.d=other.example",
      "Authentication-Results: mx.example.org.evil; none",
      "ARC-Authentication-Results: i=1; mx.example.org; spf=pass",
      "Subject: test",
      "",
      "Authentication-Results: mx.example.org; spf=pass",
      "",
    ].join("\r\n"),
  );
  // Bare LF line ends, and the last field of a message without a body.
  const lf = encoder.encode("A: 1\nAuthentication-Results: mx.example.org;\n none\n");
  assertEquals(decoder.decode(stripForgedAuthResults(lf, "mx.example.org")), "A: 1\n");
  // Nothing to remove: the same bytes, untouched.
  const clean = encoder.encode(
    "Subject: x\r\n\r\nAuthentication-Results: mx.example.org; none\r\n",
  );
  assertEquals(stripForgedAuthResults(clean, "mx.example.org") === clean, true);
});

Deno.test("stripForgedAuthResults removes our authserv-id however a sender disguises it", () => {
  const forged = [
    "mx.example.org\u00a0; dmarc=pass", // a no-break space before the ";"
    "mx.example.org.; dmarc=pass", // a trailing dot
    "mx.example.org\u200b; dmarc=pass", // a zero-width space
    "mx.\u00adexample.org; dmarc=pass", // a soft hyphen inside
    "\uff4dx.example.org; dmarc=pass", // a fullwidth letter
    "mx.example.org\u2002; dmarc=pass", // an en space
  ];
  for (const value of forged) {
    const message = encoder.encode(
      `Authentication-Results: ${value}\r\nSubject: test\r\n\r\nbody\r\n`,
    );
    assertEquals(
      decoder.decode(stripForgedAuthResults(message, "mx.example.org")),
      "Subject: test\r\n\r\nbody\r\n",
      JSON.stringify(value),
    );
  }
  // Another server's id that only starts like ours stays.
  const other = encoder.encode("Authentication-Results: mx.example.org\u00a0x; none\r\n\r\n");
  assertEquals(stripForgedAuthResults(other, "mx.example.org") === other, true);
});

Deno.test("Authentication-Results: none now, resinfo clauses later (RFC 8601 §2.2)", () => {
  const none = authenticationResults("mx.example.org");
  assertEquals(none, "Authentication-Results: mx.example.org; none\r\n");
  checkField(none, "Authentication-Results");
  const some = authenticationResults("mx.example.org", [
    "spf=pass smtp.mailfrom=example.net",
    "dkim=pass header.d=example.net\r\nX-Evil: 1",
  ]);
  assertEquals(
    some,
    "Authentication-Results: mx.example.org;\r\n" +
      "\tspf=pass smtp.mailfrom=example.net;\r\n" +
      "\tdkim=pass header.d=example.net X-Evil: 1\r\n",
  );
  checkField(some, "Authentication-Results");
  // What we write, we would strip if it came back from outside.
  const message = encoder.encode(some + "Subject: x\r\n\r\n");
  assertEquals(
    decoder.decode(stripForgedAuthResults(message, "MX.example.org")),
    "Subject: x\r\n\r\n",
  );
});

Deno.test("Authentication-Results from a check's tag: our one field, folded a resinfo per line", () => {
  const value = "mx.example.org; spf=pass smtp.mailfrom=a@sender.example; " +
    "dkim=fail (signature did not verify; body changed) header.d=sender.example header.s=ed " +
    'header.a=ed25519-sha256 header.b="ab;/+cdef"; dmarc=pass (p=reject) header.from=sender.example; ' +
    "arc=none";
  const { field, others } = authResultsFromTags("MX.example.org", [
    ["X-Spam-Score", "1.5"],
    ["Authentication-Results", value],
    // A second one for our id is dropped; another server's stays.
    ["Authentication-Results", "mx.example.org; spf=pass smtp.mailfrom=x@evil.example"],
    ["Authentication-Results", "other.example; spf=fail smtp.mailfrom=a@sender.example"],
  ]);
  assertEquals(others, [
    ["X-Spam-Score", "1.5"],
    ["Authentication-Results", "other.example; spf=fail smtp.mailfrom=a@sender.example"],
  ]);
  assertEquals(
    field,
    "Authentication-Results: MX.example.org;\r\n" +
      "\tspf=pass smtp.mailfrom=a@sender.example;\r\n" +
      "\tdkim=fail (signature did not verify; body changed) header.d=sender.example\r\n" +
      '\theader.s=ed header.a=ed25519-sha256 header.b="ab;/+cdef";\r\n' +
      "\tdmarc=pass (p=reject) header.from=sender.example;\r\n" +
      "\tarc=none\r\n",
  );
  // Unfolded, it is the value the check gave; and it is ours, so it would be stripped.
  assertEquals(
    checkField(field!, "Authentication-Results").replace(/\s+/g, " "),
    value.replace("mx.", "MX."),
  );
  assert(maxLine(field!) <= FOLD_AT, field!);
  assertEquals(authResultsFromTags("mx.example.org", [["Subject", "x"]]).field, null);
});

Deno.test("stripForgedSpamFields removes every X-Spam verdict field, folded ones whole, in the header only", () => {
  const message = [
    "X-Spam-Status: No, score=-100.0",
    "Subject: test",
    "x-spam-score :",
    "\t-100.0",
    "X-Spam-Flag: NO",
    "X-Spam-Level: ",
    "X-Spam-Report: kept, not a verdict field",
    "",
    "X-Spam-Status: body text stays",
    "",
  ].join("\r\n");
  const out = decoder.decode(stripForgedSpamFields(encoder.encode(message)));
  assertEquals(
    out,
    [
      "Subject: test",
      "X-Spam-Report: kept, not a verdict field",
      "",
      "X-Spam-Status: body text stays",
      "",
    ].join("\r\n"),
  );
  const clean = encoder.encode("Subject: x\r\n\r\nbody\r\n");
  assert(stripForgedSpamFields(clean) === clean, "the same array when nothing is removed");
});
