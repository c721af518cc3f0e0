/**
 * Telling a sender that recipients failed: a delivery status notification (RFC 3464, built by
 * src/delivery/dsn.ts) delivered like any other mail, from the null reverse-path so that it
 * can never cause a bounce of its own (RFC 5321 §4.5.5). A local sender gets it in their
 * INBOX; a remote one (a forward) through the queue.
 *
 * Invariants:
 * - Only recipients whose NOTIFY asks for it (RFC 3461 §4.1; failures by default) are
 *   reported, and never to the null sender.
 * - A recipient that ran out of retries is reported with status 4.4.7 (RFC 3463: delivery
 *   time expired) and its last reply as the diagnostic, as Postfix does.
 * - A failure no server replied to (a null MX, a domain without mail hosts) carries our own
 *   reply's enhanced code as its Status (556 5.1.10 → 5.1.10), there being no diagnostic to
 *   take it from.
 *
 * @module
 */

import { buildDsn, type DsnRecipient, wantsDsn } from "../delivery/dsn.ts";
import type { Delivery, Recipients } from "../delivery/mod.ts";
import type { Logger } from "../ops/log.ts";
import type { QueueEntry } from "../store/mod.ts";
import { parseAddress } from "../util/address.ts";
import type { DelayedRecipient, FailedRecipient } from "./worker.ts";

/** What reports need. */
export interface ReportDeps {
  /** Our host name: Reporting-MTA and MAILER-DAEMON's domain. */
  readonly hostname: string;
  readonly recipients: Pick<Recipients, "resolve">;
  readonly delivery: Pick<Delivery, "accept">;
  readonly log: Logger;
}

/** The worker's `onFailed`: builds and delivers the DSN for the recipients that want one. */
export function failureReporter(
  deps: ReportDeps,
): (entry: QueueEntry, failed: readonly FailedRecipient[]) => Promise<void> {
  return async (entry, failed) => {
    const reported = failed.filter((f) => wantsDsn(entry.sender, f.recipient.notify, "failure"));
    if (reported.length === 0) return;
    const now = new Date();
    await report(
      deps,
      entry,
      now,
      reported.map(({ recipient, outcome }) => ({
        address: recipient.address,
        action: "failed",
        status: statusOf(outcome),
        remoteHost: outcome.remoteHost,
        diagnostic: outcome.remoteHost === null ? null : outcome.reply,
        explanation: outcome.remoteHost === null ? outcome.reply : null,
        orcpt: recipient.orcpt,
        lastAttemptAt: now,
      })),
    );
    deps.log.info("failure report sent", { queue: entry.id, recipients: reported.length });
  };
}

/**
 * The worker's `onDelayed`: a warning that recipients are still being retried (RFC 3464
 * action "delayed", with Will-Retry-Until), for those whose NOTIFY asks for it or who gave
 * none (RFC 3461 §4.1: delay notices are the MTA's choice then; Fumi sends one). It returns
 * nothing: the caller records the recipients as told either way, so each is warned once.
 */
export function delayReporter(
  deps: ReportDeps,
): (entry: QueueEntry, delayed: readonly DelayedRecipient[]) => Promise<void> {
  return async (entry, delayed) => {
    const reported = delayed.filter((d) => wantsDsn(entry.sender, d.recipient.notify, "delay"));
    if (reported.length === 0) return;
    const now = new Date();
    await report(
      deps,
      entry,
      now,
      reported.map(({ recipient, outcome, retryUntil }) => ({
        address: recipient.address,
        action: "delayed",
        remoteHost: outcome.remoteHost,
        diagnostic: outcome.remoteHost === null ? null : outcome.reply,
        explanation: outcome.remoteHost === null ? outcome.reply : null,
        orcpt: recipient.orcpt,
        lastAttemptAt: now,
        willRetryUntil: retryUntil,
      })),
    );
    deps.log.info("delay report sent", { queue: entry.id, recipients: reported.length });
  };
}

/** Builds the DSN and delivers it to the sender from <>. */
async function report(
  deps: ReportDeps,
  entry: QueueEntry,
  now: Date,
  recipients: DsnRecipient[],
): Promise<void> {
  const dsn = buildDsn({
    hostname: deps.hostname,
    sender: entry.sender,
    envid: entry.envid,
    // RFC 8689 §5: a report on a REQUIRETLS message must not carry its content where the
    // message itself could not go: only its header section is returned.
    ret: entry.requireTls === true ? "HDRS" : entry.ret,
    arrivalDate: entry.createdAt,
    message: entry.message,
    recipients,
    now,
  });
  const to = parseAddress(entry.sender);
  const resolution = await deps.recipients.resolve(to);
  if (resolution.kind === "unknown") {
    deps.log.warn("report dropped: the sender is unknown here", { queue: entry.id });
    return;
  }
  await deps.delivery.accept({
    raw: dsn,
    sender: null,
    recipients: [{ address: to, resolution, notify: "NEVER", orcpt: null }],
    quarantine: null,
    account: null,
    envid: null,
    ret: null,
    // RFC 8689 §5: the report travels under REQUIRETLS too, when it must be relayed.
    requireTls: entry.requireTls === true,
  });
}

/** An enhanced status code in a reply line ("556 5.1.10 …" → "5.1.10"); RFC 3463 §2. */
const ENHANCED = /^[245]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})(?:[ ]|$)/;

/** The Status of a failed recipient, or null to let the DSN take it from the diagnostic. */
function statusOf(outcome: FailedRecipient["outcome"]): string | null {
  // RFC 3463 §3.5: X.4.7, the message waited too long.
  if (outcome.outcome === "temporary") return "4.4.7";
  if (outcome.remoteHost !== null) return null;
  const enhanced = ENHANCED.exec(outcome.reply)?.[1] ?? null;
  // RFC 3463 §2: the class agrees with the reply code's.
  return enhanced !== null && enhanced[0] === outcome.reply[0] ? enhanced : null;
}
