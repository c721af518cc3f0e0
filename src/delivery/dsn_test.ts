import { assert, assertEquals, assertStringIncludes, assertThrows } from "../../tests/assert.ts";
import { getField, parseHeader, parseStructure } from "../mime/mod.ts";
import {
  buildDsn,
  type DsnInput,
  dsnNeeds8Bit,
  type DsnRecipient,
  MAX_RETURNED_SIZE,
  wantsDsn,
} from "./dsn.ts";

const ORIGINAL = new TextEncoder().encode(
  [
    "From: Alice <alice@example.org>",
    "To: bob@remote.example",
    "Subject: Lunch",
    "Message-ID: <lunch@example.org>",
    "",
    "Shall we?",
    "",
  ].join("\r\n"),
);

const BOUNCED: DsnRecipient = {
  address: "bob@remote.example",
  action: "failed",
  remoteHost: "mx.remote.example",
  diagnostic: "550 5.1.1 <bob@remote.example>: Recipient address rejected: User unknown",
  orcpt: "rfc822;Bob@Remote.Example",
  lastAttemptAt: new Date("2026-11-28T04:00:00Z"),
};

function input(overrides: Partial<DsnInput> = {}): DsnInput {
  return {
    hostname: "mail.example.org",
    sender: "alice@example.org",
    envid: "QQ314159",
    ret: "FULL",
    arrivalDate: new Date("2026-11-28T03:00:00Z"),
    message: ORIGINAL,
    recipients: [BOUNCED],
    now: new Date("2026-11-28T04:00:01Z"),
    uniqueId: "dsn-1",
    ...overrides,
  };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The parts of a DSN as our MIME parser sees them: [type/subtype, body text]. */
function parts(dsn: Uint8Array): [string, string][] {
  const root = parseStructure(dsn);
  assertEquals(`${root.type}/${root.subtype}`, "multipart/report");
  assertEquals(root.params.find(([k]) => k === "report-type")?.[1], "delivery-status");
  return root.parts!.map((
    p,
  ) => [`${p.type}/${p.subtype}`, text(dsn.subarray(p.bodyStart, p.end))]);
}

/** Parses `dsn` with Python's email package and returns what it found, as JSON. */
async function python(dsn: Uint8Array): Promise<{
  type: string;
  reportType: string;
  defects: string[];
  headers: Record<string, string>;
  parts: string[];
  perMessage: Record<string, string>;
  perRecipient: Record<string, string>[];
  returned: Record<string, string>;
  returnedBody: string;
}> {
  const script = `
import email, json, sys
from email import policy
raw = sys.stdin.buffer.read()
msg = email.message_from_bytes(raw, policy=policy.compat32)
parts = msg.get_payload()
status = parts[1].get_payload()
third = parts[2]
if third.get_content_type() == "message/rfc822":
    inner = third.get_payload()[0]
    returned = dict(inner.items())
    body = inner.get_payload()
else:
    returned = dict(email.message_from_string(third.get_payload()).items())
    body = ""
defects = [type(d).__name__ for p in msg.walk() for d in p.defects]
print(json.dumps({
  "type": msg.get_content_type(),
  "reportType": msg.get_param("report-type"),
  "defects": defects,
  "headers": dict(msg.items()),
  "parts": [p.get_content_type() for p in parts],
  "perMessage": dict(status[0].items()),
  "perRecipient": [dict(s.items()) for s in status[1:]],
  "returned": returned,
  "returnedBody": body,
}))
`;
  const child = new Deno.Command("python3", {
    args: ["-c", script],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(dsn);
  await writer.close();
  const out = await child.output();
  assert(out.success, text(out.stderr));
  return JSON.parse(text(out.stdout));
}

Deno.test("wantsDsn: never to <>, NOTIFY respected, failures and delays by default", () => {
  for (const event of ["failure", "delay", "success"] as const) {
    // RFC 5321 §4.5.5, RFC 3461 §5.2.1: whatever NOTIFY says, no DSN to the null path.
    for (const notify of [null, "FAILURE,DELAY,SUCCESS", "SUCCESS", "NEVER"]) {
      assertEquals(wantsDsn("", notify, event), false);
      assertEquals(wantsDsn("<>", notify, event), false);
    }
    assertEquals(wantsDsn("a@example.org", "NEVER", event), false);
  }
  assertEquals(wantsDsn("a@example.org", null, "failure"), true);
  assertEquals(wantsDsn("a@example.org", null, "delay"), true);
  assertEquals(wantsDsn("a@example.org", null, "delay", { delayWithoutNotify: false }), false);
  assertEquals(wantsDsn("a@example.org", null, "success"), false);
  assertEquals(wantsDsn("a@example.org", "SUCCESS", "failure"), false);
  assertEquals(wantsDsn("a@example.org", "SUCCESS", "success"), true);
  assertEquals(wantsDsn("a@example.org", "FAILURE", "delay"), false);
  assertEquals(wantsDsn("a@example.org", "failure,delay", "delay"), true);
  assertEquals(wantsDsn("a@example.org", "DELAY", "failure"), false);
});

Deno.test("buildDsn: a failure with RET=FULL, ENVID and ORCPT, read by our MIME parser", () => {
  const dsn = buildDsn(input());
  const header = parseHeader(dsn);
  assertEquals(
    getField(header, "From"),
    "Mail Delivery System <MAILER-DAEMON@mail.example.org>",
  );
  assertEquals(getField(header, "To"), "<alice@example.org>");
  assertEquals(getField(header, "Subject"), "Undelivered Mail Returned to Sender");
  assertEquals(getField(header, "Date"), "Sat, 28 Nov 2026 04:00:01 +0000");
  assertEquals(getField(header, "Message-ID"), "<dsn-1@mail.example.org>");
  assertEquals(getField(header, "Auto-Submitted"), "auto-replied");
  assertEquals(getField(header, "MIME-Version"), "1.0");
  const [human, status, returned] = parts(dsn);
  assertEquals(human![0], "text/plain");
  assertStringIncludes(human![1], "could not be delivered");
  assertStringIncludes(human![1], "<bob@remote.example>: failed: the mailbox does not exist");
  assertStringIncludes(human![1], "The mail server mx.remote.example said: 550 5.1.1");
  assertEquals(status![0], "message/delivery-status");
  assertEquals(
    status![1],
    [
      "Reporting-MTA: dns; mail.example.org",
      "Original-Envelope-Id: QQ314159",
      "Arrival-Date: Sat, 28 Nov 2026 03:00:00 +0000",
      "",
      "Original-Recipient: rfc822; Bob@Remote.Example",
      "Final-Recipient: rfc822; bob@remote.example",
      "Action: failed",
      "Status: 5.1.1",
      "Remote-MTA: dns; mx.remote.example",
      "Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.example>: Recipient address",
      "\trejected: User unknown",
      "Last-Attempt-Date: Sat, 28 Nov 2026 04:00:00 +0000",
      "",
    ].join("\r\n"),
  );
  assertEquals(returned, ["message/rfc822", text(ORIGINAL)]);
  assertEquals(dsnNeeds8Bit(dsn), false);
  // Every line of the DSN is within RFC 5322 §2.1.1's 998 octets.
  assert(text(dsn).split("\r\n").every((l) => l.length <= 998));
});

Deno.test("buildDsn: Python's email package reads a failure, FULL, with ENVID and ORCPT", async () => {
  const got = await python(buildDsn(input()));
  assertEquals(got.type, "multipart/report");
  assertEquals(got.reportType, "delivery-status");
  assertEquals(got.defects, []);
  assertEquals(got.parts, ["text/plain", "message/delivery-status", "message/rfc822"]);
  assertEquals(got.headers["Auto-Submitted"], "auto-replied");
  assertEquals(got.perMessage, {
    "Reporting-MTA": "dns; mail.example.org",
    "Original-Envelope-Id": "QQ314159",
    "Arrival-Date": "Sat, 28 Nov 2026 03:00:00 +0000",
  });
  assertEquals(got.perRecipient.length, 1);
  const r = got.perRecipient[0]!;
  assertEquals(r["Original-Recipient"], "rfc822; Bob@Remote.Example");
  assertEquals(r["Final-Recipient"], "rfc822; bob@remote.example");
  assertEquals(r["Action"], "failed");
  assertEquals(r["Status"], "5.1.1");
  assertEquals(r["Remote-MTA"], "dns; mx.remote.example");
  assertStringIncludes(r["Diagnostic-Code"]!, "smtp; 550 5.1.1 <bob@remote.example>");
  assertEquals(got.returned["Subject"], "Lunch");
  assertEquals(got.returnedBody, "Shall we?\r\n");
});

Deno.test("buildDsn: RET=HDRS, no ENVID, no ORCPT returns the header only", async () => {
  const dsn = buildDsn(input({
    ret: "HDRS",
    envid: null,
    recipients: [{ ...BOUNCED, orcpt: null }],
  }));
  const [, status, returned] = parts(dsn);
  assert(!status![1].includes("Original-Envelope-Id"));
  assert(!status![1].includes("Original-Recipient"));
  assertEquals(returned![0], "text/rfc822-headers");
  assertStringIncludes(returned![1], "Subject: Lunch");
  assert(!returned![1].includes("Shall we?"), "no body");
  const got = await python(dsn);
  assertEquals(got.defects, []);
  assertEquals(got.parts, ["text/plain", "message/delivery-status", "text/rfc822-headers"]);
  assertEquals(Object.keys(got.perMessage), ["Reporting-MTA", "Arrival-Date"]);
  assertEquals(got.perRecipient[0]!["Original-Recipient"], undefined);
  assertEquals(got.returned["Message-ID"], "<lunch@example.org>");
});

Deno.test("buildDsn: a large message is returned as its header even with RET=FULL", () => {
  const big = new Uint8Array(MAX_RETURNED_SIZE + 1).fill(0x78);
  big.set(ORIGINAL);
  assertEquals(parts(buildDsn(input({ message: big })))[2]![0], "text/rfc822-headers");
  assertEquals(
    parts(buildDsn(input({ message: big, maxReturnedSize: 2 * MAX_RETURNED_SIZE })))[2]![0],
    "message/rfc822",
  );
  // RET absent: a failure returns the whole (small) message.
  assertEquals(parts(buildDsn(input({ ret: null })))[2]![0], "message/rfc822");
});

Deno.test("buildDsn: a delay warning says until when, returns the header only", async () => {
  const delayed: DsnRecipient = {
    address: "carol@slow.example",
    action: "delayed",
    remoteHost: "mx.slow.example",
    diagnostic: "451 4.7.1 Greylisted, try again later",
    lastAttemptAt: new Date("2026-11-28T03:30:00Z"),
    willRetryUntil: new Date("2026-12-03T03:00:00Z"),
  };
  const dsn = buildDsn(input({ recipients: [delayed] }));
  assertEquals(getField(parseHeader(dsn), "Subject"), "Delayed Mail (still being retried)");
  const [human, , returned] = parts(dsn);
  assertStringIncludes(human![1], "has not yet been delivered");
  assertStringIncludes(human![1], "Trying until Thu, 3 Dec 2026 03:00:00 +0000.");
  assertEquals(returned![0], "text/rfc822-headers");
  const got = await python(dsn);
  assertEquals(got.defects, []);
  const r = got.perRecipient[0]!;
  assertEquals(r["Action"], "delayed");
  assertEquals(r["Status"], "4.7.1");
  assertEquals(r["Will-Retry-Until"], "Thu, 3 Dec 2026 03:00:00 +0000");
  assertEquals(r["Last-Attempt-Date"], "Sat, 28 Nov 2026 03:30:00 +0000");
});

Deno.test("buildDsn: several recipients, statuses derived when the remote gave none", async () => {
  const dsn = buildDsn(input({
    recipients: [
      { address: "a@x.example", action: "failed", diagnostic: "550 No such user here" },
      { address: "b@x.example", action: "failed", diagnostic: "554 4.1.1 odd class" },
      {
        address: "c@y.example",
        action: "failed",
        explanation: "the domain y.example does not exist",
      },
      { address: "d@z.example", action: "failed", status: "4.4.7" },
      { address: "e@z.example", action: "delivered", remoteHost: "mx.z.example" },
    ],
  }));
  const got = await python(dsn);
  assertEquals(got.defects, []);
  assertEquals(got.perRecipient.map((r) => [r["Final-Recipient"], r["Action"], r["Status"]]), [
    ["rfc822; a@x.example", "failed", "5.0.0"],
    ["rfc822; b@x.example", "failed", "5.0.0"], // an enhanced code of another class is ignored
    ["rfc822; c@y.example", "failed", "5.0.0"],
    ["rfc822; d@z.example", "failed", "4.4.7"],
    ["rfc822; e@z.example", "delivered", "2.0.0"],
  ]);
  const human = parts(dsn)[0]![1];
  assertStringIncludes(human, "<c@y.example>: failed: the domain y.example does not exist");
  assertStringIncludes(human, "<d@z.example>: failed: the message could not be delivered in time");
});

Deno.test("buildDsn: hostile and non-ASCII text cannot break the header syntax", async () => {
  const dsn = buildDsn(input({
    envid: "id\r\nBcc: victim@example.net",
    recipients: [{
      address: "bjørn@nørd.example",
      action: "failed",
      remoteHost: "mx.example\r\nX-Injected: 1",
      diagnostic: "550 5.7.1 Zurückgewiesen:\r\nX-Injected: yes\u0000 " + "spam ".repeat(400),
      orcpt: "utf-8;bjørn@nørd.example",
    }],
  }));
  const all = text(dsn);
  assert(!/^X-Injected/m.test(all), "no injected field");
  assert(!/^Bcc/m.test(all), "no injected field");
  assert(all.split("\r\n").every((l) => l.length <= 998));
  assert(!dsnNeeds8Bit(dsn), "ASCII only: the original here is ASCII");
  const got = await python(dsn);
  assertEquals(got.defects, []);
  const r = got.perRecipient[0]!;
  assertEquals(r["Final-Recipient"], "utf-8; bj\\x{F8}rn@n\\x{F8}rd.example"); // RFC 6533 §3
  assertEquals(r["Original-Recipient"], "utf-8; bj\\x{F8}rn@n\\x{F8}rd.example");
  assertEquals(r["Remote-MTA"], "dns; mx.example X-Injected: 1");
  assert(r["Diagnostic-Code"]!.startsWith("smtp; 550 5.7.1 Zur?ckgewiesen: X-Injected: yes?"));
  assert(r["Diagnostic-Code"]!.length < 900);
  assertEquals(got.perMessage["Original-Envelope-Id"], "id Bcc: victim@example.net");
});

Deno.test("buildDsn: an 8-bit original is returned as 8bit; the boundary avoids the content", () => {
  const original = new TextEncoder().encode(
    "Subject: Grüße\r\n\r\n--=_fumi-dsn-dsn-1\r\nbody ümlaut\r\n",
  );
  const dsn = buildDsn(input({ message: original }));
  assert(dsnNeeds8Bit(dsn));
  const root = parseStructure(dsn);
  assertEquals(root.params.find(([k]) => k === "boundary")?.[1], "=_fumi-dsn-dsn-1-1");
  const last = root.parts![2]!;
  assertEquals(last.encoding, "8bit");
  assertEquals(dsn.subarray(last.bodyStart, last.end), original);
});

Deno.test("buildDsn: refuses the null sender and an empty report", () => {
  assertThrows(() => buildDsn(input({ sender: "" })), Error, "null reverse-path");
  assertThrows(() => buildDsn(input({ recipients: [] })), Error, "at least one");
});
