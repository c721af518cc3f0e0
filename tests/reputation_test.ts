/**
 * Inbound reputation end to end: Knot on loopback serves a test DNSBL (`bl.test`), a domain
 * list (`dbl.test`), a list that refuses every query (`refusing.test`, 127.255.255.254), the
 * clients' forward zone (`client.test`) and their reverse zone (`127.in-addr.arpa`); Fumi's MX
 * (tests/smtp.ts) runs the reputation checks built from a `[reputation]` config section, with
 * our stub resolver pointed at Knot; Python's smtplib sends, from a 127.0.0.x source address of
 * its own, so the MX sees each client's real address.
 *
 * | client    | lists                           | PTR / HELO                      |
 * | --------- | ------------------------------- | ------------------------------- |
 * | 127.0.0.1 | none                            | mx1.client.test, confirmed      |
 * | 127.0.0.2 | bl.test 127.0.0.2 (SBL: reject) | mx2.client.test, confirmed      |
 * | 127.0.0.3 | bl.test 127.0.0.10 (PBL: 3)     | none (+1), HELO "box" (+1)      |
 *
 * @module
 */

import { createSocket, type Socket } from "node:dgram";
import { configSchema, LISTENER_NAMES, type ListenerName } from "../src/config/schema.ts";
import {
  CachingResolver,
  type LookupOptions,
  type RecordType,
  type Resolver,
  StubResolver,
} from "../src/dns/mod.ts";
import { createLogger } from "../src/ops/log.ts";
import {
  addressQuery,
  ListQuerier,
  reputationChecks,
  reputationSettings,
  toList,
} from "../src/reputation/mod.ts";
import { Greylist } from "../src/store/greylist.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { freePort, newDataDir, spawnFumi, withTempDir } from "./cli.ts";
import { startDnsServer } from "./dns_server.ts";
import { type SmtpFixture, withSmtp } from "./smtp.ts";
import { runTool } from "./smtp_clients.ts";

const SOA = (origin: string) =>
  `@ SOA ns.${origin}. hostmaster.${origin}. 1 3600 600 86400 60\n@ NS ns.client.test.`;

/** ::1 on the test DNSBL, as 32 nibbles (RFC 5782 §2.4). */
const V6_LISTED = addressQuery("::1")!;

const ZONES = {
  "bl.test": `${SOA("bl.test")}
2.0.0.127 A 127.0.0.2
2.0.0.127 TXT "listed for the test"
3.0.0.127 A 127.0.0.10
${V6_LISTED} A 127.0.0.4
`,
  "dbl.test": `${SOA("dbl.test")}
listed.example A 127.0.1.2
phish.example A 127.0.1.4
`,
  "refusing.test": `${SOA("refusing.test")}
* A 127.255.255.254
`,
  "client.test": `${SOA("client.test")}
ns A 127.0.0.1
mx1 A 127.0.0.1
mx2 A 127.0.0.2
`,
  "127.in-addr.arpa": `${SOA("127.in-addr.arpa")}
1.0.0 PTR mx1.client.test.
2.0.0 PTR mx2.client.test.
`,
};

/** The `[reputation]` section the tests start from (as a config file would give it). */
const REPUTATION = {
  enabled: true,
  lookup_timeout: "2s",
  dnsbl: [{
    name: "test-bl",
    zone: "bl.test",
    weight: 1,
    codes: [
      { code: "127.0.0.2", meaning: "SBL", action: "reject" },
      { code: "127.0.0.4-127.0.0.7", meaning: "XBL", action: "reject" },
      { code: "127.0.0.10-127.0.0.11", meaning: "PBL", weight: 3 },
    ],
  }],
  uribl: [{
    name: "test-dbl",
    zone: "dbl.test",
    codes: [
      { code: "127.0.1.2", meaning: "spam domain", weight: 6 },
      { code: "127.0.1.4", meaning: "phish domain", action: "reject" },
    ],
  }],
} as const;

