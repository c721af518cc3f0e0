import { assert, assertEquals } from "../../tests/assert.ts";
import {
  inflate,
  MAX_XML_SIZE,
  parseAggregateReport,
  reportFiles,
  reportsInMessage,
  unzip,
} from "./parse.ts";
import { gzip } from "./send.ts";

const FIXTURES = new URL("../../tests/fixtures/", import.meta.url);

/** A message with one attachment, base64 in lines of 76. */
function withAttachment(type: string, name: string, data: Uint8Array): Uint8Array {
  let binary = "";
  for (const byte of data) binary += String.fromCharCode(byte);
  const b64 = (btoa(binary).match(/.{1,76}/g) ?? []).join("\r\n");
  return new TextEncoder().encode([
    "From: noreply-dmarc-support@google.com",
    "To: dmarc@example.org",
    "Subject: Report domain: example.org Submitter: google.com Report-ID: 4217733812345678901",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b1"',
    "",
    "--b1",
    "Content-Type: text/plain",
    "",
    "A report.",
    "--b1",
    `Content-Type: ${type}; name="${name}"`,
    `Content-Disposition: attachment; filename="${name}"`,
    "Content-Transfer-Encoding: base64",
    "",
    b64,
    "--b1--",
    "",
  ].join("\r\n"));
}

/** A zip archive made by Python's zipfile (deflated), as another mail system's would be. */
async function pythonZip(name: string, content: string | { zeros: number }): Promise<Uint8Array> {
  const script = [
    "import sys, zipfile, io",
    "buf = io.BytesIO()",
    "with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:",
    "    data = sys.stdin.buffer.read()",
    "    n = int(sys.argv[2])",
    "    z.writestr(sys.argv[1], b'\\0' * n if n else data)",
    "sys.stdout.buffer.write(buf.getvalue())",
  ].join("\n");
  const zeros = typeof content === "string" ? 0 : content.zeros;
  const child = new Deno.Command("python3", {
    args: ["-c", script, name, String(zeros)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(typeof content === "string" ? content : ""));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return out.stdout;
}

/** A Microsoft-style report: namespaced feedback, version, envelope_to. */
const MICROSOFT = `<?xml version="1.0"?>
<feedback xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <version>1.0</version>
  <report_metadata>
    <org_name>Enterprise Outlook</org_name>
    <email>dmarcreport@microsoft.com</email>
    <report_id>9c2a7f0e5b8d4e6f</report_id>
    <date_range><begin>1795651200</begin><end>1795737600</end></date_range>
  </report_metadata>
  <policy_published>
    <domain>example.org</domain><adkim>r</adkim><aspf>r</aspf><p>reject</p><sp>reject</sp>
    <pct>100</pct><fo>0</fo>
  </policy_published>
  <record>
    <row>
      <source_ip>2001:db8::25</source_ip><count>4</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated>
    </row>
    <identifiers>
      <envelope_to>outlook.com</envelope_to><envelope_from>example.org</envelope_from>
      <header_from>example.org</header_from>
    </identifiers>
    <auth_results>
      <dkim><domain>example.org</domain><selector>rsa1</selector><result>pass</result></dkim>
      <spf><domain>example.org</domain><scope>mfrom</scope><result>softfail</result></spf>
    </auth_results>
  </record>
</feedback>`;

Deno.test("received report: Google's .xml.gz attachment is read", async () => {
  const gz = await Deno.readFile(new URL("dmarc_google.xml.gz", FIXTURES));
  const message = withAttachment(
    "application/gzip",
    "google.com!example.org!1795651200!1795737599.xml.gz",
    gz,
  );
  assertEquals(reportFiles(message).map((f) => f.kind), ["gzip"]);
  const [report, ...more] = await reportsInMessage(message);
  assertEquals(more, []);
  assertEquals(report!.orgName, "google.com");
  assertEquals(report!.reportId, "4217733812345678901");
  assertEquals(report!.domain, "example.org");
  assertEquals(report!.begin, new Date(1795651200 * 1000));
  assertEquals(report!.policy.p, "reject");
  assertEquals(report!.rows.map((r) => [r.sourceIp, r.count, r.disposition, r.dkim, r.spf]), [
    ["192.0.2.25", 12, "none", "pass", "pass"],
    ["203.0.113.66", 3, "reject", "fail", "fail"],
  ]);
  assertEquals(report!.rows[0]!.auth.dkim, [
    { domain: "example.org", selector: "ed1", result: "pass" },
  ]);
  assertEquals(report!.rows[1]!.auth.spf, [
    { domain: "spoofer.example", scope: "mfrom", result: "pass" },
  ]);
});

Deno.test("received report: a .zip made by another tool, and plain XML", async () => {
  const zip = await pythonZip("enterprise.protection.outlook.com!example.org.xml", MICROSOFT);
  const [report] = await reportsInMessage(withAttachment("application/zip", "r.zip", zip));
  assertEquals(report!.orgName, "Enterprise Outlook");
  assertEquals(report!.rows.map((r) => [r.sourceIp, r.count, r.dkim, r.spf]), [
    ["2001:db8::25", 4, "pass", "fail"],
  ]);
  const xml = new TextEncoder().encode(MICROSOFT);
  const [plain] = await reportsInMessage(withAttachment("text/xml", "r.xml", xml));
  assertEquals(plain!.reportId, "9c2a7f0e5b8d4e6f");
});

Deno.test("received report: zip and gzip bombs stop at the size limit, without harm", async () => {
  const zeros = MAX_XML_SIZE * 4;
  const zipBomb = await pythonZip("bomb.xml", { zeros });
  assert(zipBomb.length < 200_000, `a small archive (${zipBomb.length})`);
  assertEquals(await unzip(zipBomb), null);
  const gzBomb = await gzip("\0".repeat(zeros));
  assertEquals(await inflate(gzBomb, "gzip"), null);
  assertEquals(await reportsInMessage(withAttachment("application/zip", "b.zip", zipBomb)), []);
  assertEquals(await reportsInMessage(withAttachment("application/gzip", "b.xml.gz", gzBomb)), []);
  // An attachment larger than any report is not even decoded.
  const huge = new Uint8Array(6 * 2 ** 20);
  assertEquals(reportFiles(withAttachment("application/gzip", "h.xml.gz", huge)), []);
});

Deno.test("received report: garbage is refused, never thrown", async () => {
  const junk = new TextEncoder().encode("not compressed at all");
  assertEquals(await reportsInMessage(withAttachment("application/gzip", "j.xml.gz", junk)), []);
  assertEquals(await reportsInMessage(withAttachment("application/zip", "j.zip", junk)), []);
  assertEquals(await unzip(new Uint8Array(30)), null);
  assertEquals(parseAggregateReport("<feedback><report_metadata>"), null);
  assertEquals(parseAggregateReport("<html></html>"), null);
  // A record whose source IP is not an address fails the whole report.
  assertEquals(parseAggregateReport(MICROSOFT.replace("2001:db8::25", "<x/>")), null);
});

Deno.test("received report: a DOCTYPE (entity expansion) is refused before parsing", () => {
  const laughs = `<?xml version="1.0"?>
<!DOCTYPE feedback [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
${MICROSOFT.slice(MICROSOFT.indexOf("<feedback"))}`.replace("Enterprise Outlook", "&c;");
  assertEquals(parseAggregateReport(laughs), null);
  // Predefined entities in values are decoded; nothing else is expanded.
  const amp = parseAggregateReport(MICROSOFT.replace("Enterprise Outlook", "A &amp; B &c;"));
  assertEquals(amp!.orgName, "A & B &c;");
});
