/**
 * The outbound queue: messages waiting for delivery to remote recipients.
 *
 * Invariants:
 * - A queued message is written inside the caller's transaction ({@link Queue.insert}), so it
 *   commits together with the local copies of the same message, or not at all.
 * - The message bytes are sealed with the system's data key, bound to their row and column, and
 *   sealed in {@link Queue.prepare} before any transaction starts: no lock is held while
 *   encrypting. The system key, not the submitter's, because the queue outlives accounts (a
 *   deleted submitter's mail is still delivered or bounced).
 * - The envelope (sender, recipients, DSN parameters) stays in clear text: the worker schedules
 *   by it.
 *
 * @module
 */

import type { Placement } from "../crypto/envelope.ts";
import { InvalidInputError, NotFoundError } from "../util/errors.ts";
import type { Sql, TxSql } from "./db.ts";
import type { Vault } from "./vault.ts";

/** RFC 3461 §4.3 RET: what a DSN returns of the message. */
export type DsnReturn = "FULL" | "HDRS";

/** Where a queued recipient stands. */
export type QueueStatus = "queued" | "delivered" | "failed";

/** A recipient to queue. */
export interface NewQueueRecipient {
  readonly address: string;
  /** RFC 3461 §4.1 NOTIFY: "NEVER" or a comma-separated list; null when not given. */
  readonly notify: string | null;
  /** RFC 3461 §4.2 ORCPT as "addr-type;address" (decoded); null when not given. */
  readonly orcpt: string | null;
}

/** A message to queue. */
export interface NewQueueEntry {
  /** The submitting account, or null (an alias forward of inbound mail). */
  readonly accountId: number | null;
  /** The reverse-path; "" for the null path `<>`. */
  readonly sender: string;
  readonly envid: string | null;
  readonly ret: DsnReturn | null;
  /**
   * RFC 8689: true, REQUIRETLS (verified TLS to a host that offers REQUIRETLS, or no
   * delivery); false, `TLS-Required: No` (the domain's MTA-STS and DANE are waived); null or
   * absent, the domain's policies decide.
   */
  readonly requireTls?: boolean | null;
  readonly message: Uint8Array;
  readonly recipients: readonly NewQueueRecipient[];
}

/** An entry whose id is drawn and whose message is sealed, ready for {@link Queue.insert}. */
export interface PreparedQueueEntry {
  readonly id: number;
  readonly entry: NewQueueEntry;
  readonly sealed: Uint8Array;
}

/** A queued recipient and its delivery state. */
export interface QueueRecipient {
  readonly id: number;
  readonly address: string;
  readonly notify: string | null;
  readonly orcpt: string | null;
  readonly status: QueueStatus;
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly lastError: string | null;
}

/** A queued message without its bytes. */
export interface QueueSummary {
  readonly id: number;
  readonly accountId: number | null;
  readonly sender: string;
  readonly envid: string | null;
  readonly ret: DsnReturn | null;
  /** RFC 8689, as {@link NewQueueEntry.requireTls}. */
  readonly requireTls: boolean | null;
  readonly size: number;
  readonly createdAt: Date;
  readonly recipients: readonly QueueRecipient[];
}

/** A queued message with its bytes, decrypted. */
export interface QueueEntry extends QueueSummary {
  readonly message: Uint8Array;
}

interface MessageRow {
  id: number;
  account_id: number | null;
  sender: string;
  envid: string | null;
  ret: DsnReturn | null;
  require_tls: boolean | null;
  size: number;
  created_at: Date;
}

/** A row of queue_recipients as the queue reads it (queue_admin.ts reads more columns). */
export interface RecipientRow {
  id: number;
  queue_message_id: number;
  address: string;
  notify: string | null;
  orcpt: string | null;
  status: QueueStatus;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
}

/** The outbound queue's tables. */
export class Queue {
  constructor(private readonly sql: Sql, private readonly vault: Vault) {}

  /** Draws the entry's id and seals its message; call before the transaction that inserts it. */
  async prepare(entry: NewQueueEntry): Promise<PreparedQueueEntry> {
    if (entry.recipients.length === 0) {
      throw new InvalidInputError("A queued message needs at least one recipient");
    }
    const [row] = await this.sql<{ id: number }[]>`
      select nextval(pg_get_serial_sequence('queue_messages', 'id')) as id`;
    const id = row!.id;
    const sealed = await this.vault.seal(null, entry.message, placement(id));
    return { id, entry, sealed };
  }

  /** Writes a prepared entry inside the caller's transaction; returns its id. */
  async insert(tx: TxSql, prepared: PreparedQueueEntry): Promise<number> {
    const { id, entry, sealed } = prepared;
    await tx`insert into queue_messages ${
      tx({
        id,
        account_id: entry.accountId,
        sender: entry.sender,
        envid: entry.envid,
        ret: entry.ret,
        require_tls: entry.requireTls ?? null,
        size: entry.message.length,
        message: sealed,
      })
    }`;
    await tx`insert into queue_recipients ${
      tx(entry.recipients.map((r) => ({
        queue_message_id: id,
        address: r.address,
        notify: r.notify,
        orcpt: r.orcpt,
      })))
    }`;
    return id;
  }

