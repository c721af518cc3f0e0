import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { parseAddress } from "../util/address.ts";
import {
  attachmentPolicy,
  headerProblem,
  headerSyntax,
  recipientLimit,
  sizeCheck,
} from "./builtin.ts";
import { FilterChain, type FilterContext, type FilterStage } from "./chain.ts";
import { ACCEPT } from "./verdict.ts";

function context(stage: FilterStage, more: Partial<FilterContext> = {}): FilterContext {
  return {
    stage,
    connection: { ip: "192.0.2.7", port: 25, tls: null, role: "mx" },
    helo: "client.example",
    account: null,
    sender: parseAddress("sender@remote.example"),
    declaredSize: null,
    recipients: [],
    recipient: null,
    message: null,
    ...more,
  };
}

const encoder = new TextEncoder();

function withHeader(lines: string[]): FilterContext {
  const header = encoder.encode(lines.map((l) => `${l}\r\n`).join("") + "\r\n");
  const raw = new Uint8Array([...header, ...encoder.encode("Body.\r\n")]);
  return context("data", { message: { size: raw.length, header, raw } });
}

const ORDINARY = [
  "Received: from client.example by mx.example.org; Fri, 27 Nov 2026 12:00:00 +0000",
  "Received: from a.example by client.example; Fri, 27 Nov 2026 11:59:59 +0000",
  "From: Sender <sender@remote.example>",
  "To: alice@example.org,",
  "\tbob@example.org",
  "Subject: Hello",
  "Date: Fri, 27 Nov 2026 12:00:00 +0000",
  "Message-ID: <1@remote.example>",
  "MIME-Version: 1.0",
  "Content-Type: text/plain; charset=utf-8",
];

Deno.test("sizeCheck: a declared size over the limit is refused at MAIL with 552 5.3.4", async () => {
  const check = sizeCheck(1000);
  assertEquals(check.stages, ["mail"]);
  assertEquals(await check.run(context("mail", { declaredSize: 1001 }), AbortSignal.abort()), {
    action: "reject",
    code: 552,
    enhanced: "5.3.4",
    text: "Message size exceeds fixed maximum message size",
  });
  for (const declaredSize of [1000, 0, null]) {
    assertEquals(
      await check.run(context("mail", { declaredSize }), new AbortController().signal),
      { action: "accept" },
      String(declaredSize),
    );
  }
  assertThrows(() => sizeCheck(-1), RangeError);
  assertThrows(() => sizeCheck(1.5), RangeError);
});

Deno.test("recipientLimit: the recipient past the limit is tempfailed with 452 4.5.3", async () => {
  const chain = new FilterChain([recipientLimit(2)]);
  const a = parseAddress("a@example.org");
  const b = parseAddress("b@example.org");
  const c = parseAddress("c@example.org");
  assertEquals(
    (await chain.run(context("rcpt", { recipients: [a], recipient: b }))).verdict,
    { action: "accept" },
  );
  assertEquals(
    (await chain.run(context("rcpt", { recipients: [a, b], recipient: c }))).verdict,
    { action: "tempfail", code: 452, enhanced: "4.5.3", text: "Too many recipients" },
  );
  assertEquals(
    (await chain.run(context("mail", { recipients: [a, b, c] }))).verdict.action,
    "accept",
    "only at the rcpt stage",
  );
  assertThrows(() => recipientLimit(0), RangeError);
});

Deno.test("headerSyntax: an ordinary message passes", async () => {
  const chain = new FilterChain([headerSyntax()]);
  assertEquals((await chain.run(withHeader(ORDINARY))).verdict, { action: "accept" });
  assertEquals((await chain.run(context("data"))).verdict, { action: "accept" }, "no message");
  for (
    const lines of [
      [],
      ["Subject : obsolete white space before the colon"],
      ["X-Empty:"],
      ["from: a@example.org", "Resent-From: b@example.org", "Resent-From: c@example.org"],
      ["Comments: one", "Comments: two", "Keywords: x", "Keywords: y"],
      [`X-Long-Name-${"n".repeat(500)}: x`],
    ]
  ) {
    assertEquals(headerProblem(withHeader(lines).message!.header), null, JSON.stringify(lines));
  }
  // The header block may come with or without its empty line; the body is not looked at.
  assertEquals(headerProblem(encoder.encode("From: a@b.example\r\n")), null);
  assertEquals(headerProblem(encoder.encode("From: a@b.example\r\n\r\nnot a field\r\n")), null);
});

