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
  size: number;
  created_at: Date;
}

interface RecipientRow {
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
      select id, account_id, sender, envid, ret, size, created_at, message
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
      select id, account_id, sender, envid, ret, size, created_at
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

function toSummary(row: MessageRow, recipients: readonly RecipientRow[]): QueueSummary {
  return {
    id: row.id,
    accountId: row.account_id,
    sender: row.sender,
    envid: row.envid,
    ret: row.ret,
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
