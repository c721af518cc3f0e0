/**
 * DMARC aggregate reports (RFC 7489 §7.2, Appendix C), both ways:
 *
 * - Sending: every message received on the MX whose From domain publishes `rua=` is recorded
 *   (record.ts, called by the mail-authentication check); once a day, per policy domain, the
 *   day's evaluations become one XML report (xml.ts), gzip-compressed and mailed to each
 *   `mailto:` destination through Delivery (send.ts): queued, DKIM-signed, retried.
 * - Receiving: reports in messages delivered to our mailboxes are read (parse.ts) and stored
 *   when they are about a domain we host (receive.ts); `fumi dmarc reports` shows them.
 *
 * Invariants and security model:
 * - Each report (policy domain, UTC day) is sent once, by the process that claims it in the
 *   database first; its evaluations are deleted once it is sent, all after 30 days.
 * - A destination outside the policy domain's Organizational Domain gets reports only after
 *   agreeing in DNS (§7.1); a `!size` limit is honoured; only `mailto:` URIs are used.
 * - No reports about reports: a message whose Subject says it is an aggregate report is not
 *   recorded, and our own reports never pass the MX checks.
 * - Reading a received report is bounded (attachment size, 10 MiB of XML after decompression,
 *   records, string lengths), refuses any DOCTYPE (no entity expansion), and happens after
 *   delivery in the background: a bad report never fails or delays mail.
 *
 * @module
 */

export { type ReceivedReport } from "../store/dmarc_reports.ts";
export {
  inflate,
  MAX_COMPRESSED_SIZE,
  MAX_XML_SIZE,
  parseAggregateReport,
  reportFiles,
  reportsInMessage,
  reportXml,
  unzip,
} from "./parse.ts";
export {
  mailtoDestinations,
  type ReportDestination,
  type ReportingPolicy,
  reportingPolicy,
  verifyDestination,
} from "./policy.ts";
export { DmarcReceiver, type ReceiverDeps } from "./receive.ts";
export {
  dmarcRecorder,
  type Evaluated,
  evaluationsOf,
  isAggregateReport,
  type RecorderDeps,
} from "./record.ts";
export {
  gzip,
  reportFilename,
  type ReportJobDeps,
  reportMessage,
  type ReportOutcome,
  type ReportSchedule,
  sendReports,
  startReports,
} from "./send.ts";
export {
  aggregateReportXml,
  escapeXml,
  groupEvaluations,
  groupRecords,
  type ReportMetadata,
  type ReportRecord,
} from "./xml.ts";
