import { assert, assertEquals } from "../../tests/assert.ts";
import { withSmtp } from "../../tests/smtp.ts";
import { GOOD_PASSWORD, sampleMessage } from "../../tests/store.ts";
import { type DnsRecord, FakeResolver } from "../dns/mod.ts";
import { type Connection, connectTo } from "../net/connection.ts";
import { silentLogger } from "../ops/log.ts";
import { Registry, serverMetrics } from "../ops/metrics.ts";
import type { QueueEntry, Store } from "../store/mod.ts";
import { deliverToDomain } from "./attempt.ts";
import { nextAttempt } from "./schedule.ts";
import { deliverViaSmarthost } from "./smarthost.ts";
import { type FailedRecipient, OutboundWorker } from "./worker.ts";

const MINUTE = 60_000;
const SCHEDULE = { retryFirst: 5 * MINUTE, retryMax: 240 * MINUTE, giveUpAfter: 5 * 1440 * MINUTE };

Deno.test("retry schedule: doubling from the first wait up to the longest, then giving up", () => {
  const queued = new Date("2026-11-28T00:00:00Z");
  const at = (minutes: number) => new Date(queued.getTime() + minutes * MINUTE);
  const wait = (attempts: number, now: Date) =>
    (nextAttempt(SCHEDULE, attempts, queued, now)!.getTime() - now.getTime()) / MINUTE;
  assertEquals([1, 2, 3, 4, 5, 6, 7, 10].map((n) => wait(n, at(1))), [
    5,
    10,
    20,
    40,
    80,
    160,
    240,
    240,
  ]);
  // The last try falls on the deadline; at the deadline the recipient fails.
  const lastDay = at(5 * 1440 - 30);
  assertEquals(nextAttempt(SCHEDULE, 20, queued, lastDay), at(5 * 1440));
  assertEquals(nextAttempt(SCHEDULE, 21, queued, at(5 * 1440)), null);
});

/** Mail for example.net goes to mx.example.net at 127.0.0.1; nomail.example has a null MX. */
function resolver(extra: DnsRecord[] = []): FakeResolver {
  return new FakeResolver([
    { type: "MX", name: "example.net", ttl: 60, preference: 10, exchange: "mx.example.net" },
    { type: "A", name: "mx.example.net", ttl: 60, address: "127.0.0.1" },
    { type: "MX", name: "nomail.example", ttl: 60, preference: 0, exchange: "" },
    { type: "A", name: "gone.example", ttl: 60, address: "127.0.0.1" },
    ...extra,
  ]);
}

async function queue(store: Store, recipients: string[], sender = "alice@example.org") {
  const prepared = await store.queue.prepare({
    accountId: null,
    sender,
    envid: null,
    ret: null,
    message: sampleMessage("outbound"),
    recipients: recipients.map((address) => ({ address, notify: null, orcpt: null })),
  });
  return await store.sql.begin((tx) => store.queue.insert(tx, prepared));
}

