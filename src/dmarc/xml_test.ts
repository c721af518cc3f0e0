import { assert, assertEquals, assertStringIncludes } from "../../tests/assert.ts";
import type { DmarcEvaluation } from "../store/dmarc_reports.ts";
import { parseAggregateReport } from "./parse.ts";
import { aggregateReportXml, escapeXml, groupEvaluations, groupRecords } from "./xml.ts";

const SCHEMA = new URL("../../tests/fixtures/dmarc_aggregate.xsd", import.meta.url).pathname;

/** xmllint (libxml2-utils) against our XSD of RFC 7489 Appendix C: its exit code and output. */
async function validate(xml: string): Promise<{ ok: boolean; output: string }> {
  const file = await Deno.makeTempFile({ suffix: ".xml" });
  try {
    await Deno.writeTextFile(file, xml);
    const out = await new Deno.Command("xmllint", {
      args: ["--noout", "--nonet", "--schema", SCHEMA, file],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return { ok: out.success, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
  } finally {
    await Deno.remove(file);
  }
}

const base: DmarcEvaluation = {
  receivedAt: new Date("2026-11-27T10:00:00Z"),
  headerFrom: "sender.example",
  policyDomain: "sender.example",
  sourceIp: "192.0.2.7",
  policy: { p: "reject", sp: "quarantine", pct: 50, adkim: "s", aspf: "r" },
  disposition: "none",
  dkimAligned: "pass",
  spfAligned: "pass",
  override: null,
  dkim: [{ domain: "sender.example", selector: "s1", result: "pass" }],
  spf: [
    { domain: "sender.example", scope: "mfrom", result: "pass" },
    { domain: "client.sender.example", scope: "helo", result: "none" },
  ],
  rua: ["mailto:rua@sender.example"],
};

const evaluations: DmarcEvaluation[] = [
  base,
  base,
  { ...base, sourceIp: "2001:db8::25" },
  {
    ...base,
    sourceIp: "198.51.100.9",
    disposition: "quarantine",
    dkimAligned: "fail",
    spfAligned: "fail",
    dkim: [],
    spf: [{ domain: "forged<&>.example", scope: "mfrom", result: "fail" }],
  },
  {
    ...base,
    sourceIp: "198.51.100.10",
    disposition: "none",
    dkimAligned: "fail",
    spfAligned: "fail",
    override: "sampled_out",
    dkim: [{ domain: "other.example", selector: "", result: "fail" }],
    spf: [],
  },
];

const metadata = {
  orgName: "mail.example.org",
  email: "dmarc-reports@mail.example.org",
  reportId: "20261127.sender.example@mail.example.org",
  begin: 1795737600,
  end: 1795823999,
};

Deno.test("aggregate report: one record per group, with its count", () => {
  const records = groupRecords(groupEvaluations(evaluations));
  assertEquals(records.map((r) => [r.sourceIp, r.count]), [
    ["192.0.2.7", 2],
    ["2001:db8::25", 1],
    ["198.51.100.9", 1],
    ["198.51.100.10", 1],
  ]);
  assertEquals(records[0]!.envelopeFrom, "sender.example");
});

Deno.test("aggregate report: valid against the schema of RFC 7489 Appendix C (xmllint)", async () => {
  const xml = aggregateReportXml(
    metadata,
    "sender.example",
    base.policy,
    groupEvaluations(evaluations),
  );
  const result = await validate(xml);
  assert(result.ok, result.output + xml);
  assertStringIncludes(xml, "<domain>forged&lt;&amp;&gt;.example</domain>");
  assertStringIncludes(xml, "<reason><type>sampled_out</type></reason>");
  // Without any SPF result, the envelope domain is reported as spf none (the schema needs one).
  assertStringIncludes(xml, "<spf><domain>sender.example</domain><scope>mfrom</scope>");
  // Our own reader reads it back, counts and all.
  const report = parseAggregateReport(xml)!;
  assertEquals(report.orgName, "mail.example.org");
  assertEquals(report.domain, "sender.example");
  assertEquals(report.policy, {
    p: "reject",
    sp: "quarantine",
    pct: "50",
    adkim: "s",
    aspf: "r",
    fo: "0",
  });
  assertEquals(report.rows.map((r) => [r.sourceIp, r.count, r.disposition, r.dkim, r.spf]), [
    ["192.0.2.7", 2, "none", "pass", "pass"],
    ["2001:db8::25", 1, "none", "pass", "pass"],
    ["198.51.100.9", 1, "quarantine", "fail", "fail"],
    ["198.51.100.10", 1, "none", "fail", "fail"],
  ]);
  assertEquals(report.rows[2]!.auth.spf, [
    { domain: "forged<&>.example", scope: "mfrom", result: "fail" },
  ]);
});

Deno.test("aggregate report: the schema has teeth (a wrong disposition or order fails)", async () => {
  const xml = aggregateReportXml(
    metadata,
    "sender.example",
    base.policy,
    groupEvaluations(evaluations),
  );
  assert(!(await validate(xml.replace("<disposition>quarantine<", "<disposition>maybe<"))).ok);
  assert(!(await validate(xml.replace(/<p>reject<\/p>/, ""))).ok);
  assert(!(await validate(xml.replace("<source_ip>192.0.2.7<", "<source_ip>host.example<"))).ok);
});

Deno.test("escapeXml: markup characters escaped, controls dropped", () => {
  assertEquals(escapeXml(`a<b>&"c'\x01`), "a&lt;b&gt;&amp;&quot;c&apos;");
});