  /** One queued message with its recipients and its bytes; NotFoundError when absent. */
  async read(id: number): Promise<QueueEntry> {
    const [row] = await this.sql<(MessageRow & { message: Uint8Array })[]>`
      select id, account_id, sender, envid, ret, require_tls, size, created_at, message
      from queue_messages where id = ${id}`;
    if (!row) throw new NotFoundError(`No queued message ${id}`);
    const recipients = await this.sql<RecipientRow[]>`
      select id, queue_message_id, address, notify, orcpt, status, attempts, next_attempt_at,
             last_error
      from queue_recipients where queue_message_id = ${id} order by id`;
    const message = await this.vault.open(row.message, placement(id));
    return { ...toSummary(row, recipients), message };
  }

  /** Every queued message (oldest first), without bytes. */
  async list(): Promise<QueueSummary[]> {
    const rows = await this.sql<MessageRow[]>`
      select id, account_id, sender, envid, ret, require_tls, size, created_at
      from queue_messages order by id`;
    const recipients = await this.sql<RecipientRow[]>`
      select id, queue_message_id, address, notify, orcpt, status, attempts, next_attempt_at,
             last_error
      from queue_recipients order by queue_message_id, id`;
    const byMessage = new Map<number, RecipientRow[]>();
    for (const r of recipients) {
      const list = byMessage.get(r.queue_message_id) ?? [];
      list.push(r);
      byMessage.set(r.queue_message_id, list);
    }
    return rows.map((row) => toSummary(row, byMessage.get(row.id) ?? []));
  }
}

/** Records an attempt for recipients and ends their lease (in `sql`'s transaction, if any). */
async function recordIn(
  sql: Sql | TxSql,
  recipientIds: readonly number[],
  attempt: AttemptRecord,
): Promise<void> {
  const ids = recipientIds as number[];
  const status = attempt.kind === "deferred" ? "queued" : attempt.kind;
  const error = attempt.kind === "delivered" ? attempt.reply : attempt.error;
  const next = attempt.kind === "deferred" ? attempt.nextAttemptAt : null;
  await sql`
    update queue_recipients set
      status = ${status},
      attempts = attempts + 1,
      last_error = ${error},
      remote_host = ${attempt.remoteHost},
      last_attempt_at = now(),
      next_attempt_at = coalesce(${next}::timestamptz, next_attempt_at),
      finished_at = case when ${status} = 'queued' then null else now() end,
      leased_until = null
    where id = any(${ids}::bigint[])`;
}

/** How often a claim that finds a backlog refreshes the planner's statistics, at most. */
const ANALYZE_EVERY_MS = 60_000;

/** A recipient a worker leased, with what it needs to send. */
export interface ClaimedRecipient {
  readonly id: number;
  readonly queueMessageId: number;
  readonly address: string;
  readonly notify: string | null;
  readonly orcpt: string | null;
  /** Attempts before this one. */
  readonly attempts: number;
  /** When the message was queued (for the retry schedule's end). */
  readonly queuedAt: Date;
  /** When the sender was warned that this recipient is delayed, or null. */
  readonly delayNotifiedAt: Date | null;
}

/** The result of one attempt for some recipients. */
export type AttemptRecord =
  | { readonly kind: "delivered"; readonly remoteHost: string | null; readonly reply: string }
  | {
    readonly kind: "deferred";
    readonly remoteHost: string | null;
    readonly error: string;
    readonly nextAttemptAt: Date;
  }
  | { readonly kind: "failed"; readonly remoteHost: string | null; readonly error: string };

/**
 * The workers' side of the queue: leasing due recipients and recording attempts.
 *
 * A lease (`leased_until`) keeps other workers, in this process or another on the same
 * database, from taking a recipient while one is sending to it; `for update skip locked` lets
 * concurrent claims pass each other instead of waiting. A worker that dies leaves its leases to
 * run out, and the recipients are taken again: at worst a message is sent twice after a crash
 * between the remote's 250 and our record of it, never lost (RFC 5321 §6.1 prefers that).
 */
export class QueueWork {
  /** When the queue's tables were last analysed by {@link claim} (performance.now()). */
  #analyzedAt = -Infinity;

  constructor(private readonly sql: Sql, private readonly queue: Queue) {}