Deno.test("worker: delivers a queued message into another server over SMTP, and forgets it", async () => {
  await withSmtp(async (t) => {
    // The peer is Fumi's own MX: its domain example.org routed to 127.0.0.1 by the resolver.
    const dns = resolver([
      { type: "MX", name: "example.org", ttl: 60, preference: 10, exchange: "mx.example.net" },
    ]);
    await queue(t.store, ["bob@example.org", "nobody@example.org"], "carol@elsewhere.example");
    const failures: FailedRecipient[][] = [];
    const metrics = serverMetrics(new Registry());
    const worker = new OutboundWorker({
      work: t.store.queueWork,
      resolver: dns,
      connect: (address, port) => connectTo(address, port, 2000),
      heloName: "out.example.net",
      port: t.ports.mx,
      ca: [t.caPem],
      schedule: SCHEDULE,
      connections: 4,
      connectionsPerDomain: 2,
      onFailed: (_entry: QueueEntry, failed) => {
        failures.push([...failed]);
        return Promise.resolve();
      },
      log: silentLogger,
      metrics,
    });
    worker.start();
    try {
      const inbox = await t.store.mailboxes.get(t.bob.id, "INBOX");
      for (let i = 0; i < 100 && (await t.store.messages.list(inbox.id)).length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assertEquals((await t.store.messages.list(inbox.id)).length, 1);
      // nobody@ was refused at RCPT (550 5.1.1): a permanent failure, reported once.
      for (let i = 0; i < 100 && failures.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assertEquals(failures.length, 1);
      assertEquals(failures[0]!.map((f) => f.recipient.address), ["nobody@example.org"]);
      assert(
        failures[0]![0]!.outcome.reply.startsWith("550 5.1.1"),
        failures[0]![0]!.outcome.reply,
      );
      assertEquals(failures[0]![0]!.outcome.remoteHost, "mx.example.net");
      worker.wake();
      for (let i = 0; i < 100 && (await t.store.queue.list()).length > 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assertEquals(await t.store.queue.list(), [], "finished and reported: removed");
      // Each recipient's attempt is counted by its result; the delivered one is sent.
      const text = await metrics.registry.render();
      for (
        const line of [
          'fumi_delivery_attempts_total{result="delivered"} 1',
          'fumi_delivery_attempts_total{result="failed"} 1',
          "fumi_messages_sent_total 1",
        ]
      ) assert(text.includes(`${line}\n`), text);
    } finally {
      await worker.stop();
    }
  });
});

Deno.test("attempt: null MX and a missing domain fail for good; an unreachable host is temporary", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close(); // nothing listens there now
  const deps = {
    resolver: resolver(),
    connect: (address: string, p: number): Promise<Connection> => connectTo(address, p, 1000),
    heloName: "out.example.net",
    port,
    log: silentLogger,
  };
  const message = (to: string) => ({
    sender: "alice@example.org",
    recipients: [{ address: to, notify: null, orcpt: null }],
    envid: null,
    ret: null,
    content: sampleMessage("x"),
    smtputf8: false,
  });
  const [nullMx] = await deliverToDomain(deps, "nomail.example", message("a@nomail.example"));
  assertEquals([nullMx!.outcome, nullMx!.reply.slice(0, 10)], ["permanent", "556 5.1.10"]);
  const [missing] = await deliverToDomain(deps, "missing.example", message("a@missing.example"));
  assertEquals([missing!.outcome, missing!.reply.slice(0, 9)], ["permanent", "550 5.1.2"]);
  // No MX: the domain's own address (implicit MX, RFC 5321 §5.1), where nothing listens.
  const [down] = await deliverToDomain(deps, "gone.example", message("a@gone.example"));
  assertEquals([down!.outcome, down!.reply.slice(0, 9), down!.remoteHost], [
    "temporary",
    "451 4.4.1",
    null,
  ]);
});

/** A plain SMTP peer that answers the first RCPT of each connection with `firstRcpt`. */
function flakyPeer(
  firstRcpt: string[],
): { port: number; received: string[]; connections(): number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const received: string[] = [];
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        const write = (s: string) => conn.write(new TextEncoder().encode(s));
        await write("220 peer ESMTP\r\n");
        let buffer = "";
        let inData = false;
        let accepted = 0;
        let data = "";
        const buf = new Uint8Array(65536);
        for (;;) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) return;
          buffer += new TextDecoder().decode(buf.subarray(0, n));
          let at;
          while ((at = buffer.indexOf("\r\n")) >= 0) {
            const line = buffer.slice(0, at);
            buffer = buffer.slice(at + 2);
            if (inData) {
              if (line === ".") {
                inData = false;
                received.push(data);
                data = "";
                await write("250 2.0.0 Queued\r\n");
              } else data += line + "\n";
              continue;
            }
            const verb = line.split(/[ :]/)[0]!.toUpperCase();
            if (verb === "EHLO") await write("250-peer\r\n250 PIPELINING\r\n");
            else if (verb === "RCPT") {
              const answer = firstRcpt.shift() ?? "250 2.1.5 OK";
              if (answer.startsWith("250")) accepted++;
              await write(`${answer}\r\n`);
            } else if (verb === "DATA" && accepted === 0) {
              await write("554 5.5.1 No valid recipients\r\n");
            } else if (verb === "DATA") {
              inData = true;
              accepted = 0;
              await write("354 Go on\r\n");
            } else if (verb === "QUIT") {
              await write("221 Bye\r\n");
              conn.close();
              return;
            } else await write("250 2.0.0 OK\r\n");
          }
        }
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    received,
    connections: () => conns.length,
    close: () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed already */ }
      }
    },
  };
}