interface World {
  readonly t: SmtpFixture;
  /** The log lines of the reputation checks, parsed. */
  readonly logged: () => { level: string; msg: string; [k: string]: unknown }[];
  /** The log lines of the MX (its filter chain among them), parsed. */
  readonly serverLogged: () => { level: string; msg: string; [k: string]: unknown }[];
  /** The injected clock of greylisting. */
  readonly clock: { now: Date };
}

/** Knot, and Fumi's MX with the reputation checks of REPUTATION and `reputation` over it. */
async function withWorld(
  reputation: Record<string, unknown>,
  fn: (w: World) => Promise<void>,
  options: {
    readonly deadNameServer?: boolean;
    /** How long our stub resolver waits for a name server (500 ms unless given). */
    readonly resolverTimeoutMs?: number;
  } = {},
): Promise<void> {
  const dns = await startDnsServer(ZONES);
  // A name server that never answers: a UDP socket of ours that nobody reads.
  const dead = options.deadNameServer ? await silentUdpSocket() : null;
  try {
    const lines: string[] = [];
    const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
    const serverLines: string[] = [];
    const serverLog = createLogger({
      level: "info",
      format: "json",
      write: (l) => serverLines.push(l),
    });
    const clock = { now: new Date("2026-11-28T06:00:00Z") };
    const parsed = configSchema.parse({ reputation: { ...REPUTATION, ...reputation } });
    const settings = reputationSettings({ dev: false, reputation: parsed.reputation });
    const server = dead === null ? dns : { address: "127.0.0.1", port: dead.address().port };
    const resolver = new Settling(
      new StubResolver({
        nameservers: [{ address: server.address, port: server.port }],
        timeoutMs: options.resolverTimeoutMs ?? 500,
        attempts: 1,
      }),
    );
    // The store exists once the fixture runs; the checks are made before it starts.
    let greylist: Greylist | null = null;
    const checks = reputationChecks(settings, {
      resolver,
      log,
      hostname: "mail.example.org",
      greylist: {
        attempt: (...args) => greylist!.attempt(...args),
        expire: (now) => greylist!.expire(now),
      },
      now: () => clock.now,
    });
    await withSmtp(async (t) => {
      greylist = new Greylist(t.store.sql);
      try {
        await fn({
          t,
          logged: () => lines.map((l) => JSON.parse(l)),
          serverLogged: () => serverLines.map((l) => JSON.parse(l)),
          clock,
        });
      } finally {
        // Lookups a check stopped waiting for still run in the stub: let them end.
        await resolver.settled();
      }
    }, { checks, log: serverLog });
  } finally {
    if (dead !== null) await new Promise<void>((resolve) => dead.close(resolve));
    await dns.stop();
  }
}

/** A caching resolver that can wait for the lookups still running in it. */
class Settling implements Resolver {
  readonly #inner: Resolver;
  readonly #running = new Set<Promise<unknown>>();

  constructor(stub: Resolver) {
    this.#inner = new CachingResolver(stub);
  }

  lookup<T extends RecordType>(name: string, type: T, options?: LookupOptions) {
    const lookup = this.#inner.lookup(name, type, options);
    this.#running.add(lookup);
    lookup.finally(() => this.#running.delete(lookup)).catch(() => {});
    return lookup;
  }

  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}

/** A bound UDP socket on loopback that receives and never answers. */
async function silentUdpSocket(): Promise<Socket> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return socket;
}

/** What smtplib saw: where the transaction ended, with the reply. */
interface Sent {
  readonly stage: "connect" | "mail" | "rcpt" | "data" | "sent";
  readonly code?: number;
  readonly text?: string;
}

/**
 * Sends `message` to `port` with smtplib from `source` (a 127.0.0.x address of the client's own),
 * saying `helo`, to bob@example.org (or `to`).
 */
