/**
 * DMARC aggregate reports in PostgreSQL (RFC 7489 §7.2): the evaluations we record for
 * domains that ask for reports, the claims that make one process send each report, and the
 * reports other receivers send about our domains.
 *
 * Invariants:
 * - The tables stay bounded: evaluations are deleted once reported and after
 *   {@link EVALUATION_DAYS} days; received reports after {@link RECEIVED_DAYS} days.
 * - A report (policy domain, day) is sent by whoever inserts its claim first; the claim is
 *   one statement, so two processes never both win it.
 * - A received report is stored once per (reporter organisation, report id).
 * - The clock is the caller's (`now`), never the database's, so tests can move it.
 *
 * @module
 */

import type { Sql } from "./db.ts";

/** Evaluations older than this many days are deleted unreported. */
export const EVALUATION_DAYS = 30;
/** Received reports older than this many days are deleted. */
export const RECEIVED_DAYS = 180;

/** A DKIM result in a report (RFC 7489 Appendix C DKIMAuthResultType). */
export interface DkimAuth {
  readonly domain: string;
  readonly selector: string;
  readonly result: string;
}

/** An SPF result in a report (RFC 7489 Appendix C SPFAuthResultType). */
export interface SpfAuth {
  readonly domain: string;
  /** "mfrom" or "helo". */
  readonly scope: string;
  readonly result: string;
}

/** The published policy (RFC 7489 Appendix C PolicyPublishedType, without the domain). */
export interface PublishedPolicy {
  readonly p: string;
  readonly sp: string;
  readonly pct: number;
  readonly adkim: string;
  readonly aspf: string;
}

/** One message's DMARC evaluation, as recorded. */
export interface DmarcEvaluation {
  readonly receivedAt: Date;
  readonly headerFrom: string;
  readonly policyDomain: string;
  readonly sourceIp: string;
  readonly policy: PublishedPolicy;
  readonly disposition: "none" | "quarantine" | "reject";
  readonly dkimAligned: "pass" | "fail";
  readonly spfAligned: "pass" | "fail";
  /** RFC 7489 Appendix C PolicyOverrideType, or null. */
  readonly override: string | null;
  readonly dkim: readonly DkimAuth[];
  readonly spf: readonly SpfAuth[];
  /** The rua URIs as published. */
  readonly rua: readonly string[];
}

/** Messages alike in everything a report's record shows (RFC 7489 Appendix C `record`). */
export interface EvaluationGroup {
  readonly sourceIp: string;
  readonly headerFrom: string;
  readonly disposition: "none" | "quarantine" | "reject";
  readonly dkimAligned: "pass" | "fail";
  readonly spfAligned: "pass" | "fail";
  readonly override: string | null;
  readonly dkim: readonly DkimAuth[];
  readonly spf: readonly SpfAuth[];
  /** How many messages. */
  readonly count: number;
}

/** What one report is made of. */
export interface ReportData {
  readonly policy: PublishedPolicy;
  readonly rua: readonly string[];
  readonly groups: readonly EvaluationGroup[];
}

/** The most records one report holds. */
export const MAX_GROUPS = 10_000;

/** A report due: evaluations of one policy domain on one UTC day (YYYY-MM-DD). */
export interface DueReport {
  readonly policyDomain: string;
  readonly day: string;
}

/** A received aggregate report, as parsed. */
export interface ReceivedReport {
  readonly orgName: string;
  readonly email: string;
  readonly reportId: string;
  readonly domain: string;
  readonly begin: Date;
  readonly end: Date;
  readonly policy: Readonly<Record<string, string>>;
  readonly rows: readonly ReceivedRow[];
}

/** One record of a received report. */
export interface ReceivedRow {
  readonly sourceIp: string;
  readonly count: number;
  readonly disposition: string;
  readonly dkim: string;
  readonly spf: string;
  readonly headerFrom: string;
  readonly auth: { readonly dkim: readonly DkimAuth[]; readonly spf: readonly SpfAuth[] };
}

