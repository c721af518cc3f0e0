/**
 * The outbound queue's worker: leases due recipients, delivers each message to each of its
 * recipient domains (attempt.ts), records what happened and schedules retries (schedule.ts).
 *
 * Invariants:
 * - Bounded: at most `connections` attempts run at once, at most `connectionsPerDomain` to one
 *   domain; recipients leased beyond that are handed back at once for a later round.
 * - Several workers share one database (other Fumi processes): a recipient is leased by one
 *   at a time (store/queue.ts QueueWork), and the lease outlives any attempt's timeouts.
 * - Every attempt ends in a record: delivered, deferred to the schedule's next time, or failed
 *   (a 5xx, or the schedule's end). Failures are handed to `onFailed` (the DSN to the sender)
 *   and then marked reported, so a sender is told once; finished messages are deleted.
 * - Idle between rounds: it sleeps until the next recipient is due (at most POLL_MS), or
 *   until {@link OutboundWorker.wake} (a message was queued in this process).
 *
 * @module
 */

import type { Logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import type { OutboundMessage } from "../smtp/client/mod.ts";
import type { AttemptRecord, ClaimedRecipient, QueueEntry, QueueWork } from "../store/mod.ts";
import { type AttemptDeps, type AttemptOutcome, deliverToDomain, domainOf } from "./attempt.ts";
import { nextAttempt, type RetrySchedule } from "./schedule.ts";
import { SessionPool } from "./session_pool.ts";
import { deliverViaSmarthost, type Smarthost } from "./smarthost.ts";

/** A recipient that failed for good, for the sender's report. */
export interface FailedRecipient {
  readonly recipient: ClaimedRecipient;
  readonly outcome: AttemptOutcome;
}

/** A recipient still being retried after `delayWarningAfter`, for the sender's warning. */
export interface DelayedRecipient {
  readonly recipient: ClaimedRecipient;
  readonly outcome: AttemptOutcome;
  /** When the schedule gives up (RFC 3464 §2.3.9 Will-Retry-Until). */
  readonly retryUntil: Date;
}

/** What the worker needs. */
export interface WorkerDeps extends AttemptDeps {
  readonly work: QueueWork;
  readonly schedule: RetrySchedule;
  readonly connections: number;
  readonly connectionsPerDomain: number;
  /** Relay everything through this host instead of MX delivery; null: none. */
  readonly smarthost?: Smarthost | null;
  /** Tells the sender of `entry` that these recipients failed (a DSN); may do nothing. */
  onFailed(entry: QueueEntry, failed: readonly FailedRecipient[]): Promise<void>;
  /** Warns the sender that these recipients are still being retried; absent: never. */
  onDelayed?(entry: QueueEntry, delayed: readonly DelayedRecipient[]): Promise<void>;
  /** How long a recipient may wait before its sender is warned (ms; 0: never). */
  readonly delayWarningAfter?: number;
  readonly log: Logger;
  /** Counts attempts by result (src/ops/metrics.ts); none when absent. */
  readonly metrics?: Metrics;
}

/** Longest sleep between looks at the queue. */
const POLL_MS = 5_000;
/**
 * A lease: longer than an attempt takes. RFC 5321's timeouts are per stage, and a large
 * message to a slow server may take long; two hours leaves room, and a crashed worker's
 * recipients wait that long at most.
 */
const LEASE_MS = 2 * 3_600_000;
/** Recipients leased per look, per free connection. */
const CLAIM_PER_SLOT = 10;

/** The worker; see the module documentation. */
export class OutboundWorker {
  readonly #deps: WorkerDeps;
  /** Sessions kept between messages to the same host (session_pool.ts). */
  readonly #sessions = new SessionPool();
  readonly #running = new Set<Promise<void>>();
  readonly #perDomain = new Map<string, number>();
  #stopped = false;
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;

  constructor(deps: WorkerDeps) {
    this.#deps = deps;
  }

  /** Starts working the queue. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Looks at the queue now (a message was just queued). */
  wake(): void {
    this.#wake?.();
  }

  /** Stops taking work and waits for the attempts under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.wake();
    await this.#loop;
    await Promise.all(this.#running);
    await this.#sessions.close();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#round();
      } catch (error) {
        this.#deps.log.error("outbound queue round failed", { error });
      }
      if (this.#stopped) break;
      await this.#sleep();
    }
  }

  async #sleep(): Promise<void> {
    let wait = POLL_MS;
    if (this.#running.size < this.#deps.connections) {
      const due = await this.#deps.work.nextDue().catch(() => null);
      if (due !== null) wait = Math.max(0, Math.min(POLL_MS, due.getTime() - Date.now()));
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, wait);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
    this.#wake = null;
  }

  async #round(): Promise<void> {
    const free = this.#deps.connections - this.#running.size;
    if (free <= 0) return;
    const claimed = await this.#deps.work.claim(free * CLAIM_PER_SLOT, LEASE_MS);
    if (claimed.length === 0) {
      await this.#deps.work.removeFinished();
      return;
    }
    const groups = new Map<string, ClaimedRecipient[]>();
    for (const r of claimed) {
      const key = `${r.queueMessageId} ${domainOf(r.address)}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    const later: number[] = [];
    for (const [key, recipients] of groups) {
      const domain = key.slice(key.indexOf(" ") + 1);
      const busy = this.#perDomain.get(domain) ?? 0;
      if (this.#running.size >= this.#deps.connections || busy >= this.#deps.connectionsPerDomain) {
        later.push(...recipients.map((r) => r.id));
        continue;
      }
      this.#perDomain.set(domain, busy + 1);
      const attempt = this.#attempt(domain, recipients).finally(() => {
        this.#running.delete(attempt);
        const left = (this.#perDomain.get(domain) ?? 1) - 1;
        if (left === 0) this.#perDomain.delete(domain);
        else this.#perDomain.set(domain, left);
        this.wake();
      });
      this.#running.add(attempt);
    }
    await this.#deps.work.release(later);
  }

  async #attempt(domain: string, recipients: ClaimedRecipient[]): Promise<void> {
    const { work, schedule, log } = this.#deps;
    try {
      const entry = await work.read(recipients[0]!.queueMessageId);
      const transaction = outboundMessage(entry, recipients);
      const smarthost = this.#deps.smarthost ?? null;
      const outcomes = smarthost === null
        ? await deliverToDomain({ ...this.#deps, sessions: this.#sessions }, domain, transaction)
        : await deliverViaSmarthost(this.#deps, smarthost, transaction);
      const now = new Date();
      const failed: FailedRecipient[] = [];
      const delayed: DelayedRecipient[] = [];
      const records: [number, AttemptRecord][] = [];
      for (const [i, outcome] of outcomes.entries()) {
        const recipient = recipients[i]!;
        const remoteHost = outcome.remoteHost;
        const to = recipient.address;
        if (outcome.outcome === "delivered") {
          records.push([recipient.id, { kind: "delivered", remoteHost, reply: outcome.reply }]);
          log.info("delivered", { queue: entry.id, to, host: remoteHost });
          this.#deps.metrics?.deliveryAttempt("delivered");
          continue;
        }
        const next = outcome.outcome === "temporary"
          ? nextAttempt(schedule, recipient.attempts + 1, recipient.queuedAt, now)
          : null;
        if (next !== null) {
          const error = outcome.reply;
          records.push([recipient.id, {
            kind: "deferred",
            remoteHost,
            error,
            nextAttemptAt: next,
          }]);
          log.info("deferred", { queue: entry.id, to, reply: outcome.reply });
          this.#deps.metrics?.deliveryAttempt("deferred");
          const warnAfter = this.#deps.delayWarningAfter ?? 0;
          if (
            warnAfter > 0 && recipient.delayNotifiedAt === null &&
            now.getTime() - recipient.queuedAt.getTime() >= warnAfter
          ) {
            const retryUntil = new Date(recipient.queuedAt.getTime() + schedule.giveUpAfter);
            delayed.push({ recipient, outcome, retryUntil });
          }
          continue;
        }
        records.push([recipient.id, { kind: "failed", remoteHost, error: outcome.reply }]);
        log.warn("failed", { queue: entry.id, to, reply: outcome.reply });
        this.#deps.metrics?.deliveryAttempt("failed");
        failed.push({ recipient, outcome });
      }
      // All of the attempt at once: a database error cannot leave some recipients recorded
      // and the others leased, to be sent again.
      await work.recordAll(records);
      // Each report on its own: a delay warning that fails does not hold up a failure report.
      // A report that fails leaves its recipients unreported (fumi queue list shows them).
      if (delayed.length > 0 && this.#deps.onDelayed) {
        const onDelayed = this.#deps.onDelayed;
        if (await this.#report("delay", entry, () => onDelayed(entry, delayed))) {
          await work.delayNotified(delayed.map((d) => d.recipient.id));
        }
      }
      if (failed.length > 0) {
        if (await this.#report("failure", entry, () => this.#deps.onFailed(entry, failed))) {
          await work.failureNotified(failed.map((f) => f.recipient.id));
        }
      }
    } catch (error) {
      // The recipients stay leased until the lease ends, then are taken again.
      log.error("outbound attempt failed", { error, domain });
    }
  }

  /** Runs a report; false (logged) when it failed. */
  async #report(kind: string, entry: QueueEntry, send: () => Promise<void>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (error) {
      this.#deps.log.error(`cannot send a ${kind} report`, { error, queue: entry.id });
      return false;
    }
  }
}

