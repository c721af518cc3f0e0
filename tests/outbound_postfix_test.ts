/**
 * Outbound delivery end to end against a real peer MTA (issue: "A real peer MTA"): Fumi
 * (`fumi serve --dev`, on PostgreSQL) sends to Postfix from Debian's packages, which listens
 * on 127.0.0.22 as the MX of `peer.test`; Knot serves `peer.test`, a null MX domain, a domain
 * whose MX has nobody listening, and example.org's DKIM records. Only loopback is used: Fumi's
 * resolver is Knot, Postfix looks up nothing and has no SMTP client (tests/postfix_peer.ts).
 *
 * What each step proves:
 * - a submitted message reaches Postfix over STARTTLS (its Received field says "using TLS")
 *   and both DKIM signatures (RSA, Ed25519) verify with dkimpy and the records `fumi dkim
 *   show` prints, as served by Knot;
 * - a 451 at RCPT is retried on the schedule and delivered once the peer accepts;
 * - a 550 at RCPT fails at once and the sender gets an RFC 3464 report in their INBOX with
 *   Postfix's reply as the diagnostic and mx.peer.test as the Remote-MTA;
 * - a null MX (RFC 7505) fails at once with 5.1.10, without an attempt to connect;
 * - an MX where nothing listens leaves the recipient queued with a 4.4.1 error, as `fumi
 *   queue list` shows;
 * - two Fumi processes on one database both working the queue send each of 20 messages once.
 *
 * Ignored without Knot, Postfix, root (Postfix starts as root) or PostgreSQL.
 *
 * @module
 */

import postgres from "postgres";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { assertOk, type Env, fumi, withTempDir } from "./cli.ts";
import { StubResolver } from "../src/dns/mod.ts";
import { IDLE_MS } from "../src/outbound/session_pool.ts";
import { dkimpyVerify } from "./dkimpy.ts";
import { type DnsServer, startDnsServer } from "./dns_server.ts";
import { ImapClient } from "./imap.ts";
import { postfixMissing, type PostfixPeer, startPostfixPeer } from "./postfix_peer.ts";
import { message, plain, Wire } from "./smtp_wire.ts";
import { GOOD_PASSWORD } from "./store.ts";
import { makeTestPki, type TestPki } from "./tls.ts";
import { type RunningServer, SERVER_URL, withSharedDatabase } from "./two_servers.ts";

const USER = "alice@example.org";
/** The peer's address, and one in the same network where nothing listens. */
const PEER_ADDRESS = "127.0.0.22";
const DOWN_ADDRESS = "127.0.0.23";
/** How long a `fumi serve` may take to start. */
const SERVE_MS = 60_000;
/** How long one step may wait for the mail or report it is about: steps are bounded by it. */
const STEP_MS = 30_000;
const BULK = 20;

const missing = await postfixMissing() ??
  ((await Deno.stat("/usr/sbin/knotd").catch(() => null)) === null
    ? "knotd is missing (apt-get install knot)"
    : null);

Deno.test({
  name:
    "outbound: delivery to a real Postfix over TLS with DKIM; 451, 550, null MX, no MX host, two workers",
  ignore: missing !== null || SERVER_URL === null,
  fn: async (t) => {
    await withTempDir(async (tmp) => {
      const pki = await makeTestPki();
      let peer: PostfixPeer | null = null;
      let dnsStop: (() => Promise<void>) | null = null;
      try {
        const leaf = await pki.issue(["mx.peer.test"]);
        await Deno.writeTextFile(`${tmp}/mx.key`, leaf.keyPem);
        peer = await startPostfixPeer({
          address: PEER_ADDRESS,
          domain: "peer.test",
          users: ["bob", "later"],
          certFile: leaf.certFile,
          keyFile: `${tmp}/mx.key`,
          hostname: "mx.peer.test",
        });
        const mx = peer;
        await withSharedDatabase(tmp, pki, USER, SERVE_MS, async ({ env, serve }) => {
          const shown = assertOk(await fumi(["dkim", "show", "example.org"], { env }));
          const dns = await startDnsServer(zones(shown));
          dnsStop = () => dns.stop();
          const config = [
            "[dns]",
            `nameservers = ["${dns.address}:${dns.port}"]`,
            `timeout = "2s"`,
            "attempts = 1",
            "[queue]",
            `retry_first = "1s"`,
            `retry_max = "2s"`,
            `remote_port = ${mx.port}`,
            "",
          ].join("\n");
          const a = await serve("a", ["submissions", "imaps"], config);
          const sql = postgres(env.FUMI_DATABASE_URL!, { max: 1, onnotice: () => {} });
          try {
            await steps(t, { a, serve: () => serve("b", ["submissions"], config) }, {
              mx,
              pki,
              env,
              sql,
              records: recordsOf(shown),
              dns,
            });
          } finally {
            await sql.end({ timeout: 1 });
          }
        });
      } finally {
        await (dnsStop as (() => Promise<void>) | null)?.();
        await peer?.stop();
        await pki.remove();
      }
    });
  },
});

