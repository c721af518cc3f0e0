import { assertEquals } from "../../tests/assert.ts";
import { withStore } from "../../tests/store.ts";
import { type DmarcEvaluation, DmarcReports, type ReceivedReport } from "./dmarc_reports.ts";

const evaluation: DmarcEvaluation = {
  receivedAt: new Date("2026-11-27T10:00:00Z"),
  headerFrom: "Sender.Example",
  policyDomain: "sender.example",
  sourceIp: "192.0.2.7",
  policy: { p: "reject", sp: "reject", pct: 100, adkim: "r", aspf: "r" },
  disposition: "none",
  dkimAligned: "pass",
  spfAligned: "fail",
  override: null,
  dkim: [{ domain: "sender.example", selector: "s1", result: "pass" }],
  spf: [{ domain: "sender.example", scope: "mfrom", result: "fail" }],
  rua: ["mailto:rua@sender.example"],
};

Deno.test("dmarc reports: recorded evaluations are due the next day, claimed once, deleted when sent", async () => {
  await withStore(async ({ store }) => {
    const reports = new DmarcReports(store.sql);
    await reports.record(evaluation);
    await reports.record({ ...evaluation, sourceIp: "192.0.2.8" });
    assertEquals(await reports.due(new Date("2026-11-27T23:59:00Z")), []);
    const now = new Date("2026-11-28T01:00:00Z");
    const [due] = await reports.due(now);
    assertEquals(due, { policyDomain: "sender.example", day: "2026-11-27" });
    await reports.record({ ...evaluation, receivedAt: new Date("2026-11-27T11:00:00Z") });
    await reports.record({
      ...evaluation,
      receivedAt: new Date("2026-11-27T12:00:00Z"),
      policy: { ...evaluation.policy, p: "quarantine" },
    });
    const data = await reports.reportData(due!);
    // The newest evaluation's policy; records grouped with their counts, in order of first sight.
    assertEquals(data!.policy, { ...evaluation.policy, p: "quarantine" });
    assertEquals(data!.rua, evaluation.rua);
    const { receivedAt: _, policyDomain: __, policy: ___, rua: ____, ...group } = evaluation;
    assertEquals(data!.groups, [
      { ...group, headerFrom: "sender.example", count: 3 },
      { ...group, headerFrom: "sender.example", sourceIp: "192.0.2.8", count: 1 },
    ]);
    assertEquals(
      await reports.reportData({ policyDomain: "other.example", day: "2026-11-27" }),
      null,
    );
    // Two processes: one wins the claim.
    assertEquals(await reports.claim(due!, "r1", now), true);
    assertEquals(await reports.claim(due!, "r2", now), false);
    // A failed send gives the claim back.
    await reports.release(due!);
    assertEquals(await reports.claim(due!, "r3", now), true);
    await reports.sent(due!, now);
    assertEquals(await reports.due(now), []);
    await reports.release(due!); // a sent report's claim stays
    assertEquals(await reports.claim(due!, "r4", now), false);
  });
});

Deno.test("dmarc reports: prune deletes evaluations after 30 days", async () => {
  await withStore(async ({ store }) => {
    const reports = new DmarcReports(store.sql);
    await reports.record(evaluation);
    assertEquals(await reports.prune(new Date("2026-12-20T00:00:00Z")), 0);
    assertEquals(await reports.prune(new Date("2026-12-28T00:00:00Z")), 1);
  });
});

Deno.test("dmarc reports: a received report is stored once and summarised by source", async () => {
  await withStore(async ({ store }) => {
    const reports = new DmarcReports(store.sql);
    const report: ReceivedReport = {
      orgName: "google.com",
      email: "noreply-dmarc-support@google.com",
      reportId: "123",
      domain: "example.org",
      begin: new Date("2026-11-26T00:00:00Z"),
      end: new Date("2026-11-26T23:59:59Z"),
      policy: { p: "reject" },
      rows: [
        {
          sourceIp: "192.0.2.1",
          count: 5,
          disposition: "none",
          dkim: "pass",
          spf: "fail",
          headerFrom: "example.org",
          auth: { dkim: [], spf: [] },
        },
        {
          sourceIp: "192.0.2.1",
          count: 2,
          disposition: "reject",
          dkim: "fail",
          spf: "fail",
          headerFrom: "example.org",
          auth: { dkim: [], spf: [] },
        },
      ],
    };
    const now = new Date("2026-11-27T00:00:00Z");
    assertEquals(await reports.store(report, now), true);
    assertEquals(await reports.store(report, now), false);
    assertEquals(await reports.summary("Example.org", new Date("2026-11-20T00:00:00Z")), [{
      domain: "example.org",
      orgName: "google.com",
      sourceIp: "192.0.2.1",
      count: 7,
      dmarcPass: 5,
      dkimPass: 5,
      spfPass: 0,
    }]);
    assertEquals(await reports.summary(null, new Date("2026-11-27T00:00:00Z")), []);
    assertEquals(await reports.summary("other.example", new Date(0)), []);
  });
});
