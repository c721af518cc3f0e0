/**
 * DMARC aggregate reports end to end (RFC 7489 §7.2):
 *
 * - Sending: a real Knot server on loopback publishes a sender domain's DMARC record with two
 *   rua destinations (one of ours, verified by a `_report._dmarc` record, and one outside and
 *   unverified); swaks sends mail through Fumi's MX; the report job runs for the next day; the
 *   report arrives in our rua mailbox as a gzip attachment whose XML validates against the
 *   schema of RFC 7489 Appendix C (xmllint) and has the right counts and results.
 * - Receiving: reports as Google (a fixture .xml.gz) and as Microsoft (a .zip made by Python's
 *   zipfile) send them are delivered to a local mailbox, read, stored once, and shown by
 *   `fumi dmarc reports`; a zip bomb is delivered as mail and otherwise ignored.
 *
 * @module
 */

import { StubResolver } from "../src/dns/mod.ts";
import { Delivery, Recipients } from "../src/delivery/mod.ts";
import { DmarcReceiver, dmarcRecorder, type Evaluated, sendReports } from "../src/dmarc/mod.ts";
import { mailauthChecks } from "../src/mailauth/mod.ts";
import { silentLogger } from "../src/ops/log.ts";
import { DmarcReports } from "../src/store/dmarc_reports.ts";
import type { Store } from "../src/store/mod.ts";
import { parseAddress } from "../src/util/address.ts";
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { assertOk, type Env, fumi, storeFor, table, withCommandDatabase } from "./cli.ts";
import { type DnsServer, startDnsServer } from "./dns_server.ts";
import { type SmtpFixture, withSmtp } from "./smtp.ts";
import { runTool } from "./smtp_clients.ts";
import { GOOD_PASSWORD } from "./store.ts";
import { makeTestPki } from "./tls.ts";
import { SERVER_URL, withSharedDatabase } from "./two_servers.ts";

const HOSTNAME = "mail.example.org";
const SCHEMA = new URL("./fixtures/dmarc_aggregate.xsd", import.meta.url).pathname;
const FIXTURES = new URL("./fixtures/", import.meta.url);

function zone(origin: string, records: string): string {
  return `@ SOA ns.${origin}. hostmaster.${origin}. 1 3600 600 86400 60\n@ NS ns\nns A 127.0.0.1\n${records}`;
}

const ZONES: Record<string, string> = {
  "sender.test": zone(
    "sender.test",
    [
      '@ TXT "v=spf1 ip4:127.0.0.1 -all"',
      '_dmarc TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.org,mailto:rua@unverified.test"',
      'client TXT "v=spf1 ip4:127.0.0.1 -all"',
    ].join("\n"),
  ),
  "other.test": zone("other.test", '@ TXT "v=spf1 -all"'),
  "unverified.test": zone("unverified.test", '@ TXT "v=spf1 -all"'),
  // A reporter without SPF or DMARC records of its own: its reports are delivered all the same.
  "receiver.example": zone("receiver.example", ""),
  // RFC 7489 §7.1: example.org agrees to receive sender.test's reports.
  "example.org": zone("example.org", 'sender.test._report._dmarc TXT "v=DMARC1"'),
};

function message(from: string, subject: string): string {
  return [
    `From: ${from}`,
    "To: bob@example.org",
    `Subject: ${subject}`,
    "Date: Sat, 28 Nov 2026 06:00:00 +0000",
    `Message-ID: <${subject.replace(/\W/g, "")}@test>`,
    "",
    "Hello.",
    "",
  ].join("\r\n");
}

async function swaks(port: number, dir: string, sender: string, data: string): Promise<void> {
  const file = await Deno.makeTempFile({ dir, suffix: ".eml" });
  await Deno.writeTextFile(file, `${data}\r\n.\r\n`);
  const result = await runTool("swaks", [
    ...["--server", "127.0.0.1", "--port", `${port}`, "--helo", "client.sender.test"],
    ...["--from", sender, "--to", "bob@example.org", "--timeout", "20"],
    ...["--data", `@${file}`, "--no-data-fixup"],
  ]);
  assertEquals(result.code, 0, result.stdout + result.stderr);
}