  /** Leases up to `limit` due recipients of messages not on hold, soonest due first. */
  async claim(limit: number, leaseMs: number): Promise<ClaimedRecipient[]> {
    const rows = await this.sql<
      {
        id: number;
        queue_message_id: number;
        address: string;
        notify: string | null;
        orcpt: string | null;
        attempts: number;
        created_at: Date;
        delay_notified_at: Date | null;
      }[]
    >`
      with due as (
        select r.id from queue_recipients r
        join queue_messages m on m.id = r.queue_message_id
        where r.status = 'queued' and r.next_attempt_at <= now() and m.held_at is null
          and (r.leased_until is null or r.leased_until < now())
        order by r.next_attempt_at
        limit ${limit}
        for update of r skip locked
      )
      update queue_recipients r
      set leased_until = now() + make_interval(secs => ${leaseMs / 1000})
      from due, queue_messages m
      where r.id = due.id and m.id = r.queue_message_id
      returning r.id, r.queue_message_id, r.address, r.notify, r.orcpt, r.attempts,
                m.created_at, r.delay_notified_at`;
    if (rows.length === limit && performance.now() - this.#analyzedAt > ANALYZE_EVERY_MS) {
      // A backlog: the planner must know it. On tables filled faster than autovacuum analyses
      // them it joins every due row and sorts them (12 ms a claim at 5,000 recipients, the
      // outbound benchmark's drain down to 21 msg/s) instead of walking the due index (0.1 ms).
      this.#analyzedAt = performance.now();
      // Not awaited: the claimed rows are this worker's now, whatever ANALYZE does.
      this.sql`analyze queue_recipients, queue_messages`.catch(() => {});
    }
    return rows.map((r) => ({
      id: r.id,
      queueMessageId: r.queue_message_id,
      address: r.address,
      notify: r.notify,
      orcpt: r.orcpt,
      attempts: r.attempts,
      queuedAt: r.created_at,
      delayNotifiedAt: r.delay_notified_at,
    }));
  }

  /** The message of a claimed recipient, decrypted. */
  read(queueMessageId: number): Promise<QueueEntry> {
    return this.queue.read(queueMessageId);
  }

  /** Records an attempt for recipients and ends their lease. */
  async record(recipientIds: readonly number[], attempt: AttemptRecord): Promise<void> {
    if (recipientIds.length === 0) return;
    await recordIn(this.sql, recipientIds, attempt);
  }

  /** Records an attempt's outcomes for its recipients in one transaction. */
  async recordAll(records: readonly (readonly [number, AttemptRecord])[]): Promise<void> {
    if (records.length === 0) return;
    await this.sql.begin(async (tx) => {
      for (const [id, attempt] of records) await recordIn(tx, [id], attempt);
    });
  }

  /** Ends leases without an attempt (the worker stopped before sending). */
  async release(recipientIds: readonly number[]): Promise<void> {
    if (recipientIds.length === 0) return;
    await this.sql`
      update queue_recipients set leased_until = null
      where id = any(${recipientIds as number[]}::bigint[])`;
  }

  /** Marks recipients' senders as warned of their delay (so they are warned once). */
  async delayNotified(recipientIds: readonly number[]): Promise<void> {
    if (recipientIds.length === 0) return;
    await this.sql`
      update queue_recipients set delay_notified_at = now()
      where id = any(${recipientIds as number[]}::bigint[])`;
  }

  /** Marks recipients' senders as told of their failure (so they are told once). */
  async failureNotified(recipientIds: readonly number[]): Promise<void> {
    if (recipientIds.length === 0) return;
    await this.sql`
      update queue_recipients set failure_notified_at = now()
      where id = any(${recipientIds as number[]}::bigint[])`;
  }

  /**
   * Deletes messages whose every recipient is finished and whose failures were reported (or
   * need none); returns how many.
   */
  async removeFinished(): Promise<number> {
    const rows = await this.sql`
      delete from queue_messages m
      where not exists (
        select 1 from queue_recipients r
        where r.queue_message_id = m.id
          and (r.status = 'queued' or (r.status = 'failed' and r.failure_notified_at is null))
      )
      returning m.id`;
    return rows.length;
  }

  /** When the next recipient is due (not on hold), or null when none is waiting. */
  async nextDue(): Promise<Date | null> {
    const [row] = await this.sql<{ next: Date | null }[]>`
      select min(greatest(r.next_attempt_at, coalesce(r.leased_until, r.next_attempt_at))) as next
      from queue_recipients r join queue_messages m on m.id = r.queue_message_id
      where r.status = 'queued' and m.held_at is null`;
    return row?.next ?? null;
  }
}

function toSummary(row: MessageRow, recipients: readonly RecipientRow[]): QueueSummary {
  return {
    id: row.id,
    accountId: row.account_id,
    sender: row.sender,
    envid: row.envid,
    ret: row.ret,
    requireTls: row.require_tls,
    size: row.size,
    createdAt: row.created_at,
    recipients: recipients.map((r) => ({
      id: r.id,
      address: r.address,
      notify: r.notify,
      orcpt: r.orcpt,
      status: r.status,
      attempts: r.attempts,
      nextAttemptAt: r.next_attempt_at,
      lastError: r.last_error,
    })),
  };
}

function placement(id: number): Placement {
  return { table: "queue_messages", column: "message", row: id };
}
