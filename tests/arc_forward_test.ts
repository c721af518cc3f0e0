/**
 * ARC sealing of forwards end to end (RFC 8617, issue 7): swaks sends to Fumi's MX for an
 * alias of example.org that forwards to a remote address; the MX authenticates the message
 * (src/mailauth, over a real Knot server on loopback) and the queued copy carries an ARC Set
 * sealed with example.org's DKIM RSA key. python3-dkim's ARC verifier, an independent one,
 * checks the chain: ours alone (i=1, cv=none), ours over a list host's set made by its
 * `arc_sign` (i=2, cv=pass), and ours over a chain broken on the way (i=2, cv=fail); mailauth,
 * the verifier of a Fumi MX further on, agrees. Local
 * copies and submitted mail are not sealed; a domain without a DKIM key forwards unsealed.
 *
 * @module
 */

import { dkimRecordName, dkimRecordText, zoneStrings } from "../src/dkim/mod.ts";
import { testKey } from "../src/dkim/_test_keys.ts";
import { type DnsRecord, FakeResolver, StubResolver } from "../src/dns/mod.ts";
import { authenticate, mailauthChecks } from "../src/mailauth/mod.ts";
import type { LogFields, Logger } from "../src/ops/log.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { arcpySign, arcpyVerify } from "./dkimpy.ts";
import { type DnsServer, startDnsServer } from "./dns_server.ts";
import { type SmtpFixture, withSmtp } from "./smtp.ts";
import { runTool } from "./smtp_clients.ts";
import { message as lines, submission, using } from "./smtp_wire.ts";
import { GOOD_PASSWORD } from "./store.ts";

const HOSTNAME = "mail.example.org";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The list host's sealing key (a fixed test key) and its selector. */
const LIST_KEY = () => testKey("rsa-sha256", "lists.test", "arc");

function zone(origin: string, records: string): string {
  return `@ SOA ns.${origin}. hostmaster.${origin}. 1 3600 600 86400 60\n@ NS ns\nns A 127.0.0.1\n${records}`;
}

/** A debug line the server logged. */
interface Line {
  readonly message: string;
  readonly fields: LogFields;
}

function recordingLogger(lines: Line[]): Logger {
  const log: Logger = {
    debug: (message, fields = {}) => lines.push({ message, fields }),
    info: () => {},
    warn: () => {},
    error: () => {},
    child: () => log,
  };
  return log;
}

interface World {
  readonly t: SmtpFixture;
  readonly dir: string;
  readonly log: Line[];
}

