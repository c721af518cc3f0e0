/**
 * Operations end to end against a whole `fumi serve` in process (tests/ops_server.ts):
 * - /metrics after real SMTP deliveries and sign-ins: the counters moved;
 * - who may read /metrics: a client address outside `[metrics] allow` gets 403, and with
 *   FUMI_METRICS_TOKEN a request without the right bearer token gets 401;
 * - /readyz and /healthz on the HTTP and the metrics listeners;
 * - the log: exactly one line per SMTP transaction and per IMAP session, with the connection
 *   id and the figures, and never a password or message content.
 *
 * @module
 */

import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { createLogger } from "../src/ops/log.ts";
import { assertOk, fumi, table } from "./cli.ts";
import { ImapClient } from "./imap.ts";
import { eventually, logFields, type OpsServer, withOpsServer } from "./ops_server.ts";
import { GOOD_PASSWORD } from "./store.ts";
import { withSmtp } from "./smtp.ts";
import { plain, Wire } from "./smtp_wire.ts";

/** Marks the message body: it must never reach a log line. */
const BODY_MARKER = "zebra-body-7f3a";
const WRONG_PASSWORD = "not the password 93";

async function scrape(
  server: OpsServer,
  init: { token?: string; host?: string } = {},
): Promise<{ status: number; body: string; type: string | null }> {
  const host = init.host ?? "127.0.0.1";
  const response = await fetch(`http://${host}:${server.ports.metrics}/metrics`, {
    headers: init.token === undefined ? {} : { authorization: `Bearer ${init.token}` },
  });
  return {
    status: response.status,
    body: await response.text(),
    type: response.headers.get("content-type"),
  };
}

/** A sample's value, or undefined when the line is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** One message to alice over the MX, plain text. */
async function sendOverMx(server: OpsServer, subject: string): Promise<void> {
  const c = await Wire.connect(server.ports.smtp);
  try {
    await c.expect("220");
    await c.command("EHLO client.example", "250");
    await c.command("MAIL FROM:<sender@example.net>", "250 2.1.0");
    await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
    await c.command("DATA", "354");
    await c.command(
      [
        "From: sender@example.net",
        "To: alice@example.org",
        `Subject: ${subject}`,
        "",
        `Body ${BODY_MARKER}.`,
        ".",
      ].join("\r\n"),
      "250 2.0.0",
    );
    await c.command("QUIT", "221 2.0.0");
  } finally {
    c.close();
  }
}