async function send(
  port: number,
  source: string,
  message: string,
  options: { readonly helo?: string; readonly sender?: string; readonly to?: string } = {},
): Promise<Sent> {
  const script = String.raw`
import json, smtplib, sys
port, source, helo, sender = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
message, to = sys.argv[5], sys.argv[6]
out = {}
try:
    s = smtplib.SMTP("127.0.0.1", port, local_hostname=helo, timeout=20,
                     source_address=(source, 0))
except smtplib.SMTPConnectError as e:
    out = {"stage": "connect", "code": e.smtp_code, "text": e.smtp_error.decode()}
else:
    try:
        s.sendmail(sender, [to], message.encode())
        out = {"stage": "sent"}
    except smtplib.SMTPSenderRefused as e:
        out = {"stage": "mail", "code": e.smtp_code, "text": e.smtp_error.decode()}
    except smtplib.SMTPRecipientsRefused as e:
        code, text = list(e.recipients.values())[0]
        out = {"stage": "rcpt", "code": code, "text": text.decode()}
    except smtplib.SMTPDataError as e:
        out = {"stage": "data", "code": e.smtp_code, "text": e.smtp_error.decode()}
    try:
        s.quit()
    except smtplib.SMTPServerDisconnected:
        pass
print(json.dumps(out))
`;
  const result = await runTool("python3", [
    "-c",
    script,
    String(port),
    source,
    options.helo ?? "mx1.client.test",
    options.sender ?? "sender@client.test",
    message,
    options.to ?? "bob@example.org",
  ]);
  if (result.code !== 0) throw new Error(`python3 failed (${result.code}):\n${result.stderr}`);
  return JSON.parse(result.stdout.trimEnd().split("\n").at(-1)!);
}

/** A plain text message. */
function plain(subject: string, body = "Hello Bob.\r\n"): string {
  return [
    "From: Sender <sender@client.test>",
    "To: bob@example.org",
    `Subject: ${subject}`,
    "Date: Sat, 28 Nov 2026 06:00:00 +0000",
    `Message-ID: <${subject.replace(/\W/g, "")}@client.test>`,
    "",
    body,
  ].join("\r\n");
}

/**
 * A multipart/alternative message whose HTML part is quoted-printable, with `host` split by a
 * soft line break and its dot written as a character reference: only a decoder sees it.
 */
