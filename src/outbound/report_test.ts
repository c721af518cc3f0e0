import { assertEquals, assertMatch } from "../../tests/assert.ts";
import type { AcceptedMessage } from "../delivery/mod.ts";
import { silentLogger } from "../ops/log.ts";
import type { QueueEntry } from "../store/mod.ts";
import { delayReporter, failureReporter } from "./report.ts";
import type { FailedRecipient } from "./worker.ts";

const ENTRY: QueueEntry = {
  id: 1,
  accountId: null,
  sender: "alice@example.org",
  envid: null,
  ret: null,
  requireTls: null,
  size: 0,
  createdAt: new Date("2026-11-28T04:00:00Z"),
  recipients: [],
  message: new TextEncoder().encode("From: alice@example.org\r\nSubject: hi\r\n\r\nHi.\r\n"),
};

/** The DSN text the reporter delivers for one failed recipient. */
async function report(outcome: FailedRecipient["outcome"]): Promise<string> {
  return new TextDecoder().decode((await reportOf(outcome)).raw);
}

/** The DSN the reporter hands to delivery for one failed recipient of `entry`. */
async function reportOf(
  outcome: FailedRecipient["outcome"],
  entry = ENTRY,
): Promise<AcceptedMessage> {
  const sent: AcceptedMessage[] = [];
  const reporter = failureReporter({
    hostname: "mail.example.org",
    recipients: { resolve: () => Promise.resolve({ kind: "local", accountIds: [1], remote: [] }) },
    delivery: {
      accept: (accepted) => {
        sent.push(accepted);
        return Promise.resolve({ delivered: [], queueId: null });
      },
    },
    log: silentLogger,
  });
  const recipient = {
    id: 1,
    queueMessageId: 1,
    address: outcome.address,
    notify: null,
    orcpt: null,
    attempts: 0,
    queuedAt: ENTRY.createdAt,
    delayNotifiedAt: null,
  };
  await reporter(entry, [{ recipient, outcome }]);
  return sent[0]!;
}

Deno.test("report: on a REQUIRETLS message, headers only, and sent under REQUIRETLS (RFC 8689 §5)", async () => {
  const outcome = {
    address: "bob@peer.example",
    outcome: "permanent" as const,
    reply: "550 5.7.30 REQUIRETLS support required: mx.peer.example does not offer REQUIRETLS",
    remoteHost: null,
  };
  const body = "Hi.\r\n";
  const plain = await reportOf(outcome, { ...ENTRY, ret: "FULL" });
  const bound = await reportOf(outcome, { ...ENTRY, ret: "FULL", requireTls: true });
  const text = (m: AcceptedMessage) => new TextDecoder().decode(m.raw);
  assertEquals([plain.requireTls, bound.requireTls], [false, true]);
  assertMatch(text(plain), /Content-Type: message\/rfc822/);
  assertEquals(text(plain).includes(body), true);
  assertMatch(text(bound), /Content-Type: text\/rfc822-headers/);
  assertEquals(text(bound).includes(body), false);
  assertMatch(text(bound), /^Status: 5\.7\.30\r$/m);
});

Deno.test("report: a failure no server replied to takes its Status from our reply (null MX: 5.1.10)", async () => {
  const text = await report({
    address: "bob@nomail.example",
    outcome: "permanent",
    reply: "556 5.1.10 nomail.example does not accept mail (null MX)",
    remoteHost: null,
  });
  assertMatch(text, /^Status: 5\.1\.10\r$/m);
  assertMatch(text, /failed: 556 5\.1\.10 nomail\.example does not accept mail/);
});

Deno.test("report: a server's 550 gives Status and Diagnostic-Code; expiry is 4.4.7", async () => {
  const refused = await report({
    address: "bob@example.net",
    outcome: "permanent",
    reply: "550 5.1.1 <bob@example.net>: no such user",
    remoteHost: "mx.example.net",
  });
  assertMatch(refused, /^Status: 5\.1\.1\r$/m);
  assertMatch(refused, /^Remote-MTA: dns; mx\.example\.net\r$/m);
  assertMatch(refused, /^Diagnostic-Code: smtp; 550 5\.1\.1 <bob@example\.net>: no such user\r$/m);
  const expired = await report({
    address: "bob@example.net",
    outcome: "temporary",
    reply: "451 4.4.1 No mail host of example.net could be reached",
    remoteHost: null,
  });
  assertMatch(expired, /^Status: 4\.4\.7\r$/m);
});

Deno.test("report: a delay warning says delayed and until when; NOTIFY=FAILURE gets none", async () => {
  const sent: AcceptedMessage[] = [];
  const reporter = delayReporter({
    hostname: "mail.example.org",
    recipients: { resolve: () => Promise.resolve({ kind: "local", accountIds: [1], remote: [] }) },
    delivery: {
      accept: (accepted) => {
        sent.push(accepted);
        return Promise.resolve({ delivered: [], queueId: null });
      },
    },
    log: silentLogger,
  });
  const recipient = (address: string, notify: string | null) => ({
    id: 1,
    queueMessageId: 1,
    address,
    notify,
    orcpt: null,
    attempts: 3,
    queuedAt: ENTRY.createdAt,
    delayNotifiedAt: null,
  });
  const outcome = {
    address: "bob@example.net",
    outcome: "temporary" as const,
    reply: "451 4.7.1 Greylisted",
    remoteHost: "mx.example.net",
  };
  const retryUntil = new Date("2026-12-03T04:00:00Z");
  await reporter(ENTRY, [{
    recipient: recipient("bob@example.net", "FAILURE"),
    outcome,
    retryUntil,
  }]);
  assertEquals(sent.length, 0);
  await reporter(ENTRY, [{ recipient: recipient("bob@example.net", null), outcome, retryUntil }]);
  const text = new TextDecoder().decode(sent[0]!.raw);
  assertMatch(text, /^Action: delayed\r$/m);
  assertMatch(text, /^Will-Retry-Until: .*3 Dec 2026/m);
  assertMatch(text, /^Diagnostic-Code: smtp; 451 4\.7\.1 Greylisted\r$/m);
  assertEquals(sent[0]!.sender, null, "from <>");
});
