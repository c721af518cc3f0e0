import { assert, assertEquals, assertMatch, assertStringIncludes } from "../../tests/assert.ts";
import { withStore } from "../../tests/store.ts";
import { Delivery, Recipients } from "../delivery/mod.ts";
import { type DnsRecord, FakeResolver } from "../dns/mod.ts";
import { silentLogger } from "../ops/log.ts";
import { type DmarcEvaluation, DmarcReports } from "../store/dmarc_reports.ts";
import { reportsInMessage } from "./parse.ts";
import { mailtoDestinations, verifyDestination } from "./policy.ts";
import { type ReportJobDeps, sendReports } from "./send.ts";

const encoder = new TextEncoder();
const txt = (name: string, text: string): DnsRecord => ({
  type: "TXT",
  name,
  ttl: 300,
  strings: [encoder.encode(text)],
  text,
});

const WORLD = [
  // RFC 7489 §7.1: example.org and verified.example agreed to take sender.example's reports.
  txt("sender.example._report._dmarc.example.org", "v=DMARC1"),
  txt("sender.example._report._dmarc.verified.example", "v=DMARC1;"),
  txt("sender.example._report._dmarc.wrong.example", "v=spf1 -all"),
];

const evaluation: DmarcEvaluation = {
  receivedAt: new Date("2026-11-27T10:00:00Z"),
  headerFrom: "sender.example",
  policyDomain: "sender.example",
  sourceIp: "192.0.2.7",
  policy: { p: "reject", sp: "reject", pct: 100, adkim: "r", aspf: "r" },
  disposition: "none",
  dkimAligned: "pass",
  spfAligned: "fail",
  override: null,
  dkim: [{ domain: "sender.example", selector: "s1", result: "pass" }],
  spf: [{ domain: "bounce.other.example", scope: "mfrom", result: "pass" }],
  rua: [
    "mailto:dmarc@example.org",
    "mailto:rua@verified.example",
    "mailto:rua@unverified.example",
    "mailto:rua@wrong.example",
    "mailto:tiny@sender.example!1k",
    "https://reports.sender.example/",
  ],
};

Deno.test("rua URIs: mailto only, with !size limits and percent-decoding", () => {
  assertEquals(
    mailtoDestinations([
      "mailto:a@x.example!10m",
      "https://x.example/",
      "mailto:b%2Bdmarc@Y.example!2k",
      "mailto:A@x.example",
      "mailto:bad%0D%0A@x.example",
      "mailto:c@z.example!5",
    ]),
    [
      { address: "a@x.example", domain: "x.example", maxSize: 10 * 2 ** 20 },
      { address: "b+dmarc@Y.example", domain: "y.example", maxSize: 2048 },
      { address: "c@z.example", domain: "z.example", maxSize: 5 },
    ],
  );
});

Deno.test("external destinations: the same organisation needs nothing, others a record", async () => {
  const resolver = new FakeResolver(WORLD, {
    failing: ["sender.example._report._dmarc.down.example"],
  });
  const to = (address: string) => mailtoDestinations([`mailto:${address}`])[0]!;
  const verify = (address: string) => verifyDestination(resolver, "sender.example", to(address));
  assertEquals(await verify("a@reports.sender.example"), "same-organization");
  assertEquals(await verify("a@example.org"), "verified");
  assertEquals(await verify("a@unverified.example"), "unverified");
  assertEquals(await verify("a@wrong.example"), "unverified");
  assertEquals(await verify("a@down.example"), "temperror");
});

Deno.test("report job: sent once to verified destinations, gzip attached, DKIM-signed", async () => {
  await withStore(async ({ store }) => {
    const reports = new DmarcReports(store.sql);
    const account = await store.accounts.create({
      address: "dmarc@example.org",
      password: "purple elephants dance 42",
    });
    await store.dkimKeys.rotate("example.org");
    for (let i = 0; i < 3; i++) await reports.record(evaluation);
    await reports.record({ ...evaluation, sourceIp: "198.51.100.1", dkimAligned: "fail" });
    let queued = 0;
    const deps: ReportJobDeps = {
      reports,
      delivery: new Delivery({
        store,
        hostname: "mail.example.org",
        log: silentLogger,
        queued: () => queued++,
      }),
      recipients: new Recipients(store),
      resolver: new FakeResolver(WORLD),
      hostname: "mail.example.org",
      reportAddress: "dmarc-reports@example.org",
      log: silentLogger,
    };
    // Not before the day is over.
    assertEquals(await sendReports(deps, new Date("2026-11-27T23:00:00Z")), []);
    // Two processes at once: one sends.
    const now = new Date("2026-11-28T00:30:00Z");
    const runs = await Promise.all([sendReports(deps, now), sendReports(deps, now)]);
    const outcomes = runs.flat();
    assertEquals(outcomes.length, 1);
    const outcome = outcomes[0]!;
    assertEquals(outcome.reportId, "20261127.sender.example@mail.example.org");
    assertEquals(outcome.sent, ["dmarc@example.org", "rua@verified.example"]);
    assertEquals(outcome.skipped.map((s) => s.address), [
      "rua@unverified.example",
      "rua@wrong.example",
      "tiny@sender.example",
    ]);
    assertEquals(outcome.skipped[0]!.reason, "external destination unverified");
    assertMatch(
      outcome.skipped[2]!.reason,
      /^report of \d+ octets is larger than the limit of 1024$/,
    );
    // Nothing is sent twice; the evaluations are gone.
    assertEquals(await sendReports(deps, new Date("2026-11-28T01:30:00Z")), []);
    assertEquals(await reports.due(now), []);
    // The remote destination is queued, from our reporting address.
    const [entry] = await store.queue.list();
    assertEquals(entry!.sender, "dmarc-reports@example.org");
    assertEquals(entry!.recipients.map((r) => r.address), ["rua@verified.example"]);
    assertEquals(queued, 1);
    // The local one is in the mailbox: Subject, attachment, DKIM signature of example.org.
    const box = await store.mailboxes.get(account.id, "INBOX");
    const [info] = await store.messages.list(box.id);
    const raw = await store.messages.read(account.id, info!.messageId);
    const text = new TextDecoder().decode(raw);
    assertStringIncludes(
      text,
      "Subject: Report Domain: sender.example Submitter: mail.example.org\r\n" +
        " Report-ID: <20261127.sender.example@mail.example.org>\r\n",
    );
    assertMatch(text, /^DKIM-Signature:.*\bd=example\.org;/m);
    assertStringIncludes(
      text,
      'Content-Type: application/gzip; name="mail.example.org!sender.example!1795737600!1795823999.xml.gz"',
    );
    const [report] = await reportsInMessage(raw);
    assert(report !== undefined);
    assertEquals(report.orgName, "mail.example.org");
    assertEquals(report.email, "dmarc-reports@example.org");
    assertEquals(report.begin, new Date("2026-11-27T00:00:00Z"));
    assertEquals(report.rows.map((r) => [r.sourceIp, r.count, r.dkim, r.spf]), [
      ["192.0.2.7", 3, "pass", "fail"],
      ["198.51.100.1", 1, "fail", "fail"],
    ]);
  });
});
