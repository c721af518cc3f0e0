import { assertEquals } from "../../tests/assert.ts";
import { type DnsRecord, FakeResolver } from "../dns/mod.ts";
import type { AuthResults, DmarcOutcome } from "../mailauth/mod.ts";
import { evaluationsOf, isAggregateReport } from "./record.ts";

const encoder = new TextEncoder();
const txt = (name: string, text: string): DnsRecord => ({
  type: "TXT",
  name,
  ttl: 300,
  strings: [encoder.encode(text)],
  text,
});

const resolver = () =>
  new FakeResolver([
    txt("_dmarc.sender.example", "v=DMARC1; p=reject; pct=50; rua=mailto:a@sender.example"),
    txt("_dmarc.org.example", "v=DMARC1; p=quarantine; sp=reject; rua=mailto:r@org.example"),
    txt("_dmarc.quiet.example", "v=DMARC1; p=reject"),
  ]);

const message = (subject = "Hello") =>
  encoder.encode(`From: a@sender.example\r\nSubject: ${subject}\r\n\r\nHi.\r\n`);

function outcome(
  domain: string,
  result: DmarcOutcome["result"],
  extra: Partial<DmarcOutcome> = {},
) {
  const pass = result === "pass";
  return {
    domain,
    result,
    published: "reject" as const,
    policy: "none" as const,
    aligned: { spf: pass ? domain : null, dkim: null },
    reason: pass ? "aligned" : "no aligned identifier",
    ...extra,
  };
}

function results(
  outcomes: DmarcOutcome[],
  disposition: AuthResults["disposition"] = { action: "none", domain: null, reason: null },
): AuthResults {
  return {
    spf: [
      { identity: "mailfrom", value: "a@sender.example", domain: "sender.example", result: "pass" },
      { identity: "helo", value: "mx.sender.example", domain: "mx.sender.example", result: "none" },
    ],
    dkim: [{
      result: "fail",
      domain: "Other.example",
      selector: "s1",
      algorithm: "rsa-sha256",
      b: "abcdefgh",
      reason: "signature did not verify",
    }],
    arc: { result: "none", sealer: null },
    dmarc: { kind: "evaluated", outcomes },
    disposition,
  };
}

const now = new Date("2026-11-28T06:00:00Z");

Deno.test("recording: a domain with rua gets one evaluation, with the policy and auth results", async () => {
  const [e, ...more] = await evaluationsOf(
    { ip: "192.0.2.1", message: message(), results: results([outcome("sender.example", "pass")]) },
    resolver(),
    now,
  );
  assertEquals(more, []);
  assertEquals(e, {
    receivedAt: now,
    headerFrom: "sender.example",
    policyDomain: "sender.example",
    sourceIp: "192.0.2.1",
    policy: { p: "reject", sp: "reject", pct: 50, adkim: "r", aspf: "r" },
    disposition: "none",
    dkimAligned: "fail",
    spfAligned: "pass",
    override: null,
    dkim: [{ domain: "other.example", selector: "s1", result: "fail" }],
    spf: [
      { domain: "sender.example", scope: "mfrom", result: "pass" },
      { domain: "mx.sender.example", scope: "helo", result: "none" },
    ],
    rua: ["mailto:a@sender.example"],
  });
});

Deno.test("recording: applied policy, pct sampling and a trusted ARC sealer's override", async () => {
  const record = async (o: DmarcOutcome, disposition?: AuthResults["disposition"]) =>
    (await evaluationsOf(
      { ip: "192.0.2.1", message: message(), results: results([o], disposition) },
      resolver(),
      now,
    ))[0]!;
  const applied = await record(outcome("sender.example", "fail", { policy: "reject" }), {
    action: "reject",
    domain: "sender.example",
    reason: "no aligned identifier",
  });
  assertEquals([applied.disposition, applied.override], ["reject", null]);
  // RFC 7489 Appendix C: pct left the message out, the next lower policy applied.
  const sampled = await record(outcome("sender.example", "fail", { policy: "quarantine" }), {
    action: "quarantine",
    domain: "sender.example",
    reason: "no aligned identifier; pct=50 left it out",
  });
  assertEquals([sampled.disposition, sampled.override], ["quarantine", "sampled_out"]);
  const vouched = await record(outcome("sender.example", "fail", { policy: "reject" }), {
    action: "none",
    domain: "sender.example",
    reason: "ARC sealed by lists.example",
  });
  assertEquals([vouched.disposition, vouched.override], ["none", "trusted_forwarder"]);
});

Deno.test("recording: an inherited record reports to the organisational domain", async () => {
  const [e] = await evaluationsOf(
    {
      ip: "192.0.2.1",
      message: message(),
      results: results([outcome("news.org.example", "pass")]),
    },
    resolver(),
    now,
  );
  assertEquals([e!.headerFrom, e!.policyDomain, e!.rua], [
    "news.org.example",
    "org.example",
    ["mailto:r@org.example"],
  ]);
  assertEquals(e!.policy.sp, "reject");
});

Deno.test("recording: nothing without rua, without a verdict, or for a report itself", async () => {
  const none = async (ev: Parameters<typeof evaluationsOf>[0]) =>
    assertEquals(await evaluationsOf(ev, resolver(), now), []);
  await none({
    ip: "192.0.2.1",
    message: message(),
    results: results([outcome("quiet.example", "pass")]),
  });
  await none({
    ip: "192.0.2.1",
    message: message(),
    results: results([outcome("nothing.example", "none", { published: null })]),
  });
  await none({
    ip: "192.0.2.1",
    message: message(),
    results: results([outcome("sender.example", "temperror")]),
  });
  await none({
    ip: "192.0.2.1",
    message: message(),
    results: { ...results([]), dmarc: { kind: "permerror", reason: "no From", domain: null } },
  });
  const report = message("Report Domain: example.org Submitter: x.example Report-ID: <1@x>");
  assertEquals(isAggregateReport(report), true);
  await none({
    ip: "192.0.2.1",
    message: report,
    results: results([outcome("sender.example", "pass")]),
  });
});