interface World {
  readonly mx: PostfixPeer;
  readonly pki: TestPki;
  /** What `fumi` commands need to reach the database. */
  readonly env: Env;
  readonly sql: postgres.Sql;
  /** example.org's DKIM records, name → TXT text, from `fumi dkim show`. */
  readonly records: Record<string, string>;
  /** Knot, serving them. */
  readonly dns: DnsServer;
}

async function steps(
  t: Deno.TestContext,
  servers: { a: RunningServer; serve(): Promise<RunningServer> },
  w: World,
): Promise<void> {
  const port = servers.a.ports.submissions!;
  /** A step whose failure shows the end of Postfix's log and the queue. */
  const step = (name: string, fn: () => Promise<void>) =>
    t.step(name, async () => {
      try {
        await fn();
      } catch (error) {
        const log = (await w.mx.log()).split("\n").slice(-25).join("\n");
        const queue = await w.sql`
          select address, status, attempts, last_error, next_attempt_at from queue_recipients`;
        throw new Error(
          `${(error as Error).message}\n--- Postfix log:\n${log}\n--- Queue: ${
            JSON.stringify(queue, null, 1)
          }`,
          { cause: error },
        );
      }
    });

  await step("delivered over STARTTLS; both DKIM signatures verify with dkimpy", async () => {
    const started = performance.now();
    await submit(port, w.pki, ["bob@peer.test"], "<tls-1@example.org>");
    const [got] = await waitFor("the message at Postfix", async () => {
      const found = (await w.mx.messages()).filter((m) => idOf(m.text) === "<tls-1@example.org>");
      return found.length > 0 ? found : null;
    });
    const received = receivedBy(got!.text, "mx.peer.test");
    // Postfix's smtpd_tls_received_header: "(using TLSv1.3 with cipher …)" and ESMTPS.
    assertMatch(received, /\(using TLSv1\.[23] with cipher /);
    assertMatch(received, /by mx\.peer\.test \(Postfix\) with ESMTPS id /);
    // The records the signatures name, looked up in DNS (Knot), are those `fumi dkim show` gave.
    const resolver = new StubResolver({
      nameservers: [{ address: w.dns.address, port: w.dns.port }],
      timeoutMs: 2000,
      attempts: 1,
    });
    const published: Record<string, string> = {};
    for (const [, selector] of got!.text.matchAll(/^DKIM-Signature:[^]*?\bs=([\w.-]+);/gim)) {
      const name = `${selector}._domainkey.example.org`;
      const answer = await resolver.lookup(name, "TXT");
      published[name] = answer.records.map((r) => r.text).join("");
    }
    assertEquals(published, w.records);
    const crlf = new TextEncoder().encode(got!.text.replace(/\r?\n/g, "\r\n"));
    assertEquals(await dkimpyVerify(crlf, published), [
      { ok: true, algorithm: "rsa-sha256" },
      { ok: true, algorithm: "ed25519-sha256" },
    ]);
    console.log(`  delivered in ${(performance.now() - started).toFixed(0)} ms`);
  });

  await step("451 at RCPT: deferred, then delivered on a retry", async () => {
    await w.mx.setAccess({ "later@peer.test": "451 4.7.1 try later" });
    // Postfix reads a changed map in its next session; Fumi keeps the last one open a while.
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS + 500));
    await submit(port, w.pki, ["later@peer.test"], "<later-1@example.org>");
    const deferred = await waitFor("the 451 recorded in the queue", async () => {
      const [row] = await w.sql<{ status: string; attempts: number; last_error: string | null }[]>`
        select status, attempts, last_error from queue_recipients
        where address = 'later@peer.test'`;
      return row !== undefined && row.attempts >= 1 ? row : null;
    });
    assertEquals(deferred.status, "queued");
    assertMatch(deferred.last_error ?? "", /^451 4\.7\.1 .*try later/);
    await w.mx.setAccess({});
    await waitFor("the message at Postfix after the retry", async () => {
      const found = (await w.mx.messages()).filter((m) => idOf(m.text) === "<later-1@example.org>");
      return found.length === 1 && found[0]!.user === "later" ? found : null;
    });
    assertMatch(
      await w.mx.log(),
      /NOQUEUE: reject: RCPT from \S+: 451 4\.7\.1 <later@peer\.test>: Recipient address rejected: try later/,
    );
    // Deferred one or more times, then delivered once (the log line follows Postfix's 250).
    const seen = await waitFor("Fumi's log of the delivery", () => {
      const kinds = attemptsLogged(servers.a, "later@peer.test");
      return Promise.resolve(kinds.at(-1) === "delivered" ? kinds : null);
    });
    assert(seen.length >= 2, `attempts: ${seen.join(", ")}`);
    assertEquals(seen.slice(0, -1).filter((k) => k !== "deferred"), [], "before the delivery");
  });

  await step("550 at RCPT: the sender gets a delivery status report", async () => {
    await submit(port, w.pki, ["nobody@peer.test"], "<nobody-1@example.org>");
    const report = await waitForReport(servers.a, w.pki, "nobody@peer.test");
    assertMatch(report, /Content-Type: multipart\/report; report-type=delivery-status;/i);
    assertMatch(report, /^From: .*MAILER-DAEMON@/im);
    assertMatch(report, /^Final-Recipient: rfc822; ?nobody@peer\.test$/im);
    assertMatch(report, /^Action: failed$/m);
    assertMatch(report, /^Status: 5\.1\.1$/m);
    assertMatch(report, /^Remote-MTA: dns; ?mx\.peer\.test$/m);
    assertMatch(
      unfold(report),
      /^Diagnostic-Code: smtp; ?550 5\.1\.1 <nobody@peer\.test>: Recipient address rejected: User unknown in virtual mailbox table/m,
    );
    assertMatch(statusPart(report), /^Reporting-MTA: dns; /m);
    assertEquals(attemptsLogged(servers.a, "nobody@peer.test"), ["failed"]);
    // The original is returned: its Message-ID is in the report.
    assertStringIncludes(report, "<nobody-1@example.org>");
  });

  await step("null MX: fails at once with 5.1.10, no retries", async () => {
    const started = performance.now();
    await submit(port, w.pki, ["someone@nullmx.test"], "<nullmx-1@example.org>");
    const report = await waitForReport(servers.a, w.pki, "someone@nullmx.test");
    const took = performance.now() - started;
    assertMatch(report, /^Action: failed$/m);
    assertMatch(report, /^Status: 5\.1\.10$/m);
    assert(!/^(Remote-MTA|Diagnostic-Code):/m.test(statusPart(report)), "no host answered");
    // One attempt (the report follows it), not the retry schedule's: well under its steps.
    assert(took < 10_000, `the null MX report took ${took.toFixed(0)} ms`);
    assertEquals(attemptsLogged(servers.a, "someone@nullmx.test"), ["failed"]);
  });

  await step("MX host unreachable: stays queued with 4.4.1", async () => {
    await submit(port, w.pki, ["someone@down.test"], "<down-1@example.org>");
    const row = await waitFor("the failed attempt recorded", async () => {
      const [row] = await w.sql<{ status: string; attempts: number; last_error: string | null }[]>`
        select status, attempts, last_error from queue_recipients
        where address = 'someone@down.test'`;
      return row !== undefined && row.attempts >= 1 ? row : null;
    });
    assertEquals(row.status, "queued");
    assertMatch(
      row.last_error ?? "",
      /^451 4\.4\.1 mx\.down\.test \[127\.0\.0\.23\]: cannot connect/,
    );
    // What an administrator sees: mailq's "(reason)" under the queued recipient.
    const listed = assertOk(await fumi(["queue", "list"], { env: w.env })).join("\n");
    assertMatch(listed, /^ +someone@down\.test +queued, \d+ attempts?, /m);
    assertMatch(listed, /^ +\(451 4\.4\.1 mx\.down\.test \[127\.0\.0\.23\]: cannot connect/m);
  });

  await step(`two processes share the queue: ${BULK} messages, each sent once`, async () => {
    const b = await servers.serve();
    const aLogged = servers.a.child.stderr.length;
    const started = performance.now();
    const ids = Array.from({ length: BULK }, (_, i) => `<bulk-${i}@example.org>`);
    await Promise.all(ids.map((id, i) =>
      submit(
        (i % 2 === 0 ? servers.a : b).ports.submissions!,
        w.pki,
        ["bob@peer.test"],
        id,
      )
    ));
    await waitFor(`all ${BULK} messages at Postfix`, async () => {
      const got = (await w.mx.messages()).filter((m) => idOf(m.text)?.startsWith("<bulk-"));
      return got.length >= BULK ? got : null;
    });
    const took = performance.now() - started;
    // Give a second sending a moment to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const counts = new Map<string, number>();
    for (const m of await w.mx.messages()) {
      const id = idOf(m.text);
      if (id?.startsWith("<bulk-")) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    assertEquals([...counts.keys()].sort(), [...ids].sort());
    const twice = [...counts].filter(([, n]) => n !== 1);
    assertEquals(twice, [], "messages Postfix received more than once");
    // Fumi logs to stderr: "… INFO  delivered component=outbound queue=… to=… host=…".
    const delivered = (lines: readonly string[]) =>
      lines.filter((l) => / delivered component=outbound .*to=bob@peer\.test /.test(l)).length;
    const byA = delivered(servers.a.child.stderr.slice(aLogged));
    const byB = delivered(b.child.stderr);
    assertEquals(byA + byB, BULK, "deliveries the two servers logged");
    console.log(`  ${BULK} delivered in ${took.toFixed(0)} ms: ${byA} by A, ${byB} by B`);
  });
}

/**
 * What each outbound attempt for `address` came to, as the server logged it (stderr, text:
 * "… WARN  failed component=outbound queue=7 to=bob@… reply=…"): delivered, deferred, failed.
 */
function attemptsLogged(server: RunningServer, address: string): string[] {
  return server.child.stderr.flatMap((line) => {
    const match = / (delivered|deferred|failed) component=outbound .*\bto=(\S+)/.exec(line);
    return match !== null && match[2] === address ? [match[1]!] : [];
  });
}

/** Submits one message from alice over implicit TLS with AUTH PLAIN. */
async function submit(
  port: number,
  pki: TestPki,
  to: readonly string[],
  messageId: string,
): Promise<void> {
  const c = await Wire.connectTls(port, pki.caPem);
  try {
    await c.expect("220");
    await c.command("EHLO client.example", "250");
    await c.command(`AUTH PLAIN ${plain("", USER, GOOD_PASSWORD)}`, "235 2.7.0");
    await c.command(`MAIL FROM:<${USER}>`, "250 2.1.0");
    for (const address of to) await c.command(`RCPT TO:<${address}>`, "250 2.1.5");
    await c.command("DATA", "354");
    await c.send(
      message(
        `From: Alice <${USER}>`,
        `To: ${to.join(", ")}`,
        `Subject: outbound test ${messageId}`,
        `Message-ID: ${messageId}`,
        `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Hello from Fumi.",
        "A second line, and a third.",
      ) + ".\r\n",
    );
    await c.expect("250 2.0.0");
    await c.command("QUIT", "221 2.0.0");
  } finally {
    c.close();
  }
}

/** Polls `probe` until it gives a value, for at most {@link STEP_MS}. */
async function waitFor<T>(what: string, probe: () => Promise<T | null>): Promise<T> {
  const until = Date.now() + STEP_MS;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > until) throw new Error(`No ${what} in ${STEP_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Waits for a report about `recipient` in alice's INBOX (read over IMAP); returns its text. */
async function waitForReport(
  server: RunningServer,
  pki: TestPki,
  recipient: string,
): Promise<string> {
  return await waitFor(`report about ${recipient} in ${USER}'s INBOX`, async () => {
    const imap = await ImapClient.connectTls(server.ports.imaps!, pki.caPem);
    try {
      await imap.line();
      const login = await imap.command(`a1 LOGIN ${USER} "${GOOD_PASSWORD}"`);
      assert(login.at(-1)!.startsWith("a1 OK"), login.join("\n"));
      const selected = await imap.command("a2 EXAMINE INBOX");
      assert(selected.at(-1)!.startsWith("a2 OK"), selected.join("\n"));
      if (selected.includes("* 0 EXISTS")) return null;
      const fetched = await imap.command("a3 FETCH 1:* (BODY.PEEK[])");
      assert(fetched.at(-1)!.startsWith("a3 OK"), fetched.at(-1));
      // One text per message: each starts with its untagged FETCH line.
      const texts = fetched.join("\n").split(/^\* \d+ FETCH /m).slice(1);
      return texts.find((text) => new RegExp(`^Final-Recipient: .*${recipient}`, "m").test(text)) ??
        null;
    } finally {
      await imap.command("a4 LOGOUT").catch(() => []);
      imap.close();
    }
  });
}

/** The zones Knot serves: the peer's, the failure cases', and example.org's DKIM records. */
function zones(dkimShow: readonly string[]): Record<string, string> {
  const soa = (origin: string) =>
    `@ SOA ns.${origin}. hostmaster.${origin}. 1 3600 600 86400 60\n@ NS ns.${origin}.\nns A 127.0.0.1`;
  const dkim = dkimShow.filter((l) => /^\s*\S+\._domainkey\.example\.org\. +TXT /.test(l));
  assertEquals(dkim.length, 2, `DKIM records in ${JSON.stringify(dkimShow)}`);
  return {
    "peer.test": `${soa("peer.test")}\n@ MX 10 mx\nmx A ${PEER_ADDRESS}`,
    // RFC 7505 §3: a single MX of preference 0 with the root as exchange.
    "nullmx.test": `${soa("nullmx.test")}\n@ MX 0 .`,
    "down.test": `${soa("down.test")}\n@ MX 10 mx\nmx A ${DOWN_ADDRESS}`,
    "example.org": `${soa("example.org")}\n${dkim.map((l) => l.trim()).join("\n")}`,
  };
}

/** The records in zone-file lines of `fumi dkim show`, as name → TXT text. */
function recordsOf(lines: readonly string[]): Record<string, string> {
  const records: Record<string, string> = {};
  for (const line of lines) {
    const match = /^\s*(\S+\._domainkey\.\S+)\. {2}TXT {2}((?:"[^"]*" ?)+)/.exec(line);
    if (!match) continue;
    records[match[1]!] = [...match[2]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join("");
  }
  return records;
}

function idOf(text: string): string | null {
  return /^Message-ID:\s*(<[^>]*>)/im.exec(text)?.[1] ?? null;
}

/** The message/delivery-status part of a report (RFC 3464 §2), up to the next boundary. */
function statusPart(report: string): string {
  const start = report.search(/^Content-Type: message\/delivery-status/im);
  assert(start !== -1, `No message/delivery-status part in:\n${report}`);
  const rest = report.slice(start);
  const end = rest.indexOf("\n--");
  return end === -1 ? rest : rest.slice(0, end);
}

/** The Received field that `host` added, unfolded. */
function receivedBy(text: string, host: string): string {
  const header = text.split(/\r?\n\r?\n/, 1)[0]!;
  const fields = unfold(header).split(/\r?\n/).filter((l) => /^Received:/i.test(l));
  const field = fields.find((f) => f.includes(`by ${host} `));
  if (field === undefined) throw new Error(`No Received field by ${host} in:\n${header}`);
  return field;
}

/** Joins folded lines (RFC 5322 §2.2.3). */
function unfold(text: string): string {
  return text.replace(/\r?\n[ \t]+/g, " ");
}