Deno.test("headerSyntax: two From fields are refused with 554 5.6.0", async () => {
  const chain = new FilterChain([headerSyntax()]);
  const twice = withHeader([...ORDINARY, "From: Other <other@remote.example>"]);
  assertEquals((await chain.run(twice)).verdict, {
    action: "reject",
    code: 554,
    enhanced: "5.6.0",
    text: "Message header has more than one From field",
  });
  for (const name of ["Sender", "Date", "Subject", "Message-ID", "To", "Cc", "Reply-To"]) {
    assertEquals(
      headerProblem(encoder.encode(`${name}: a\r\n${name.toUpperCase()}: b\r\n`)),
      `Message header has more than one ${name.toUpperCase()} field`,
      name,
    );
  }
  for (const name of ["In-Reply-To", "References"]) {
    assertEquals(
      headerProblem(encoder.encode(`${name}: <a@b>\r\n${name}: <c@d>\r\n`)),
      `Message header has more than one ${name} field`,
    );
  }
});

Deno.test("headerSyntax: a line that is not a field is refused", async () => {
  const chain = new FilterChain([headerSyntax()]);
  const result = await chain.run(withHeader([...ORDINARY.slice(0, 3), "no colon here"]));
  assertEquals(result.verdict, {
    action: "reject",
    code: 554,
    enhanced: "5.6.0",
    text: "Message header has a line that is not a header field",
  });
  const cases: [string, string][] = [
    ["Bad Name: x\r\n", "Message header has a line that is not a header field"],
    [": no name\r\n", "Message header has a line that is not a header field"],
    ["Subj\u00e9ct: 8-bit name\r\n", "Message header has a line that is not a header field"],
    [" folded: first\r\n", "Message header starts with a continuation line"],
    ["Subject: x\r\nFrom a@b.example\r\n", "Message header has a line that is not a header field"],
  ];
  for (const [header, problem] of cases) {
    assertEquals(headerProblem(encoder.encode(header)), problem, JSON.stringify(header));
  }
});

Deno.test("attachmentPolicy: counts named or attachment parts of submitted mail, sizes decoded", () => {
  const part = (name: string, base64: string) =>
    [
      "--b",
      `Content-Type: application/octet-stream; name="${name}"`,
      "Content-Transfer-Encoding: base64",
      "",
      base64,
    ].join("\r\n");
  const mail = (parts: string[]) => {
    const text = [
      "From: a@example.org",
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain",
      "",
      "See attached.",
      ...parts,
      "--b--",
      "",
    ].join("\r\n");
    const raw = encoder.encode(text);
    const header = raw.subarray(0, text.indexOf("\r\n\r\n") + 4);
    return { size: raw.length, header, raw };
  };
  const check = attachmentPolicy({ maxSize: 6, maxCount: 2 });
  const alice = { id: 1, address: "a@example.org" };
  const run = (parts: string[], account: typeof alice | null = alice) =>
    check.run(context("data", { account, message: mail(parts) }), new AbortController().signal);
  // "QUJDREVG" is base64 of 6 octets: at the limit; 12 octets of base64 are 9.
  assertEquals(run([part("a.bin", "QUJDREVG"), part("b.bin", "QUJD")]), ACCEPT);
  assertEquals(run([part("big.bin", "QUJDREVGR0hJ")]), {
    action: "reject",
    code: 552,
    enhanced: "5.3.4",
    text: "An attachment is larger than 6 octets",
  });
  const three = [part("a", "QUJD"), part("b", "QUJD"), part("c", "QUJD")];
  assertEquals((run(three) as { text: string }).text, "Too many attachments: at most 2");
  // Mail received as MX (no signed-in user) is not ours to limit.
  assertEquals(run(three, null), ACCEPT);
  // Not text, so a file, whatever its labels; and one inside a forwarded message counts.
  const unlabelled = [
    "--b",
    "Content-Type: image/png",
    "Content-Transfer-Encoding: base64",
    "",
    "QUJDREVGR0hJ",
  ].join("\r\n");
  assertEquals(
    (run([unlabelled]) as { text: string }).text,
    "An attachment is larger than 6 octets",
  );
  const forwarded = [
    "--b",
    "Content-Type: message/rfc822",
    "",
    "From: c@example.net",
    'Content-Type: multipart/mixed; boundary="i"',
    "",
    "--i",
    'Content-Type: application/zip; name="x.zip"',
    "Content-Transfer-Encoding: base64",
    "",
    "QUJDREVGR0hJ",
    "--i--",
  ].join("\r\n");
  assertEquals(
    (run([forwarded]) as { text: string }).text,
    "An attachment is larger than 6 octets",
  );
});