Deno.test("metrics: counters move after real SMTP deliveries and sign-ins; the log has one line per transaction and session", async () => {
  await withOpsServer({}, async (server) => {
    const before = await scrape(server);
    assertEquals(before.status, 200);
    assertEquals(before.type, "text/plain; version=0.0.4; charset=utf-8");
    assertStringIncludes(before.body, "# TYPE fumi_messages_received_total counter\n");
    assertEquals(sample(before.body, 'fumi_messages_received_total{role="mx"}'), undefined);

    // Two messages over the MX (one connection each, no TLS).
    await sendOverMx(server, "first");
    await sendOverMx(server, "second");

    // Submission over implicit TLS: a wrong password, then the right one and a message
    // refused at the end of its content (From: not the user's), then an abandoned one.
    const s = await Wire.connectTls(server.ports.submissions, server.caPem);
    try {
      await s.expect("220");
      await s.command("EHLO client.example", "250");
      await s.command(`AUTH PLAIN ${plain("", "alice@example.org", WRONG_PASSWORD)}`, "535 5.7.8");
      await s.command(`AUTH PLAIN ${plain("", "alice@example.org", GOOD_PASSWORD)}`, "235 2.7.0");
      await s.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
      await s.command("RCPT TO:<alice@example.org>", "250 2.1.5");
      await s.command("DATA", "354");
      await s.command(
        `From: mallory@example.org\r\nSubject: forged\r\n\r\n${BODY_MARKER}\r\n.`,
        "553 5.7.1",
      );
      await s.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
      await s.command("RCPT TO:<alice@example.org>", "250 2.1.5");
      await s.command("RSET", "250 2.0.0");
      await s.command("QUIT", "221 2.0.0");
    } finally {
      s.close();
    }

    // IMAP over implicit TLS: sign in, read a message, leave.
    const imap = await ImapClient.connectTls(server.ports.imaps, server.caPem);
    try {
      await imap.line();
      const login = await imap.command(`a1 LOGIN alice@example.org "${GOOD_PASSWORD}"`);
      assertMatch(login.at(-1)!, /^a1 OK/);
      assertMatch((await imap.command("a2 SELECT INBOX")).at(-1)!, /^a2 OK/);
      const fetched = await imap.command("a3 FETCH 1 BODY[]");
      assert(fetched.some((l) => l.includes(BODY_MARKER)), "the message reached the mailbox");
      await imap.command("a4 LOGOUT");
    } finally {
      imap.close();
    }

    const text = await eventually(async () => {
      const { body } = await scrape(server);
      // Connections are counted when they end; the IMAP one ends last.
      return (sample(body, 'fumi_connections_total{protocol="imaps",tls="TLSv1.3"}') ?? 0) >= 1
        ? body
        : undefined;
    }, "the IMAP connection to be counted");
    const expected: Record<string, number> = {
      'fumi_messages_received_total{role="mx"}': 2,
      'fumi_messages_rejected_total{role="submission",reason="from-not-owned"}': 1,
      'fumi_connections_total{protocol="smtp",tls="none"}': 2,
      'fumi_connections_total{protocol="submissions",tls="TLSv1.3"}': 1,
      'fumi_connections_open{protocol="smtp"}': 0,
      'fumi_auth_total{protocol="smtp",result="failure",reason="bad-password"}': 1,
      'fumi_auth_total{protocol="smtp",result="success",reason=""}': 1,
      'fumi_auth_total{protocol="imap",result="success",reason=""}': 1,
      // The size check runs at MAIL: four of them.
      'fumi_filter_verdicts_total{check="size",verdict="accept"}': 4,
      'fumi_queue_recipients{state="queued"}': 0,
      'fumi_queue_recipients{state="held"}': 0,
      "fumi_queue_oldest_age_seconds": 0,
      "fumi_bans_active": 0,
    };
    for (const [series, value] of Object.entries(expected)) {
      assertEquals(sample(text, series), value, series);
    }
    assert(sample(text, "fumi_process_resident_memory_bytes")! > 10_000_000);
    assert(sample(text, "fumi_database_latency_seconds")! > 0);
    assert(sample(text, "fumi_database_ping_seconds_count")! >= 2);
    assert(sample(text, "fumi_event_loop_lag_seconds")! >= 0);
    // Nothing in the scrape names a user or carries content.
    assert(!text.includes("alice") && !text.includes(BODY_MARKER));

    // The log: one "smtp transaction" line per transaction, one "imap session" line.
    const transactions = server.log.map(logFields).filter((l) => l.message === "smtp transaction");
    assertEquals(
      transactions.map((t) => [t.fields.role, t.fields.result, t.fields.reason ?? ""]),
      [
        ["mx", "accepted", ""],
        ["mx", "accepted", ""],
        ["submission", "refused", "from-not-owned"],
        ["submission", "abandoned", ""],
      ],
    );
    for (const t of transactions) {
      assertMatch(t.fields.conn!, /^\S+$/);
      assertEquals(t.fields.txn, `${t.fields.conn}.${t.fields.txn!.split(".").at(-1)}`);
      assertMatch(t.fields.ms!, /^\d+$/);
      assertEquals(t.fields.rcpts, "1");
    }
    assertEquals(transactions[0]!.fields.from, "sender@example.net");
    assert(Number(transactions[0]!.fields.size) > 60, "size of the stored message");
    assertMatch(transactions[0]!.fields.id!, /^\S+$/);
    assert(transactions[0]!.fields.conn !== transactions[1]!.fields.conn, "two connections");
    assertEquals(transactions[2]!.fields.conn, transactions[3]!.fields.conn);
    assertEquals(transactions[3]!.fields.txn, `${transactions[3]!.fields.conn}.2`);
    const sessions = server.log.map(logFields).filter((l) => l.message === "imap session");
    assertEquals(sessions.length, 1, server.log.join("\n"));
    const session = sessions[0]!.fields;
    assertEquals([session.user, session.commands], ["alice@example.org", "4"]);
    assertMatch(session.conn!, /^\S+$/);
    assert(
      Number(session.octetsOut) > 100 && Number(session.octetsIn) > 40,
      JSON.stringify(session),
    );
    // Never a password, never the content, in any line.
    const all = server.log.join("\n");
    for (const secret of [GOOD_PASSWORD, WRONG_PASSWORD, BODY_MARKER]) {
      assert(!all.includes(secret), `the log leaks ${secret}`);
    }
  });
});