/** A row of {@link DmarcReports.summary}: one source of mail, by reporter. */
export interface SenderSummary {
  readonly domain: string;
  readonly orgName: string;
  readonly sourceIp: string;
  readonly count: number;
  /** Messages whose DMARC passed (an aligned DKIM or SPF pass). */
  readonly dmarcPass: number;
  readonly dkimPass: number;
  readonly spfPass: number;
}

const DAY_MS = 86_400_000;

/** The UTC day of `date` as YYYY-MM-DD. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The DMARC report tables. */
export class DmarcReports {
  constructor(private readonly sql: Sql) {}

  /** Records one evaluation. */
  async record(e: DmarcEvaluation): Promise<void> {
    await this.sql`
      insert into dmarc_evaluations (day, received_at, header_from, policy_domain, source_ip,
        p, sp, pct, adkim, aspf, disposition, dkim_aligned, spf_aligned, override, dkim, spf, rua)
      values (${utcDay(e.receivedAt)}, ${e.receivedAt}, ${e.headerFrom.toLowerCase()},
        ${e.policyDomain.toLowerCase()}, ${e.sourceIp}, ${e.policy.p}, ${e.policy.sp},
        ${e.policy.pct}, ${e.policy.adkim}, ${e.policy.aspf}, ${e.disposition}, ${e.dkimAligned},
        ${e.spfAligned}, ${e.override}, ${this.sql.json(e.dkim as never)},
        ${this.sql.json(e.spf as never)}, ${e.rua as string[]})`;
  }

  /** The (policy domain, day) pairs before `now`'s UTC day that have evaluations. */
  async due(now: Date): Promise<DueReport[]> {
    const rows = await this.sql<{ policy_domain: string; day: string }[]>`
      select distinct policy_domain, to_char(day, 'YYYY-MM-DD') as day from dmarc_evaluations
      where day < ${utcDay(now)}::date order by 2, 1`;
    return rows.map((r) => ({ policyDomain: r.policy_domain, day: r.day }));
  }

  /**
   * Claims a report for this process: true when the claim is ours (no other process has
   * claimed the same policy domain and day), false when it was taken.
   */
  async claim(report: DueReport, reportId: string, now: Date): Promise<boolean> {
    const rows = await this.sql`
      insert into dmarc_report_claims (policy_domain, day, report_id, claimed_at)
      values (${report.policyDomain}, ${report.day}, ${reportId}, ${now})
      on conflict do nothing returning 1`;
    return rows.length === 1;
  }

  /**
   * What a report says: the policy and rua URIs of its newest evaluation, and the evaluations
   * grouped by everything a record of the report shows (RFC 7489 Appendix C `record`), with
   * their counts, in order of first sight; at most {@link MAX_GROUPS} groups. Null without
   * evaluations. Grouped in the database, so a busy domain's day is never all in memory.
   */
  async reportData(report: DueReport): Promise<ReportData | null> {
    const [latest] = await this.sql<
      { p: string; sp: string; pct: number; adkim: string; aspf: string; rua: string[] }[]
    >`
      select p, sp, pct, adkim, aspf, rua from dmarc_evaluations
      where policy_domain = ${report.policyDomain} and day = ${report.day}::date
      order by received_at desc, id desc limit 1`;
    if (latest === undefined) return null;
    const rows = await this.sql<GroupRow[]>`
      select source_ip, header_from, disposition, dkim_aligned, spf_aligned, override, dkim, spf,
        count(*)::int8 as count, min(id) as first
      from dmarc_evaluations
      where policy_domain = ${report.policyDomain} and day = ${report.day}::date
      group by source_ip, header_from, disposition, dkim_aligned, spf_aligned, override, dkim, spf
      order by first limit ${MAX_GROUPS}`;
    const { rua, ...policy } = latest;
    return {
      policy,
      rua,
      groups: rows.map((r) => ({
        sourceIp: r.source_ip,
        headerFrom: r.header_from,
        disposition: r.disposition,
        dkimAligned: r.dkim_aligned,
        spfAligned: r.spf_aligned,
        override: r.override,
        dkim: r.dkim,
        spf: r.spf,
        count: r.count,
      })),
    };
  }