Deno.test("worker: a 451 is retried on the schedule; two workers share the queue, each message sent once", async () => {
  await withSmtp(async (t) => {
    const peer = flakyPeer(["451 4.7.1 Greylisted, try again later"]);
    const delays: string[] = [];
    const workers = [1, 2].map(() =>
      new OutboundWorker({
        work: t.store.queueWork,
        resolver: resolver(),
        connect: (address, port) => connectTo(address, port, 2000),
        heloName: "out.example.net",
        port: peer.port,
        schedule: { retryFirst: 200, retryMax: 200, giveUpAfter: 60_000 },
        connections: 3,
        connectionsPerDomain: 2,
        onFailed: () => Promise.resolve(),
        // Every deferral is past the warning time here: the sender is warned, once.
        delayWarningAfter: 1,
        onDelayed: (_entry, delayed) => {
          delays.push(...delayed.map((d) => d.outcome.reply));
          return Promise.resolve();
        },
        log: silentLogger,
      })
    );
    try {
      const ids = [];
      for (let i = 0; i < 12; i++) ids.push(await queue(t.store, [`user${i}@example.net`]));
      for (const w of workers) w.start();
      for (let i = 0; i < 200 && peer.received.length < 12; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 300)); // any duplicate would arrive by now
      assertEquals(peer.received.length, 12, "each message once, the greylisted one retried");
      assertEquals(delays, ["451 4.7.1 Greylisted, try again later"]);
      // Sessions are kept between messages to the same host: far fewer connections than mails.
      assert(peer.connections() < 12, `${peer.connections()} connections for 12 messages`);
      for (let i = 0; i < 100 && (await t.store.queue.list()).length > 0; i++) {
        for (const w of workers) w.wake();
        await new Promise((r) => setTimeout(r, 50));
      }
      assertEquals(await t.store.queue.list(), []);
    } finally {
      for (const w of workers) await w.stop();
      peer.close();
    }
  });
});

Deno.test("smarthost: everything relayed through one host, signed in over verified TLS", async () => {
  await withSmtp(async (t) => {
    // The relay is Fumi's own submission service: alice signs in and may send as herself.
    const message = (to: string) => ({
      sender: "alice@example.org",
      recipients: [{ address: to, notify: null, orcpt: null }],
      envid: null,
      ret: null,
      content: new TextEncoder().encode(
        "From: alice@example.org\r\nTo: bob@example.org\r\nSubject: relayed\r\n\r\nHi\r\n",
      ),
      smtputf8: false,
    });
    const deps = {
      resolver: resolver([
        { type: "A", name: "localhost", ttl: 60, address: "127.0.0.1" },
        { type: "A", name: "relay.example.net", ttl: 60, address: "127.0.0.1" },
      ]),
      connect: (address: string, p: number): Promise<Connection> => connectTo(address, p, 2000),
      heloName: "out.example.net",
      port: 25,
      ca: [t.caPem],
      log: silentLogger,
    };
    const relay = { host: "localhost", user: "alice@example.org", password: GOOD_PASSWORD };
    for (
      const [port, implicitTls] of [[t.ports.submissions, true], [
        t.ports.submission,
        false,
      ]] as const
    ) {
      const [done] = await deliverViaSmarthost(
        deps,
        { ...relay, port, implicitTls },
        message("bob@example.org"),
      );
      assertEquals([done!.outcome, done!.remoteHost], ["delivered", "localhost"]);
    }
    assertEquals((await t.inbox(t.bob.id)).length, 2);
    // A wrong password: the mail waits (4.7.8), for the administrator to fix the password.
    const [refused] = await deliverViaSmarthost(
      deps,
      { ...relay, password: "wrong", port: t.ports.submissions, implicitTls: true },
      message("bob@example.org"),
    );
    assertEquals([refused!.outcome, refused!.reply.slice(0, 9)], ["temporary", "451 4.7.8"]);
    // A certificate not for the relay's name: nothing is sent.
    const [unverified] = await deliverViaSmarthost(
      deps,
      { ...relay, host: "relay.example.net", port: t.ports.submissions, implicitTls: true },
      message("bob@example.org"),
    );
    assertEquals([unverified!.outcome, unverified!.reply.slice(0, 9)], ["temporary", "451 4.7.5"]);
  });
});