async function withWorld(fn: (world: World) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fumi-arc-forward-" });
  const list = await LIST_KEY();
  let dns: DnsServer | null = null;
  const log: Line[] = [];
  try {
    dns = await startDnsServer({
      "origin.test": zone(
        "origin.test",
        '@ TXT "v=spf1 ip4:127.0.0.1 -all"\n_dmarc TXT "v=DMARC1; p=none"',
      ),
      "lists.test": zone(
        "lists.test",
        `@ TXT "v=spf1 ip4:127.0.0.1 -all"\narc._domainkey TXT ${
          zoneStrings(dkimRecordText("rsa-sha256", list.publicKey))
        }`,
      ),
    });
    const resolver = new StubResolver({
      nameservers: [{ address: dns.address, port: dns.port }],
      timeoutMs: 2_000,
      attempts: 1,
    });
    await withSmtp(async (t) => {
      await t.store.aliases.add("list@example.org", ["bob@example.org", "carol@remote.example"]);
      await fn({ t, dir, log });
    }, {
      checks: mailauthChecks({ hostname: HOSTNAME, resolver, timeoutMs: 10_000 }),
      log: recordingLogger(log),
    });
  } finally {
    await dns?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

/** swaks through the MX to list@example.org. */
async function send(world: World, sender: string, data: string): Promise<void> {
  const file = await Deno.makeTempFile({ dir: world.dir, suffix: ".eml" });
  await Deno.writeTextFile(file, `${data}.\r\n`);
  const result = await runTool("swaks", [
    "--server",
    "127.0.0.1",
    "--port",
    `${world.t.ports.mx}`,
    "--helo",
    "client.origin.test",
    "--from",
    sender,
    "--to",
    "list@example.org",
    "--timeout",
    "20",
    "--data",
    `@${file}`,
    "--no-data-fixup",
  ]);
  assertEquals(result.code, 0, result.stdout + result.stderr);
}

function mail(from: string, subject: string, extra: string[] = []): string {
  return [
    ...extra,
    `From: ${from}`,
    "To: list@example.org",
    `Subject: ${subject}`,
    "Date: Sat, 28 Nov 2026 07:00:00 +0000",
    `Message-ID: <${subject}@test>`,
    "",
    "Hello through the forward.",
    "",
  ].join("\r\n");
}

/** The queued copy whose subject is `subject`, and its recipients. */
async function queued(t: SmtpFixture, subject: string) {
  const found = [];
  for (const summary of await t.store.queue.list()) {
    const entry = await t.store.queue.read(summary.id);
    if (decoder.decode(entry.message).includes(`\r\nSubject: ${subject}\r\n`)) found.push(entry);
  }
  assertEquals(found.length, 1, `one queued "${subject}"`);
  return found[0]!;
}

/** The DNS records of example.org's published DKIM keys and the list host's. */
async function records(t: SmtpFixture): Promise<Record<string, string>> {
  const list = await LIST_KEY();
  return {
    [dkimRecordName("arc", "lists.test")]: dkimRecordText("rsa-sha256", list.publicKey),
    ...Object.fromEntries(
      (await t.store.dkimKeys.published("example.org")).map((k) => [
        dkimRecordName(k.selector, k.domain),
        dkimRecordText(k.algorithm, k.publicKey),
      ]),
    ),
  };
}

/**
 * What the next hop's verifier makes of the chain: mailauth, as a Fumi MX further on runs it
 * (src/mailauth), with the records of `records` served by a fake resolver.
 */
async function nextHop(message: Uint8Array, records: Record<string, string>) {
  const table: DnsRecord[] = Object.entries(records).map(([name, text]) => ({
    type: "TXT",
    name,
    ttl: 300,
    strings: (text.match(/.{1,255}/g) ?? []).map((part) => encoder.encode(part)),
    text,
  }));
  const { arc } = await authenticate({
    message,
    ip: "192.0.2.9",
    helo: HOSTNAME,
    sender: null,
    hostname: "next.example",
    resolver: new FakeResolver(table),
  });
  return { result: arc.result, sealer: arc.sealer };
}

/** A header field, unfolded, by name; the first from the top. */
function field(message: Uint8Array, name: string): string | null {
  const text = decoder.decode(message);
  const header = text.slice(0, text.indexOf("\r\n\r\n") + 2);
  const match = new RegExp(`^${name}:(.*(?:\\r\\n[ \\t].*)*)\\r\\n`, "im").exec(header);
  return match ? match[1]!.replace(/\r\n[ \t]/g, " ").trim() : null;
}

Deno.test("a forward of MX mail is ARC-sealed by the forwarding domain; local copies are not", async () => {
  await withWorld(async (world) => {
    const { t } = world;
    // No DKIM key yet: forwarded unsealed, and the log says why.
    await send(world, "a@origin.test", mail("Author <a@origin.test>", "before-keys"));
    const unsealed = await queued(t, "before-keys");
    assertEquals(field(unsealed.message, "ARC-Seal"), null);
    assert(
      world.log.some((l) =>
        l.message === "forward not ARC-sealed" && l.fields.domain === "example.org" &&
        l.fields.reason === "example.org has no active DKIM RSA key"
      ),
      JSON.stringify(world.log.filter((l) => l.message.includes("ARC"))),
    );

    await t.store.dkimKeys.rotate("example.org");
    await send(world, "a@origin.test", mail("Author <a@origin.test>", "sealed"));
    const entry = await queued(t, "sealed");
    assertEquals(entry.recipients.map((r) => r.address), ["carol@remote.example"]);
    const text = decoder.decode(entry.message);
    // The set on top, in the order AS, AMS, AAR, above our trace fields.
    assertMatch(
      text,
      /^ARC-Seal: [^]*?\r\nARC-Message-Signature: [^]*?\r\nARC-Authentication-Results: [^]*?\r\nReceived: /,
    );
    // RFC 8617 §4.1.1: the AAR carries what this hop's check found, our A-R's payload.
    const aar = field(entry.message, "ARC-Authentication-Results")!;
    const ours = field(entry.message, "Authentication-Results")!;
    assertEquals(aar, `i=1; ${ours.replace(/\s+/g, " ")}`);
    assertStringIncludes(aar, `i=1; ${HOSTNAME}; spf=pass smtp.mailfrom=a@origin.test;`);
    assertStringIncludes(aar, "arc=none");
    assertMatch(field(entry.message, "ARC-Seal")!, /^i=1; a=rsa-sha256; cv=none; d=example\.org;/);
    const verdict = await arcpyVerify(entry.message, await records(t));
    assertEquals(verdict.cv, "pass", verdict.reason);
    assertEquals(verdict.sets.map((s) => [s.instance, s.amsValid, s.asValid, s.cv, s.domain]), [
      [1, true, true, "none", "example.org"],
    ]);
    assertEquals(await nextHop(entry.message, await records(t)), {
      result: "pass",
      sealer: "example.org",
    });
    // bob's copies, through the same alias, are stored as received.
    const inbox = await t.inbox(t.bob.id);
    assertEquals(inbox.length, 2);
    for (const copy of inbox) assertEquals(copy.includes("ARC-Seal:"), false);
  });
});

Deno.test("a message that came with a valid ARC set gets ours as i=2; a broken chain gets cv=fail", async () => {
  await withWorld(async (world) => {
    const { t } = world;
    await t.store.dkimKeys.rotate("example.org");
    const list = await LIST_KEY();
    const seal = (subject: string) =>
      arcpySign(
        encoder.encode(
          mail("Author <a@origin.test>", subject, [
            "Authentication-Results: lists.test; spf=pass smtp.mailfrom=a@origin.test",
          ]),
        ),
        { pkcs8: list.pkcs8, domain: "lists.test", selector: "arc" },
        "lists.test",
      );
    await send(world, "list-bounces@lists.test", decoder.decode(await seal("via-list")));
    const entry = await queued(t, "via-list");
    assertStringIncludes(
      field(entry.message, "Authentication-Results")!,
      "arc=pass (sealed by lists.test)",
    );
    assertMatch(field(entry.message, "ARC-Seal")!, /^i=2; a=rsa-sha256; cv=pass; d=example\.org;/);
    const verdict = await arcpyVerify(entry.message, await records(t));
    assertEquals(verdict.cv, "pass", verdict.reason);
    assertEquals(verdict.sets.map((s) => [s.instance, s.amsValid, s.asValid, s.cv, s.domain]), [
      [2, true, true, "pass", "example.org"],
      [1, true, true, "none", "lists.test"],
    ]);
    assertEquals(await nextHop(entry.message, await records(t)), {
      result: "pass",
      sealer: "example.org",
    });

    // Changed after the list sealed it: our check finds the chain failing, and says so.
    const changed = decoder.decode(await seal("via-list-changed"))
      .replace("Hello through the forward.", "Hello through the forward!");
    await send(world, "list-bounces@lists.test", changed);
    const failed = await queued(t, "via-list-changed");
    assertStringIncludes(field(failed.message, "Authentication-Results")!, "arc=fail");
    assertMatch(field(failed.message, "ARC-Seal")!, /^i=2; a=rsa-sha256; cv=fail; d=example\.org;/);
    // dkimpy reads a cv=fail seal as the chain's end (its status None), our set included.
    const broken = await arcpyVerify(failed.message, await records(t));
    assertEquals(broken.cv, null, broken.reason);
    assertEquals(broken.sets[0]?.cv, "fail");
    assertEquals((await nextHop(failed.message, await records(t))).result, "fail");
  });
});

Deno.test("submitted mail to a forwarding alias is DKIM-signed, not ARC-sealed", async () => {
  await withWorld(async (world) => {
    const { t } = world;
    await t.store.dkimKeys.rotate("example.org");
    await using(() => submission(t, "alice@example.org", GOOD_PASSWORD), async (c) => {
      await c.command("MAIL FROM:<alice@example.org>", "250 2.1.0");
      await c.command("RCPT TO:<list@example.org>", "250 2.1.5");
      await c.command("DATA", "354");
      await c.send(
        lines(
          "From: Alice <alice@example.org>",
          "To: list@example.org",
          "Subject: submitted",
          "",
          "Hi.",
        ) +
          ".\r\n",
      );
      await c.expect("250 2.0.0");
    });
    const entry = await queued(t, "submitted");
    assert(field(entry.message, "DKIM-Signature") !== null);
    assertEquals(field(entry.message, "ARC-Seal"), null);
    assertEquals(field(entry.message, "ARC-Message-Signature"), null);
  });
});
