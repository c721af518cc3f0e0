/**
 * Sending aggregate reports (RFC 7489 §7.2): for each policy domain and each finished UTC day
 * with recorded evaluations, the report's XML (xml.ts), gzip-compressed, attached to a message
 * from our reporting address to each `mailto:` rua destination, through the normal outbound
 * path (Delivery.accept: queued, DKIM-signed when our domain has keys, retried).
 *
 * Invariants:
 * - Each (policy domain, day) is reported once: a claim in the database is taken before
 *   sending, so several Fumi processes on one database never send the same report twice.
 * - A destination outside the policy domain's Organizational Domain gets reports only when it
 *   agreed with a `_report._dmarc` record (§7.1); one whose `!size` limit the message exceeds
 *   gets none (§6.2).
 * - Reports are about mail received on the MX only, and a received report is never recorded
 *   (record.ts): reports do not cause reports about reports.
 *
 * @module
 */

import type { Delivery, Recipients } from "../delivery/mod.ts";
import { formatDate } from "../delivery/mod.ts";
import type { Resolver } from "../dns/mod.ts";
import type { Logger } from "../ops/log.ts";
import type { DmarcReports, DueReport } from "../store/dmarc_reports.ts";
import { parseAddress } from "../util/address.ts";
import { mailtoDestinations, verifyDestination } from "./policy.ts";
import { aggregateReportXml } from "./xml.ts";

/** What the report job needs. */
export interface ReportJobDeps {
  readonly reports: Pick<
    DmarcReports,
    "due" | "claim" | "reportData" | "sent" | "release" | "prune"
  >;
  readonly delivery: Pick<Delivery, "accept">;
  readonly recipients: Pick<Recipients, "resolve">;
  readonly resolver: Resolver;
  /** Our host name: the report's org_name and Submitter. */
  readonly hostname: string;
  /** The From address of reports (`[dmarc] report_address`). */
  readonly reportAddress: string;
  readonly log: Logger;
}

/** What happened to one report. */
export interface ReportOutcome {
  readonly policyDomain: string;
  readonly day: string;
  readonly reportId: string;
  /** Destinations the report was handed to delivery for. */
  readonly sent: readonly string[];
  /** Destinations left out, with why. */
  readonly skipped: readonly { readonly address: string; readonly reason: string }[];
}

const DAY_S = 86_400;

/** RFC 7489 §7.2.1.1 filename: `receiver "!" policy-domain "!" begin "!" end ".xml.gz"`. */
export function reportFilename(
  receiver: string,
  policyDomain: string,
  begin: number,
  end: number,
): string {
  return `${receiver}!${policyDomain}!${begin}!${end}.xml.gz`;
}

/** The report's gzip-compressed bytes (RFC 1952, by the platform's CompressionStream). */
export async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Base64 in lines of 76 characters (RFC 2045 §6.8). */
function base64Lines(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return (btoa(binary).match(/.{1,76}/g) ?? []).join("\r\n");
}

/** What a report message is made of. */
export interface ReportMessageInput {
  readonly from: string;
  readonly to: string;
  readonly hostname: string;
  readonly policyDomain: string;
  readonly reportId: string;
  readonly filename: string;
  readonly gz: Uint8Array;
  readonly now: Date;
}

/** The report message (RFC 7489 §7.2.1.1): Subject, a short text part, the gzip attachment. */
export function reportMessage(input: ReportMessageInput): Uint8Array {
  const boundary = `=_dmarc_${crypto.randomUUID()}`;
  const text = [
    `This is a DMARC aggregate report from ${input.hostname} for ${input.policyDomain}`,
    `(RFC 7489 section 7.2), report ID ${input.reportId}.`,
  ];
  const message = [
    `From: ${input.from}`,
    `To: ${input.to}`,
    // §7.2.1.1: "Report Domain:" the policy domain, "Submitter:" us, "Report-ID:" the id.
    `Subject: Report Domain: ${input.policyDomain} Submitter: ${input.hostname}`,
    ` Report-ID: <${input.reportId}>`,
    `Date: ${formatDate(input.now)}`,
    `Message-ID: <${crypto.randomUUID()}@${input.hostname}>`,
    // RFC 3834 §5: sent by software, no auto-replies wanted.
    "Auto-Submitted: auto-generated",
    "MIME-Version: 1.0",
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=us-ascii",
    "Content-Transfer-Encoding: 7bit",
    "",
    ...text,
    "",
    `--${boundary}`,
    `Content-Type: application/gzip; name="${input.filename}"`,
    "Content-Transfer-Encoding: base64",
    `Content-Disposition: attachment; filename="${input.filename}"`,
    "",
    base64Lines(input.gz),
    "",
    `--${boundary}--`,
    "",
  ].join("\r\n");
  return new TextEncoder().encode(message);
}