// deno-lint-ignore no-control-regex -- the range is all of ASCII, controls included
const NON_ASCII = /[^\x00-\x7f]/;

/** The transaction for these recipients of a queued message. */
function outboundMessage(
  entry: QueueEntry,
  recipients: readonly ClaimedRecipient[],
): OutboundMessage {
  const headerEnd = indexOfHeaderEnd(entry.message);
  const header = new TextDecoder().decode(entry.message.subarray(0, headerEnd));
  return {
    sender: entry.sender,
    recipients: recipients.map((r) => ({ address: r.address, notify: r.notify, orcpt: r.orcpt })),
    envid: entry.envid,
    ret: entry.ret,
    requireTls: entry.requireTls,
    content: entry.message,
    // RFC 6531 §3.2: UTF-8 in the envelope or the header section needs SMTPUTF8.
    smtputf8: NON_ASCII.test(entry.sender) || recipients.some((r) => NON_ASCII.test(r.address)) ||
      NON_ASCII.test(header),
  };
}

/** Where the header section ends (the empty line), or the message's length. */
function indexOfHeaderEnd(message: Uint8Array): number {
  for (let i = 0; i + 3 < message.length; i++) {
    if (
      message[i] === 13 && message[i + 1] === 10 && message[i + 2] === 13 && message[i + 3] === 10
    ) {
      return i;
    }
  }
  return message.length;
}