function htmlWithLink(subject: string, host: string): string {
  const [first, ...rest] = host.split(".");
  const encoded = `<p>Offer: <a href=3D"https://www.${first}&#46;=\r\n${
    rest.join(".")
  }/x">here</a></p>`;
  return [
    "From: Sender <sender@client.test>",
    "To: bob@example.org",
    `Subject: ${subject}`,
    "Date: Sat, 28 Nov 2026 06:00:00 +0000",
    `Message-ID: <${subject.replace(/\W/g, "")}@client.test>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/alternative; boundary="part"',
    "",
    "--part",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "See the HTML part.",
    "--part",
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    encoded,
    "--part--",
    "",
  ].join("\r\n");
}

/** The messages in one of Bob's mailboxes, decrypted. */
async function mailbox(t: SmtpFixture, name: string): Promise<string[]> {
  const box = await t.store.mailboxes.get(t.bob.id, name);
  const out: string[] = [];
  for (const info of await t.store.messages.list(box.id)) {
    out.push(new TextDecoder().decode(await t.store.messages.read(t.bob.id, info.messageId)));
  }
  return out;
}

Deno.test("a client on a list whose code says reject is refused at connect, 554 5.7.1 naming it", async () => {
  await withWorld({}, async ({ t }) => {
    const sent = await send(t.ports.mx, "127.0.0.2", plain("listed"), { helo: "mx2.client.test" });
    assertEquals(sent.stage, "connect");
    assertEquals(sent.code, 554);
    assertStringIncludes(sent.text!, "5.7.1");
    assertStringIncludes(sent.text!, "127.0.0.2 is listed by test-bl (SBL)");
    assertEquals(await mailbox(t, "INBOX"), []);
  });
});

Deno.test("a clean client is delivered to INBOX with score 0 in X-Spam-Status", async () => {
  await withWorld({}, async ({ t }) => {
    assertEquals(await send(t.ports.mx, "127.0.0.1", plain("clean")), { stage: "sent" });
    const [stored] = await mailbox(t, "INBOX");
    assertMatch(stored!, /^X-Spam-Score: 0\.0\r$/m);
    assertMatch(stored!, /^X-Spam-Status: No, score=0\.0 junk=5\.0 reject=10\.0 tests=none\r$/m);
  });
});

Deno.test("X-Spam-* fields the sender wrote are removed; ours are the only ones stored", async () => {
  await withWorld({}, async ({ t }) => {
    const forged = plain("forged verdict").replace(
      "Subject:",
      "X-Spam-Status: No, score=-100.0\r\nX-Spam-Score:\r\n -100.0\r\nX-Spam-Flag: NO\r\n" +
        "x-spam-level: \r\nSubject:",
    );
    assertEquals(await send(t.ports.mx, "127.0.0.3", forged, { helo: "box" }), { stage: "sent" });
    const [junk] = await mailbox(t, "Junk");
    const header = junk!.slice(0, junk!.indexOf("\r\n\r\n"));
    assertEquals(header.match(/^X-Spam-Status:.*$/gim), [
      "X-Spam-Status: Yes, score=5.0 junk=5.0 reject=10.0 tests=test-bl(PBL)=3.0,FCRDNS_MISSING=1.0,HELO_NO_DOT=1.0",
    ]);
    assertEquals(header.match(/^X-Spam-Score:.*$/gim), ["X-Spam-Score: 5.0"]);
    assert(!/-100|X-Spam-Flag|X-Spam-Level/i.test(header), header);
  });
});

Deno.test("a listed client with action score, no PTR and a bare HELO is tagged and goes to Junk", async () => {
  await withWorld({}, async ({ t }) => {
    assertEquals(await send(t.ports.mx, "127.0.0.3", plain("scored"), { helo: "box" }), {
      stage: "sent",
    });
    assertEquals(await mailbox(t, "INBOX"), []);
    const [junk] = await mailbox(t, "Junk");
    assertMatch(junk!, /^X-Spam-Score: 5\.0\r$/m);
    assertStringIncludes(
      junk!,
      "X-Spam-Status: Yes, score=5.0 junk=5.0 reject=10.0 tests=test-bl(PBL)=3.0,FCRDNS_MISSING=1.0,HELO_NO_DOT=1.0",
    );
  });
});

Deno.test("a listed URL domain in a quoted-printable HTML part: scored to Junk, or refused by its code's action", async () => {
  await withWorld({}, async ({ t, logged }) => {
    // 127.0.1.2: spam domain, weight 6 (junk at 5).
    assertEquals(await send(t.ports.mx, "127.0.0.1", htmlWithLink("spam link", "listed.example")), {
      stage: "sent",
    });
    const [junk] = await mailbox(t, "Junk");
    assertStringIncludes(junk!, "tests=test-dbl(spam_domain:www.listed.example)=6.0");
    // 127.0.1.4: phish domain, action reject: 550 5.7.1 at the end of DATA, naming the list.
    const sent = await send(t.ports.mx, "127.0.0.1", htmlWithLink("phish link", "phish.example"));
    assertEquals([sent.stage, sent.code], ["data", 550]);
    assertStringIncludes(
      sent.text!,
      "5.7.1 Message refused: www.phish.example is listed by test-dbl (phish domain)",
    );
    assertEquals((await mailbox(t, "INBOX")).length + (await mailbox(t, "Junk")).length, 1);
    assert(logged().some((l) => l.msg === "message refused: domain listed"));
  });
});

Deno.test("an envelope sender whose domain is listed with action reject is refused at MAIL", async () => {
  const uribl = [{ ...REPUTATION.uribl[0]!, action: "reject", codes: undefined }];
  await withWorld({ uribl }, async ({ t }) => {
    const sent = await send(t.ports.mx, "127.0.0.1", plain("sender"), {
      sender: "news@listed.example",
    });
    assertEquals([sent.stage, sent.code], ["mail", 550]);
    assertStringIncludes(sent.text!, "5.7.1 Sender domain listed.example is listed by test-dbl");
  });
});

Deno.test("IPv6: the client list is asked for the reversed nibbles of the address (RFC 5782 §2.4)", async () => {
  const dns = await startDnsServer(ZONES);
  try {
    const lists = new ListQuerier({
      resolver: new StubResolver({
        nameservers: [{ address: dns.address, port: dns.port }],
        timeoutMs: 2000,
        attempts: 1,
      }),
      log: createLogger({ level: "error", format: "json", write: () => {} }),
      timeoutMs: 2000,
    });
    const list = toList(REPUTATION.dnsbl[0]!, "ip");
    const hits = await lists.address([list], "::1");
    assertEquals(hits.map((h) => [h.query, h.code, h.meaning]), [[V6_LISTED, "127.0.0.4", "XBL"]]);
    assertEquals(V6_LISTED, `1${".0".repeat(31)}`);
    assertEquals(await lists.address([list], "::2"), []);
  } finally {
    await dns.stop();
  }
});

/**
 * A dead name server, and a resolver that waits for it longer (6 s) than the whole check's bound
 * (3 lookups + 1 s = 4 s): the lists, PTR and HELO lookups are each given up after one lookup
 * bound, so the check itself still ends in time and tags the message (a check timing out would
 * fail open and drop every result).
 */
Deno.test("a list that does not answer does not block: delivered within the check's time bound, logged", async () => {
  await withWorld({ lookup_timeout: "1s" }, async ({ t, logged, serverLogged }) => {
    const started = Date.now();
    assertEquals(await send(t.ports.mx, "127.0.0.1", plain("dead list")), { stage: "sent" });
    // Connect, mail and data stage: each one or two lookup bounds.
    assert(Date.now() - started < 8_000, `took ${Date.now() - started} ms`);
    const [stored] = await mailbox(t, "INBOX");
    assertMatch(stored!, /^X-Spam-Status: No, score=0\.0 junk=5\.0 reject=10\.0 tests=none\r$/m);
    assertEquals(serverLogged().filter((l) => l.msg === "filter check timed out"), []);
    const warnings = logged().filter((l) => l.msg === "DNS list did not answer; not counted");
    assert(warnings.some((w) => w.list === "test-bl"), JSON.stringify(logged()));
    assertEquals(logged().filter((l) => l.level === "error"), []);
  }, { deadNameServer: true, resolverTimeoutMs: 6_000 });
});

Deno.test("a list answering 127.255.255.254 is disabled with an error line saying what to do", async () => {
  const dnsbl = [...REPUTATION.dnsbl, { name: "refusing", zone: "refusing.test", weight: 5 }];
  await withWorld({ dnsbl }, async ({ t, logged }) => {
    assertEquals(await send(t.ports.mx, "127.0.0.1", plain("refused one")), { stage: "sent" });
    assertEquals(await send(t.ports.mx, "127.0.0.1", plain("refused two")), { stage: "sent" });
    const errors = logged().filter((l) => l.level === "error");
    assertEquals(errors.length, 1, "one alert, then the list is off");
    assertStringIncludes(errors[0]!.msg, "DNS list refusing refused our query (127.255.255.254)");
    assertStringIncludes(errors[0]!.msg, "not a public or shared one");
    const [first] = await mailbox(t, "INBOX");
    assertStringIncludes(first!, "X-Spam-Status: No, score=0.0");
  });
});

Deno.test("greylisting: 451 4.7.1 first, accepted after the delay, then the client passes at once", async () => {
  await withWorld({ greylisting: { enabled: true, delay: "5m" } }, async ({ t, clock }) => {
    const first = await send(t.ports.mx, "127.0.0.1", plain("grey one"));
    assertEquals([first.stage, first.code], ["rcpt", 451]);
    assertStringIncludes(first.text!, "4.7.1 Greylisted");
    // Too early: still refused for now.
    clock.now = new Date(clock.now.getTime() + 60_000);
    assertEquals((await send(t.ports.mx, "127.0.0.1", plain("grey one"))).code, 451);
    clock.now = new Date(clock.now.getTime() + 5 * 60_000);
    assertEquals(await send(t.ports.mx, "127.0.0.1", plain("grey one")), { stage: "sent" });
    // RFC 6647 §2.2: the client is allow-listed; another sender gets through at once.
    assertEquals(
      await send(t.ports.mx, "127.0.0.1", plain("grey two"), { sender: "other@client.test" }),
      {
        stage: "sent",
      },
    );
    assertEquals((await mailbox(t, "INBOX")).length, 2);
  });
});

Deno.test("greylisting: an unknown user gets 550 5.1.1 and a relay probe 554, not 451; no state kept", async () => {
  await withWorld({ greylisting: { enabled: true } }, async ({ t }) => {
    const unknown = await send(t.ports.mx, "127.0.0.1", plain("typo"), {
      to: "nobody@example.org",
    });
    assertEquals([unknown.stage, unknown.code], ["rcpt", 550]);
    assertStringIncludes(unknown.text!, "5.1.1");
    const relay = await send(t.ports.mx, "127.0.0.1", plain("relay"), { to: "x@elsewhere.test" });
    assertEquals([relay.stage, relay.code], ["rcpt", 554]);
    assertStringIncludes(relay.text!, "5.7.1 Relay access denied");
    const [row] = await t.store.sql<{ n: number }[]>`
      select count(*)::int as n from greylist_triplets`;
    assertEquals(row!.n, 0, "no triplet for refused recipients");
    // A real recipient is still greylisted.
    assertEquals((await send(t.ports.mx, "127.0.0.1", plain("real"))).code, 451);
  });
});

Deno.test("greylisting: a client on an allow-list (DNSWL, action accept) is never greylisted", async () => {
  const dnsbl = [{ name: "test-wl", zone: "bl.test", action: "accept", weight: -1 }];
  await withWorld({ dnsbl, greylisting: { enabled: true } }, async ({ t }) => {
    // 127.0.0.3 answers 127.0.0.10 on bl.test: here an allow-list entry.
    assertEquals(await send(t.ports.mx, "127.0.0.3", plain("white"), { helo: "mx3.client.test" }), {
      stage: "sent",
    });
  });
});

Deno.test("fumi serve: [reputation] from the config file guards the MX, not submission", async () => {
  const dns = await startDnsServer(ZONES);
  try {
    await withTempDir(async (tmp) => {
      const dataDir = `${tmp}/data`;
      await newDataDir(dataDir);
      const ports: Partial<Record<ListenerName, number>> = {
        smtp: freePort(),
        submission: freePort(),
      };
      const config = `${tmp}/fumi.toml`;
      await Deno.writeTextFile(
        config,
        [
          "[dns]",
          `nameservers = ["${dns.address}:${dns.port}"]`,
          'timeout = "1s"',
          "attempts = 1",
          "[reputation]",
          "enabled = true",
          "uribl = []",
          "[[reputation.dnsbl]]",
          'name = "test-bl"',
          'zone = "bl.test"',
          'codes = [{ code = "127.0.0.2", meaning = "SBL", action = "reject" }]',
          ...LISTENER_NAMES.map((name) =>
            ports[name] === undefined
              ? `[listeners.${name}]\nenabled = false`
              : `[listeners.${name}]\naddresses = ["127.0.0.1"]\nport = ${ports[name]}`
          ),
        ].join("\n"),
      );
      const child = spawnFumi(["serve", "--dev", "--config", config], {
        env: { FUMI_DATA_DIR: dataDir },
      });
      try {
        await child.waitForOut(/^Fumi \S+ is running for /);
        const refused = await send(ports.smtp!, "127.0.0.2", plain("wired"));
        assertEquals([refused.stage, refused.code], ["connect", 554], child.stderr.join("\n"));
        assertStringIncludes(refused.text!, "127.0.0.2 is listed by test-bl (SBL)");
        // Submission is for our own users: no DNS lists there (it asks for AUTH instead).
        const submission = await send(ports.submission!, "127.0.0.2", plain("submitted"));
        assertEquals(submission.stage, "mail", JSON.stringify(submission));
        assertEquals(submission.code, 530);
      } finally {
        await child.stop();
      }
    });
  } finally {
    await dns.stop();
  }
});