Deno.test("metrics: refused outside [metrics] allow (403) and without the bearer token (401)", async () => {
  const token = "metrics-token-5b1e9c";
  await withOpsServer({
    env: { FUMI_METRICS_TOKEN: token },
    // Listening on both loopbacks, readable from 127.0.0.1 only: ::1 is not allowed.
    metricsAddresses: ["127.0.0.1", "::1"],
    config: '[metrics]\nallow = ["127.0.0.1/32"]',
  }, async (server) => {
    assertEquals((await scrape(server, { token, host: "[::1]" })).status, 403);
    const ready = await fetch(`http://[::1]:${server.ports.metrics}/readyz`);
    await ready.body?.cancel();
    assertEquals(ready.status, 403, "every path is refused to a client outside the allow list");

    const missing = await fetch(`http://127.0.0.1:${server.ports.metrics}/metrics`);
    assertEquals(missing.status, 401);
    assertEquals(missing.headers.get("www-authenticate"), 'Bearer realm="fumi metrics"');
    assertEquals(await missing.text(), "Unauthorized\n");
    assertEquals((await scrape(server, { token: "wrong" })).status, 401);
    assertEquals((await scrape(server, { token: token.slice(0, -1) })).status, 401);
    const ok = await scrape(server, { token });
    assertEquals(ok.status, 200);
    assertStringIncludes(ok.body, "# TYPE fumi_connections_total counter");
    // The probes need no token.
    const readyz = await fetch(`http://127.0.0.1:${server.ports.metrics}/readyz`);
    assertEquals([readyz.status, await readyz.text()], [200, "ready\n"]);
    const refusals = server.log.map(logFields).filter((l) =>
      l.message === "metrics request refused"
    );
    assertEquals(refusals.map((r) => r.fields.reason), [
      "address",
      "address",
      "token",
      "token",
      "token",
    ]);
    assert(!server.log.join("\n").includes(token), "the token is never logged");
  });
});

Deno.test("readyz and healthz on the HTTP and the metrics listener", async () => {
  await withOpsServer({ selfSigned: true }, async (server) => {
    for (const port of [server.ports.http, server.ports.metrics]) {
      for (const path of ["/readyz", "/healthz"]) {
        const response = await fetch(`http://127.0.0.1:${port}${path}`);
        assertEquals(
          [response.status, await response.text(), response.headers.get("cache-control")],
          [200, path === "/readyz" ? "ready\n" : "ok\n", "no-store"],
          `${path} on ${port}`,
        );
      }
    }
    const post = await fetch(`http://127.0.0.1:${server.ports.http}/readyz`, { method: "POST" });
    await post.body?.cancel();
    assertEquals(post.status, 405);
    // The certificate the server made for itself at first start is in the audit log.
    const audit = await fumi(["audit", "--config", server.config], { env: server.env });
    const rows = table(assertOk(audit)).map((r) => [r[2], r[3], r[4], r[5]]);
    assertEquals(rows.find((r) => r[2] === "cert.self-signed"), [
      "system",
      "system",
      "cert.self-signed",
      "mail.example.org",
    ]);
  });
});

Deno.test("log: exactly one smtp transaction line however a transaction ends", async () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
  await withSmtp(async (t) => {
    const session = async (steps: (c: Wire) => Promise<void>) => {
      const c = await Wire.connect(t.ports.mx);
      try {
        await c.expect("220");
        await c.command("EHLO client.example", "250");
        await steps(c);
      } finally {
        c.close();
      }
    };
    const begin = async (c: Wire) => {
      await c.command("MAIL FROM:<s@example.net>", "250 2.1.0");
      await c.command("RCPT TO:<alice@example.org>", "250 2.1.5");
    };
    await session(async (c) => {
      // Accepted, then refused for its size, then dropped with RSET; one connection.
      await begin(c);
      await c.command("DATA", "354");
      await c.command(`Subject: ok\r\n\r\n${BODY_MARKER}\r\n.`, "250 2.0.0");
      await begin(c);
      await c.command("DATA", "354");
      await c.command(`Subject: big\r\n\r\n${"x".repeat(2000)}\r\n.`, "552 5.3.4");
      await begin(c);
      await c.command("RSET", "250 2.0.0");
      await c.command("QUIT", "221 2.0.0");
    });
    // A bare LF in the content ends the session: refused.
    await session(async (c) => {
      await begin(c);
      await c.command("DATA", "354");
      await c.send(`Subject: smuggle\r\n\r\n${BODY_MARKER}\n.\r\n`);
      await c.expect("554 5.5.2");
    });
    // The client leaves in the middle: abandoned.
    await session(async (c) => {
      await begin(c);
      await c.command("RCPT TO:<nobody@example.org>", "550 5.1.1");
    });
    const ended = await eventually(() => {
      const found = lines.map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === "smtp transaction");
      return found.length === 5 ? found : undefined;
    }, "five transaction lines");
    assertEquals(
      ended.map((l) => [l.result, l.reason ?? null, l.rcpts]),
      [
        ["accepted", null, 1],
        ["refused", "reply 552", 1],
        ["abandoned", null, 1],
        ["refused", "reply 554", 1],
        ["abandoned", null, 1],
      ],
    );
    assertEquals(
      ended.slice(0, 3).map((l) => l.txn),
      [1, 2, 3].map((n) => `${ended[0]!.conn}.${n}`),
    );
    for (const l of ended) {
      assertEquals(l.level, "info");
      assertEquals(l.from, "s@example.net");
      assertEquals(typeof l.ms, "number");
    }
    // Five lines, never more: wait a moment for any stray one.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assertEquals(lines.filter((l) => l.includes('"msg":"smtp transaction"')).length, 5);
    assert(!lines.join("\n").includes(BODY_MARKER));
  }, { log, settings: { maxMessageSize: 1000 } });
});