  /** Marks a claimed report sent and deletes its evaluations, in one transaction. */
  async sent(report: DueReport, now: Date): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx`
        update dmarc_report_claims set sent_at = ${now}
        where policy_domain = ${report.policyDomain} and day = ${report.day}::date`;
      await tx`
        delete from dmarc_evaluations
        where policy_domain = ${report.policyDomain} and day = ${report.day}::date`;
    });
  }

  /** Gives a claim back after a failure, so that the next run tries again. */
  async release(report: DueReport): Promise<void> {
    await this.sql`
      delete from dmarc_report_claims
      where policy_domain = ${report.policyDomain} and day = ${report.day}::date
        and sent_at is null`;
  }

  /**
   * Deletes what is too old: evaluations of {@link EVALUATION_DAYS} days ago, claims and
   * received reports of {@link RECEIVED_DAYS} days ago. Returns the evaluations deleted.
   */
  async prune(now: Date): Promise<number> {
    const evaluations = utcDay(new Date(now.getTime() - EVALUATION_DAYS * DAY_MS));
    const received = new Date(now.getTime() - RECEIVED_DAYS * DAY_MS);
    const deleted = await this.sql`
      delete from dmarc_evaluations where day < ${evaluations}::date returning 1`;
    await this.sql`delete from dmarc_report_claims where claimed_at < ${received}`;
    await this.sql`delete from dmarc_received_reports where date_end < ${received}`;
    return deleted.length;
  }

  /**
   * Stores a received report with its rows, once per (org name, report id). Returns false
   * when the report was already stored.
   */
  async store(report: ReceivedReport, now: Date): Promise<boolean> {
    return await this.sql.begin(async (tx) => {
      const [row] = await tx<{ id: number }[]>`
        insert into dmarc_received_reports (org_name, report_id, email, domain, date_begin,
          date_end, policy, received_at)
        values (${report.orgName}, ${report.reportId}, ${report.email},
          ${report.domain.toLowerCase()}, ${report.begin}, ${report.end},
          ${tx.json(report.policy as never)}, ${now})
        on conflict (org_name, report_id) do nothing returning id`;
      if (row === undefined) return false;
      for (const r of report.rows) {
        await tx`
          insert into dmarc_received_rows (report, source_ip, count, disposition, dkim, spf,
            header_from, auth)
          values (${row.id}, ${r.sourceIp}, ${r.count}, ${r.disposition}, ${r.dkim}, ${r.spf},
            ${r.headerFrom}, ${tx.json(r.auth as never)})`;
      }
      return true;
    });
  }

  /**
   * Who sends as our domains, by reporter: one row per (domain, reporter, source IP) over the
   * reports whose range ends after `since`, most messages first.
   */
  async summary(domain: string | null, since: Date): Promise<SenderSummary[]> {
    const rows = await this.sql<
      {
        domain: string;
        org_name: string;
        source_ip: string;
        count: number;
        dmarc_pass: number;
        dkim_pass: number;
        spf_pass: number;
      }[]
    >`
      select r.domain, r.org_name, w.source_ip, sum(w.count)::int8 as count,
        sum(case when w.dkim = 'pass' or w.spf = 'pass' then w.count else 0 end)::int8
          as dmarc_pass,
        sum(case when w.dkim = 'pass' then w.count else 0 end)::int8 as dkim_pass,
        sum(case when w.spf = 'pass' then w.count else 0 end)::int8 as spf_pass
      from dmarc_received_reports r join dmarc_received_rows w on w.report = r.id
      where r.date_end >= ${since}
        and (${domain === null} or r.domain = ${(domain ?? "").toLowerCase()})
      group by r.domain, r.org_name, w.source_ip
      order by r.domain, count desc, r.org_name, w.source_ip`;
    return rows.map((r) => ({
      domain: r.domain,
      orgName: r.org_name,
      sourceIp: r.source_ip,
      count: r.count,
      dmarcPass: r.dmarc_pass,
      dkimPass: r.dkim_pass,
      spfPass: r.spf_pass,
    }));
  }
}

interface GroupRow {
  source_ip: string;
  header_from: string;
  disposition: "none" | "quarantine" | "reject";
  dkim_aligned: "pass" | "fail";
  spf_aligned: "pass" | "fail";
  override: string | null;
  dkim: DkimAuth[];
  spf: SpfAuth[];
  count: number;
}