/** xmllint (libxml2-utils) against our XSD of RFC 7489 Appendix C. */
async function validate(xml: string): Promise<void> {
  const file = await Deno.makeTempFile({ suffix: ".xml" });
  try {
    await Deno.writeTextFile(file, xml);
    const out = await new Deno.Command("xmllint", {
      args: ["--noout", "--nonet", "--schema", SCHEMA, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(out.success, new TextDecoder().decode(out.stderr) + xml);
  } finally {
    await Deno.remove(file);
  }
}

async function evaluationCount(store: Store): Promise<number> {
  const [row] = await store.sql<{ n: number }[]>`select count(*)::int as n from dmarc_evaluations`;
  return row!.n;
}

async function until(what: string, test: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The messages of an account's mailbox, as bytes. */
async function messagesOf(store: Store, accountId: number, mailbox = "INBOX") {
  const box = await store.mailboxes.get(accountId, mailbox);
  const out: Uint8Array[] = [];
  for (const info of await store.messages.list(box.id)) {
    out.push(await store.messages.read(accountId, info.messageId));
  }
  return out;
}

/** The one application/gzip attachment of a message, decoded and decompressed. */
async function gzipAttachment(raw: Uint8Array): Promise<{ name: string; xml: string }> {
  const text = new TextDecoder().decode(raw);
  const match =
    /Content-Type: application\/gzip; name="([^"]+)"\r\n(?:.+\r\n)*\r\n([A-Za-z0-9+\/=\r\n]+?)\r\n--/
      .exec(text);
  assert(match, "a gzip attachment");
  const bytes = Uint8Array.from(atob(match[2]!.replace(/\r\n/g, "")), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return { name: match[1]!, xml: await new Response(stream).text() };
}

Deno.test("DMARC reports: mail from a domain with rua is reported, gzip XML in the rua mailbox", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fumi-dmarc-" });
  let dns: DnsServer | null = null;
  try {
    dns = await startDnsServer(ZONES);
    const resolver = new StubResolver({
      nameservers: [{ address: dns.address, port: dns.port }],
      timeoutMs: 2_000,
      attempts: 1,
    });
    let record: ((evaluated: Evaluated) => Promise<void>) | null = null;
    const checks = mailauthChecks({
      hostname: HOSTNAME,
      resolver,
      timeoutMs: 10_000,
      onResults: (evaluated) => record?.(evaluated) ?? Promise.resolve(),
    });
    await withSmtp(async (t: SmtpFixture) => {
      const reports = new DmarcReports(t.store.sql);
      record = dmarcRecorder({ reports, resolver, log: silentLogger });
      const rua = await t.store.accounts.create({
        address: "dmarc@example.org",
        password: GOOD_PASSWORD,
      });
      // Two that pass by aligned SPF, one that fails (quarantined), one report (not recorded).
      await swaks(t.ports.mx, dir, "a@sender.test", message("A <a@sender.test>", "one"));
      await swaks(t.ports.mx, dir, "a@sender.test", message("A <a@sender.test>", "two"));
      await swaks(t.ports.mx, dir, "x@other.test", message("A <a@sender.test>", "forged"));
      await until("three evaluations", async () => (await evaluationCount(t.store)) === 3);
      await swaks(
        t.ports.mx,
        dir,
        "a@sender.test",
        message(
          "a@sender.test",
          "Report Domain: example.org Submitter: sender.test Report-ID: <1@x>",
        ),
      );
      assertEquals((await messagesOf(t.store, t.bob.id, "Junk")).length, 1);
      assertEquals((await messagesOf(t.store, t.bob.id)).length, 3);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assertEquals(await evaluationCount(t.store), 3, "a report is never recorded");

      const receiver = new DmarcReceiver({ reports, domains: t.store.domains, log: silentLogger });
      const delivery = new Delivery({
        store: t.store,
        hostname: HOSTNAME,
        log: silentLogger,
        delivered: receiver.delivered,
      });
      const deps = {
        reports,
        delivery,
        recipients: new Recipients(t.store),
        resolver,
        hostname: HOSTNAME,
        reportAddress: "dmarc-reports@example.org",
        log: silentLogger,
      };
      // The job runs the next day (an injected clock).
      const tomorrow = new Date(Date.now() + 86_400_000);
      const [outcome, ...others] = await sendReports(deps, tomorrow);
      await receiver.idle();
      assertEquals(others, []);
      assertEquals(outcome!.policyDomain, "sender.test");
      assertEquals(outcome!.sent, ["dmarc@example.org"]);
      // RFC 7489 §7.1: unverified.test did not agree to take sender.test's reports.
      assertEquals(outcome!.skipped, [{
        address: "rua@unverified.test",
        reason: "external destination unverified",
      }]);
      assertEquals(await t.store.queue.list(), []);
      assertEquals(await sendReports(deps, tomorrow), [], "each report once");

      const [report, ...more] = await messagesOf(t.store, rua.id);
      assertEquals(more, []);
      const text = new TextDecoder().decode(report!);
      const day = new Date().toISOString().slice(0, 10);
      const begin = Date.parse(`${day}T00:00:00Z`) / 1000;
      assertStringIncludes(
        text,
        `Subject: Report Domain: sender.test Submitter: ${HOSTNAME}\r\n Report-ID: <${
          day.replaceAll("-", "")
        }.sender.test@${HOSTNAME}>`,
      );
      assertStringIncludes(text, "From: dmarc-reports@example.org\r\n");
      const { name, xml } = await gzipAttachment(report!);
      assertEquals(name, `${HOSTNAME}!sender.test!${begin}!${begin + 86_399}.xml.gz`);
      await validate(xml);
      const records = xml.split("<record>").slice(1);
      assertEquals(records.length, 2);
      assertStringIncludes(xml, "<domain>sender.test</domain>");
      assertStringIncludes(xml, "<p>quarantine</p>");
      assertStringIncludes(records[0]!, "<source_ip>127.0.0.1</source_ip>");
      assertStringIncludes(records[0]!, "<count>2</count>");
      assertStringIncludes(
        records[0]!,
        "<disposition>none</disposition>\n        <dkim>fail</dkim>\n        <spf>pass</spf>",
      );
      assertStringIncludes(
        records[0]!,
        "<spf><domain>sender.test</domain><scope>mfrom</scope><result>pass</result></spf>",
      );
      assertStringIncludes(records[1]!, "<count>1</count>");
      assertStringIncludes(
        records[1]!,
        "<disposition>quarantine</disposition>\n        <dkim>fail</dkim>\n        <spf>fail</spf>",
      );
      assertStringIncludes(records[1]!, "<envelope_from>other.test</envelope_from>");
      assertStringIncludes(
        records[1]!,
        "<spf><domain>other.test</domain><scope>mfrom</scope><result>fail</result></spf>",
      );
      assertStringIncludes(records[1]!, "<header_from>sender.test</header_from>");
    }, { checks });
  } finally {
    await dns?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

/** A report message as another receiver sends it: one attachment, base64. */
function reportMail(type: string, name: string, data: Uint8Array): Uint8Array {
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  return new TextEncoder().encode([
    "From: reports@receiver.example",
    "To: dmarc@example.org",
    `Subject: Report Domain: example.org Submitter: receiver.example Report-ID: <${name}>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="part"',
    "",
    "--part",
    "Content-Type: text/plain",
    "",
    "This is an aggregate report.",
    "--part",
    `Content-Type: ${type}; name="${name}"`,
    "Content-Transfer-Encoding: base64",
    "",
    ...(btoa(binary).match(/.{1,76}/g) ?? []),
    "--part--",
    "",
  ].join("\r\n"));
}

/** A zip made by Python's zipfile: one deflated entry, `content` or `zeros` NUL octets. */
async function pythonZip(name: string, content: string, zeros = 0): Promise<Uint8Array> {
  const script = "import sys, zipfile, io\nbuf = io.BytesIO()\n" +
    "with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:\n" +
    "    n = int(sys.argv[2])\n" +
    "    z.writestr(sys.argv[1], b'\\0' * n if n else sys.argv[3].encode())\n" +
    "sys.stdout.buffer.write(buf.getvalue())";
  const out = await new Deno.Command("python3", {
    args: ["-c", script, name, String(zeros), content],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  return out.stdout;
}

const MICROSOFT = `<?xml version="1.0"?>
<feedback xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <version>1.0</version>
  <report_metadata>
    <org_name>Enterprise Outlook</org_name>
    <email>dmarcreport@microsoft.com</email>
    <report_id>b7f3c0de5a1e4d2c</report_id>
    <date_range><begin>${Math.floor(Date.now() / 1000) - 86_400}</begin><end>${
  Math.floor(Date.now() / 1000)
}</end></date_range>
  </report_metadata>
  <policy_published>
    <domain>example.org</domain><adkim>r</adkim><aspf>r</aspf><p>reject</p><sp>reject</sp>
    <pct>100</pct><fo>0</fo>
  </policy_published>
  <record>
    <row>
      <source_ip>192.0.2.25</source_ip><count>5</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated>
    </row>
    <identifiers><envelope_from>example.org</envelope_from><header_from>example.org</header_from></identifiers>
    <auth_results>
      <dkim><domain>example.org</domain><selector>rsa1</selector><result>pass</result></dkim>
      <spf><domain>example.org</domain><scope>mfrom</scope><result>softfail</result></spf>
    </auth_results>
  </record>
</feedback>`;

Deno.test("DMARC reports: reports received from Google (.xml.gz) and Microsoft (.zip) are shown by fumi dmarc reports", async () => {
  await withCommandDatabase("fumi-dmarc-", async (env: Env, store) => {
    await store.domains.add("example.org");
    const account = await store.accounts.create({
      address: "dmarc@example.org",
      password: GOOD_PASSWORD,
    });
    const reports = new DmarcReports(store.sql);
    // Google's fixture covers 2026-11-26; read "now" as the day after it.
    const receiver = new DmarcReceiver({
      reports,
      domains: store.domains,
      log: silentLogger,
    });
    const delivery = new Delivery({
      store,
      hostname: HOSTNAME,
      log: silentLogger,
      delivered: receiver.delivered,
    });
    const recipients = new Recipients(store);
    const deliver = async (raw: Uint8Array) => {
      const to = parseAddress("dmarc@example.org");
      const resolution = await recipients.resolve(to);
      assert(resolution.kind === "local");
      await delivery.accept({
        raw,
        sender: parseAddress("reports@receiver.example"),
        recipients: [{
          address: to,
          resolution,
          notify: null,
          orcpt: null,
        }],
        quarantine: null,
        account: null,
        envid: null,
        ret: null,
      });
    };
    const google = await Deno.readFile(new URL("dmarc_google.xml.gz", FIXTURES));
    await deliver(
      reportMail("application/gzip", "google.com!example.org!1795651200!1795737599.xml.gz", google),
    );
    await deliver(
      reportMail("application/zip", "outlook.zip", await pythonZip("r.xml", MICROSOFT)),
    );
    // The same report again is stored once; a zip bomb and junk are delivered and ignored.
    await deliver(reportMail("application/gzip", "again.xml.gz", google));
    await deliver(
      reportMail("application/zip", "bomb.zip", await pythonZip("b.xml", "", 40 * 2 ** 20)),
    );
    await deliver(reportMail("application/gzip", "junk.xml.gz", new TextEncoder().encode("junk")));
    await receiver.idle();
    assertEquals((await messagesOf(store, account.id)).length, 5, "every message delivered");
    const [row] = await store.sql<{ n: number }[]>`
      select count(*)::int as n from dmarc_received_reports`;
    assertEquals(row!.n, 2);

    const run = (argv: string[]) => fumi(argv, { env });
    // Google's report is from 2026-11-26: inside --days 3650, outside the default 30 days
    // only if the clock has moved on; ask for both explicitly.
    const all = table(assertOk(await run(["dmarc", "reports", "example.org", "--days", "3650"])));
    assertEquals(all[0], ["DOMAIN", "REPORTER", "SOURCE IP", "MESSAGES", "DMARC", "DKIM", "SPF"]);
    assertEquals(all.slice(1), [
      [
        "example.org",
        "google.com",
        "192.0.2.25",
        "12",
        "12 pass, 0 fail",
        "12 pass, 0 fail",
        "12 pass, 0 fail",
      ],
      [
        "example.org",
        "Enterprise Outlook",
        "192.0.2.25",
        "5",
        "5 pass, 0 fail",
        "5 pass, 0 fail",
        "0 pass, 5 fail",
      ],
      [
        "example.org",
        "google.com",
        "203.0.113.66",
        "3",
        "0 pass, 3 fail",
        "0 pass, 3 fail",
        "0 pass, 3 fail",
      ],
    ]);
    const recent = table(assertOk(await run(["dmarc", "reports", "--days", "1"])));
    assertEquals(recent.slice(1).map((r) => r[1]), ["Enterprise Outlook"]);
    assertEquals(
      assertOk(await run(["dmarc", "reports", "other.example"])),
      ["No DMARC reports received for other.example in the last 30 days."],
    );
    const usage = await run(["dmarc", "reports", "--days", "0"]);
    assertEquals(usage.code, 2);
    assertEquals((await run(["dmarc"])).code, 2);
  });
});

Deno.test({
  name:
    "fumi serve: [dmarc] send_reports records MX mail for rua domains; a report sent in is read",
  // Needs PostgreSQL, as every test of a real `fumi serve` with its CLI (tests/two_servers.ts).
  ignore: SERVER_URL === null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "fumi-dmarc-serve-" });
    const pki = await makeTestPki();
    let dns: DnsServer | null = null;
    try {
      dns = await startDnsServer(ZONES);
      const config = [
        `hostname = "${HOSTNAME}"`,
        "[dns]",
        `nameservers = ["${dns.address}:${dns.port}"]`,
        `timeout = "2s"`,
        "attempts = 1",
        // --dev leaves both off unless asked for.
        "[mailauth]",
        "enabled = true",
        "[dmarc]",
        "send_reports = true",
        "",
      ].join("\n");
      await withSharedDatabase(dir, pki, "bob@example.org", 90_000, async ({ env, serve }) => {
        const { ports } = await serve("mx", ["smtp"], config);
        await swaks(ports.smtp!, dir, "a@sender.test", message("A <a@sender.test>", "served"));
        // A report from Google about example.org (hosted here), sent in over the MX.
        const google = await Deno.readFile(new URL("dmarc_google.xml.gz", FIXTURES));
        const mail = reportMail("application/gzip", "google.com!example.org!1.xml.gz", google);
        await swaks(ports.smtp!, dir, "reports@receiver.example", new TextDecoder().decode(mail));
        const store = await storeFor(env);
        try {
          await until("the evaluation", async () => (await evaluationCount(store)) === 1);
          const [row] = await store.sql<{ policy_domain: string; rua: string[] }[]>`
            select policy_domain, rua from dmarc_evaluations`;
          assertEquals(row!.policy_domain, "sender.test");
          assertEquals(row!.rua, ["mailto:dmarc@example.org", "mailto:rua@unverified.test"]);
          await until("the received report", async () => {
            const [n] = await store.sql<{ n: number }[]>`
              select count(*)::int as n from dmarc_received_reports`;
            return n!.n === 1;
          });
        } finally {
          await store.close();
        }
        const shown = table(
          assertOk(await fumi(["dmarc", "reports", "example.org", "--days", "3650"], { env })),
        );
        assertEquals(shown.slice(1).map((r) => [r[1], r[2], r[3]]), [
          ["google.com", "192.0.2.25", "12"],
          ["google.com", "203.0.113.66", "3"],
        ]);
      });
    } finally {
      await dns?.stop();
      await pki.remove();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