/** The report ID of a policy domain's day: stable, so a retried report keeps its ID. */
export function reportId(report: DueReport, hostname: string): string {
  return `${report.day.replaceAll("-", "")}.${report.policyDomain}@${hostname}`;
}

/**
 * Sends every report due at `now` that no other process has claimed, and prunes old rows.
 * Never throws for one report: a failure is logged and the claim given back for the next run.
 */
export async function sendReports(deps: ReportJobDeps, now: Date): Promise<ReportOutcome[]> {
  const pruned = await deps.reports.prune(now);
  if (pruned > 0) deps.log.info("old DMARC evaluations deleted", { count: pruned });
  const outcomes: ReportOutcome[] = [];
  for (const due of await deps.reports.due(now)) {
    const id = reportId(due, deps.hostname);
    if (!(await deps.reports.claim(due, id, now))) continue; // another process has it
    try {
      outcomes.push(await sendOne(deps, due, id, now));
      await deps.reports.sent(due, now);
    } catch (error) {
      deps.log.error("cannot send a DMARC report", { domain: due.policyDomain, error });
      await deps.reports.release(due);
    }
  }
  return outcomes;
}

async function sendOne(
  deps: ReportJobDeps,
  due: DueReport,
  id: string,
  now: Date,
): Promise<ReportOutcome> {
  const data = await deps.reports.reportData(due);
  const groups = data?.groups ?? [];
  const begin = Date.parse(`${due.day}T00:00:00Z`) / 1000;
  const end = begin + DAY_S - 1;
  const xml = aggregateReportXml(
    { orgName: deps.hostname, email: deps.reportAddress, reportId: id, begin, end },
    due.policyDomain,
    data?.policy ?? { p: "none", sp: "none", pct: 100, adkim: "r", aspf: "r" },
    groups,
  );
  const gz = await gzip(xml);
  const filename = reportFilename(deps.hostname, due.policyDomain, begin, end);
  const sent: string[] = [];
  const skipped: { address: string; reason: string }[] = [];
  const destinations = mailtoDestinations(data?.rua ?? []);
  for (const destination of destinations) {
    const skip = (reason: string) => {
      skipped.push({ address: destination.address, reason });
      deps.log.info("DMARC report not sent", {
        domain: due.policyDomain,
        to: destination.address,
        reason,
      });
    };
    // RFC 7489 §7.1: an outside destination must have agreed to take this domain's reports.
    const verification = await verifyDestination(deps.resolver, due.policyDomain, destination);
    if (verification === "unverified" || verification === "temperror") {
      skip(`external destination ${verification}`);
      continue;
    }
    const raw = reportMessage({
      from: deps.reportAddress,
      to: destination.address,
      hostname: deps.hostname,
      policyDomain: due.policyDomain,
      reportId: id,
      filename,
      gz,
      now,
    });
    // RFC 7489 §6.2: a destination's size limit is not exceeded.
    if (destination.maxSize !== null && raw.length > destination.maxSize) {
      skip(`report of ${raw.length} octets is larger than the limit of ${destination.maxSize}`);
      continue;
    }
    let to;
    try {
      to = parseAddress(destination.address);
    } catch {
      skip("not a usable address");
      continue;
    }
    const resolution = await deps.recipients.resolve(to);
    if (resolution.kind === "unknown") {
      skip("no such local recipient");
      continue;
    }
    await deps.delivery.accept({
      raw,
      sender: parseAddress(deps.reportAddress),
      recipients: [{ address: to, resolution, notify: null, orcpt: null }],
      quarantine: null,
      account: null,
      envid: null,
      ret: null,
      sign: true,
    });
    sent.push(destination.address);
  }
  deps.log.info("DMARC report done", {
    domain: due.policyDomain,
    day: due.day,
    messages: groups.reduce((sum, g) => sum + g.count, 0),
    sent: sent.length,
    skipped: skipped.length,
  });
  return { policyDomain: due.policyDomain, day: due.day, reportId: id, sent, skipped };
}

/** How often the job looks for reports due. */
export const REPORT_INTERVAL_MS = 3600_000;

/** A running report schedule. */
export interface ReportSchedule {
  stop(): Promise<void>;
}

/**
 * Runs {@link sendReports} now and then every `intervalMs`: each finished day is reported in
 * the first run after midnight UTC.
 */
export function startReports(
  deps: ReportJobDeps,
  options: { readonly intervalMs?: number; readonly now?: () => Date } = {},
): ReportSchedule {
  const now = options.now ?? (() => new Date());
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const run = () => {
    if (stopped) return;
    running = sendReports(deps, now()).catch((error) =>
      deps.log.error("DMARC report run failed", { error })
    );
  };
  const first = setTimeout(run, 60_000);
  const timer = setInterval(run, options.intervalMs ?? REPORT_INTERVAL_MS);
  return {
    async stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
