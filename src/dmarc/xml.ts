/**
 * The aggregate report's XML (RFC 7489 §7.2.1, Appendix C): report metadata, the policy
 * published, and one record per group of messages that share source IP, identifiers,
 * evaluated policy and authentication results, with their count. Pure.
 *
 * Everything from the DNS or from messages is written as escaped character data; element names
 * and enumerated values are ours.
 *
 * @module
 */

import type {
  DkimAuth,
  DmarcEvaluation,
  EvaluationGroup,
  PublishedPolicy,
  SpfAuth,
} from "../store/dmarc_reports.ts";

/** The report's metadata (Appendix C ReportMetadataType). */
export interface ReportMetadata {
  /** Our host name. */
  readonly orgName: string;
  /** Our reporting address. */
  readonly email: string;
  readonly reportId: string;
  /** Seconds since the epoch, inclusive. */
  readonly begin: number;
  readonly end: number;
}

/** One record: messages alike in everything a report says about them. */
export interface ReportRecord {
  readonly sourceIp: string;
  readonly count: number;
  readonly disposition: string;
  readonly dkim: "pass" | "fail";
  readonly spf: "pass" | "fail";
  readonly override: string | null;
  readonly headerFrom: string;
  readonly envelopeFrom: string;
  readonly dkimAuth: readonly DkimAuth[];
  readonly spfAuth: readonly SpfAuth[];
}

const DKIM_RESULTS = new Set([
  "none",
  "pass",
  "fail",
  "policy",
  "neutral",
  "temperror",
  "permerror",
]);
const SPF_RESULTS = new Set([
  "none",
  "neutral",
  "pass",
  "fail",
  "softfail",
  "temperror",
  "permerror",
]);

/**
 * Groups evaluations as the store does (DmarcReports.reportData): by everything a record shows,
 * counting the messages of each, in order of first sight.
 */
export function groupEvaluations(evaluations: readonly DmarcEvaluation[]): EvaluationGroup[] {
  const groups = new Map<string, EvaluationGroup>();
  for (const e of evaluations) {
    const group = {
      sourceIp: e.sourceIp,
      headerFrom: e.headerFrom,
      disposition: e.disposition,
      dkimAligned: e.dkimAligned,
      spfAligned: e.spfAligned,
      override: e.override,
      dkim: e.dkim,
      spf: e.spf,
    };
    const key = JSON.stringify(group);
    groups.set(key, { ...group, count: (groups.get(key)?.count ?? 0) + 1 });
  }
  return [...groups.values()];
}

/** The records of a report, one per group. */
export function groupRecords(groups: readonly EvaluationGroup[]): ReportRecord[] {
  return groups.map((g) => ({
    sourceIp: g.sourceIp,
    count: g.count,
    disposition: g.disposition,
    dkim: g.dkimAligned,
    spf: g.spfAligned,
    override: g.override,
    headerFrom: g.headerFrom,
    // Appendix C IdentifierType envelope_from: the SPF-checked domain of MAIL FROM (or HELO).
    envelopeFrom: (g.spf.find((s) => s.scope === "mfrom") ?? g.spf[0])?.domain ?? "",
    dkimAuth: g.dkim,
    spfAuth: g.spf,
  }));
}

/** XML character data and attribute values (XML 1.0 §2.4), with controls left out. */
export function escapeXml(text: string): string {
  return text
    // deno-lint-ignore no-control-regex -- XML 1.0 §2.2 does not allow these characters
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function element(name: string, value: string | number): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/**
 * The whole report (RFC 7489 Appendix C `feedback`).
 *
 * @example
 * ```ts
 * const xml = aggregateReportXml(metadata, "sender.example", policy, groupEvaluations(list));
 * ```
 */
export function aggregateReportXml(
  metadata: ReportMetadata,
  policyDomain: string,
  policy: PublishedPolicy,
  groups: readonly EvaluationGroup[],
): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    "<feedback>",
    `  ${element("version", "1.0")}`,
    "  <report_metadata>",
    `    ${element("org_name", metadata.orgName)}`,
    `    ${element("email", metadata.email)}`,
    `    ${element("report_id", metadata.reportId)}`,
    `    <date_range>${element("begin", metadata.begin)}${
      element("end", metadata.end)
    }</date_range>`,
    "  </report_metadata>",
    "  <policy_published>",
    `    ${element("domain", policyDomain)}`,
    `    ${element("adkim", policy.adkim)}`,
    `    ${element("aspf", policy.aspf)}`,
    `    ${element("p", policy.p)}`,
    `    ${element("sp", policy.sp)}`,
    `    ${element("pct", policy.pct)}`,
    // Failure reporting options (RFC 7489 §6.3 fo): Fumi sends no failure reports; the default.
    `    ${element("fo", "0")}`,
    "  </policy_published>",
  ];
  for (const r of groupRecords(groups)) {
    lines.push(
      "  <record>",
      "    <row>",
      `      ${element("source_ip", r.sourceIp)}`,
      `      ${element("count", r.count)}`,
      "      <policy_evaluated>",
      `        ${element("disposition", r.disposition)}`,
      `        ${element("dkim", r.dkim)}`,
      `        ${element("spf", r.spf)}`,
      ...(r.override === null ? [] : [`        <reason>${element("type", r.override)}</reason>`]),
      "      </policy_evaluated>",
      "    </row>",
      "    <identifiers>",
      `      ${element("envelope_from", r.envelopeFrom)}`,
      `      ${element("header_from", r.headerFrom)}`,
      "    </identifiers>",
      "    <auth_results>",
    );
    for (const d of r.dkimAuth) {
      lines.push(
        `      <dkim>${element("domain", d.domain)}${
          d.selector === "" ? "" : element("selector", d.selector)
        }${element("result", DKIM_RESULTS.has(d.result) ? d.result : "permerror")}</dkim>`,
      );
    }
    // Appendix C: at least one spf element; "none" for the envelope domain when none was checked.
    const spf = r.spfAuth.length > 0
      ? r.spfAuth
      : [{ domain: r.envelopeFrom || r.headerFrom, scope: "mfrom", result: "none" }];
    for (const s of spf) {
      lines.push(
        `      <spf>${element("domain", s.domain)}${element("scope", s.scope)}${
          element("result", SPF_RESULTS.has(s.result) ? s.result : "temperror")
        }</spf>`,
      );
    }
    lines.push("    </auth_results>", "  </record>");
  }
  lines.push("</feedback>", "");
  return lines.join("\n");
}
