/**
 * Administration of the outbound queue (`fumi queue …`, `fumi user hold|unhold`): looking at
 * queued messages, retrying, holding, releasing and removing them, and the outbound hold of an
 * account. The outbound workers' side (claiming and recording) lives in queue.ts.
 *
 * Invariants:
 * - A held message (queue_messages.held_at set) is not sent: workers claim only recipients of
 *   messages with `held_at is null`. Holding a message does not interrupt an attempt that a
 *   worker has already claimed (its lease, queue_recipients.leased_until, runs out normally).
 * - An account on outbound hold (accounts.outbound_held_at) has everything it queues held: the
 *   trigger of migrations/0010_account_hold.sql sets held_at in the transaction that queues the
 *   message. {@link QueueAdmin.holdAccount} also holds what the account has queued already,
 *   under the account row's lock, so nothing is missed between the two (see the migration).
 * - Only {@link QueueAdmin.show} with `headers` decrypts anything, and then only the header
 *   block of one message; listing reads the clear-text envelope alone.
 * - {@link QueueAdmin.remove} deletes a message even while a worker is sending it: the worker
 *   must treat a vanished row as removed, and its report of the attempt as void.
 *
 * @module
 */

import type { Placement } from "../crypto/envelope.ts";
import { parseAddress } from "../util/address.ts";
import { InvalidInputError, NotFoundError } from "../util/errors.ts";
import type { Sql, TxSql } from "./db.ts";
import type { DsnReturn, QueueRecipient, QueueStatus, RecipientRow } from "./queue.ts";
import type { Vault } from "./vault.ts";

/** Which messages {@link QueueAdmin.list} returns; every filter given must hold. */
export interface QueueFilter {
  /** Messages with at least one recipient in this state. */
  readonly status?: QueueStatus;
  /** true: only held messages; false: only messages not held. */
  readonly held?: boolean;
  /** A part of the sender address, any case. */
  readonly sender?: string;
  /** A part of a recipient address, any case. */
  readonly recipient?: string;
  /** The messages of this account (its id). */
  readonly accountId?: number;
}

/** A queued recipient as administrators see it. */
export interface AdminQueueRecipient extends QueueRecipient {
  /** The host that answered the last attempt. */
  readonly remoteHost: string | null;
  readonly lastAttemptAt: Date | null;
  /** When it was delivered or failed for good. */
  readonly finishedAt: Date | null;
  /** Set while a worker is sending to it. */
  readonly leasedUntil: Date | null;
  readonly failureNotifiedAt: Date | null;
  readonly delayNotifiedAt: Date | null;
}

/** A queued message as administrators see it (no message bytes). */
export interface AdminQueueMessage {
  readonly id: number;
  readonly accountId: number | null;
  /** The submitting account's address, when it still exists. */
  readonly account: string | null;
  /** The reverse-path; "" for `<>`. */
  readonly sender: string;
  readonly envid: string | null;
  readonly ret: DsnReturn | null;
  /** RFC 8689: true REQUIRETLS, false `TLS-Required: No`, null neither. */
  readonly requireTls: boolean | null;
  readonly size: number;
  readonly createdAt: Date;
  readonly heldAt: Date | null;
  readonly heldReason: string | null;
  readonly recipients: readonly AdminQueueRecipient[];
}

/** A message with its header block, decrypted, when asked for. */
export interface AdminQueueDetail extends AdminQueueMessage {
  /** The header block as text (UTF-8, or U+FFFD for what is not); null unless asked for. */
  readonly headers: string | null;
}

/** The outbound hold of an account. */
export interface AccountHold {
  readonly heldAt: Date;
  readonly reason: string | null;
}

/** What a hold or a release did. */
export interface HoldChange {
  readonly message: AdminQueueMessage;
  /** False when the message was already in the state asked for. */
  readonly changed: boolean;
}

interface MessageRow {
  id: number;
  account_id: number | null;
  account: string | null;
  sender: string;
  envid: string | null;
  ret: DsnReturn | null;
  require_tls: boolean | null;
  size: number;
  created_at: Date;
  held_at: Date | null;
  held_reason: string | null;
}

interface AdminRecipientRow extends RecipientRow {
  remote_host: string | null;
  last_attempt_at: Date | null;
  finished_at: Date | null;
  leased_until: Date | null;
  failure_notified_at: Date | null;
  delay_notified_at: Date | null;
}

/** Bound on a hold reason, so a typo'd paste cannot fill a table. */
const MAX_REASON = 500;

/** Queue administration over the queue's tables. */
export class QueueAdmin {
  constructor(private readonly sql: Sql, private readonly vault: Vault) {}

  /** Queued messages matching `filter`, oldest first, with their recipients. */
  async list(filter: QueueFilter = {}): Promise<AdminQueueMessage[]> {
    const sql = this.sql;
    const rows = await sql<MessageRow[]>`
      select m.id, m.account_id, a.address as account, m.sender, m.envid, m.ret, m.require_tls, m.size,
             m.created_at, m.held_at, m.held_reason
      from queue_messages m left join accounts a on a.id = m.account_id
      where true
      ${
      filter.held === undefined
        ? sql``
        : filter.held
        ? sql`and m.held_at is not null`
        : sql`and m.held_at is null`
    }
      ${filter.accountId === undefined ? sql`` : sql`and m.account_id = ${filter.accountId}`}
      ${
      filter.sender === undefined
        ? sql``
        : sql`and strpos(lower(m.sender), lower(${filter.sender})) > 0`
    }
      ${
      filter.status === undefined ? sql`` : sql`and exists (
        select 1 from queue_recipients r
        where r.queue_message_id = m.id and r.status = ${filter.status})`
    }
      ${
      filter.recipient === undefined ? sql`` : sql`and exists (
        select 1 from queue_recipients r
        where r.queue_message_id = m.id
          and strpos(lower(r.address), lower(${filter.recipient})) > 0)`
    }
      order by m.id`;
    if (rows.length === 0) return [];
    const recipients = await sql<AdminRecipientRow[]>`
      select ${sql(RECIPIENT_COLUMNS)} from queue_recipients
      where queue_message_id in ${sql(rows.map((r) => r.id))}
      order by queue_message_id, id`;
    const byMessage = new Map<number, AdminRecipientRow[]>();
    for (const r of recipients) {
      const list = byMessage.get(r.queue_message_id) ?? [];
      list.push(r);
      byMessage.set(r.queue_message_id, list);
    }
    return rows.map((row) => toMessage(row, byMessage.get(row.id) ?? []));
  }

  /**
   * One message with its recipients; with `headers`, its header block decrypted. NotFoundError
   * when there is no such message.
   */
  async show(id: number, options: { headers?: boolean } = {}): Promise<AdminQueueDetail> {
    const message = await this.get(id);
    if (!options.headers) return { ...message, headers: null };
    const [row] = await this.sql<{ message: Uint8Array }[]>`
      select message from queue_messages where id = ${id}`;
    if (!row) throw new NotFoundError(`No queued message ${id}`);
    const plain = await this.vault.open(row.message, placement(id));
    return { ...message, headers: new TextDecoder().decode(headerBlock(plain)) };
  }

  /**
   * Makes the queued recipients of message `id` (or of every message, for "all") due now;
   * returns how many. A held message stays held: it is tried once released.
   */
  async retry(id: number | "all"): Promise<number> {
    if (id === "all") {
      const rows = await this.sql`
        update queue_recipients set next_attempt_at = now()
        where status = 'queued' returning id`;
      return rows.length;
    }
    await this.get(id);
    const rows = await this.sql`
      update queue_recipients set next_attempt_at = now()
      where queue_message_id = ${id} and status = 'queued' returning id`;
    return rows.length;
  }

  /** Puts message `id` on hold; a message already held keeps its time, and takes a new reason. */
  async hold(id: number, reason: string | null = null): Promise<HoldChange> {
    const text = reasonText(reason);
    const changed = await this.sql.begin(async (tx) => {
      const [row] = await tx<{ held: boolean }[]>`
        select held_at is not null as held from queue_messages where id = ${id} for update`;
      if (!row) throw new NotFoundError(`No queued message ${id}`);
      await tx`
        update queue_messages
        set held_at = coalesce(held_at, now()),
            held_reason = coalesce(${text}, held_reason, 'held by an administrator')
        where id = ${id}`;
      return !row.held;
    });
    return { message: await this.get(id), changed };
  }

  /** Releases message `id` from hold; its queued recipients become due now. */
  async release(id: number): Promise<HoldChange> {
    const changed = await this.sql.begin(async (tx) => {
      const [row] = await tx<{ held: boolean }[]>`
        select held_at is not null as held from queue_messages where id = ${id} for update`;
      if (!row) throw new NotFoundError(`No queued message ${id}`);
      if (!row.held) return false;
      await tx`update queue_messages set held_at = null, held_reason = null where id = ${id}`;
      await tx`
        update queue_recipients set next_attempt_at = least(next_attempt_at, now())
        where queue_message_id = ${id} and status = 'queued'`;
      return true;
    });
    return { message: await this.get(id), changed };
  }

  /**
   * Releases every held message of the account with this address; returns their ids. The
   * account's own outbound hold stays until {@link unholdAccount}: what it queues meanwhile
   * is held again.
   */
  async releaseAccount(address: string): Promise<number[]> {
    const accountId = await this.accountId(address);
    return await this.sql.begin(async (tx) => {
      const rows = await tx<{ id: number }[]>`
        update queue_messages set held_at = null, held_reason = null
        where account_id = ${accountId} and held_at is not null
        returning id`;
      const ids = rows.map((r) => r.id).sort((a, b) => a - b);
      if (ids.length > 0) {
        await tx`
          update queue_recipients set next_attempt_at = least(next_attempt_at, now())
          where queue_message_id in ${tx(ids)} and status = 'queued'`;
      }
      return ids;
    });
  }

  /**
   * Deletes message `id` and its recipients, whatever their state; returns what was removed.
   * No DSN is sent for it. NotFoundError when there is no such message.
   */
  async remove(id: number): Promise<AdminQueueMessage> {
    return await this.sql.begin(async (tx) => {
      const [exists] = await tx`select 1 from queue_messages where id = ${id} for update`;
      if (!exists) throw new NotFoundError(`No queued message ${id}`);
      const message = await this.get(id, tx);
      await tx`delete from queue_messages where id = ${id}`;
      return message;
    });
  }

  /**
   * Puts the account with this address on outbound hold: what it queues from now on is held,
   * and so is what it has queued and not yet finished. Returns the ids of the messages it held
   * now. A held account keeps its first hold time and takes the new reason.
   */
  async holdAccount(address: string, reason: string | null = null): Promise<number[]> {
    const accountId = await this.accountId(address);
    const text = reasonText(reason);
    return await this.sql.begin(async (tx) => {
      // FOR UPDATE conflicts with the FOR KEY SHARE of the queueing trigger (migration 0010):
      // a message being queued right now commits first, and is held below.
      await tx`select 1 from accounts where id = ${accountId} for update`;
      await tx`
        update accounts
        set outbound_held_at = coalesce(outbound_held_at, now()),
            outbound_held_reason = coalesce(${text}, outbound_held_reason)
        where id = ${accountId}`;
      const messageReason = `account held: ${text ?? "no reason given"}`;
      const rows = await tx<{ id: number }[]>`
        update queue_messages m set held_at = now(), held_reason = ${messageReason}
        where m.account_id = ${accountId} and m.held_at is null
          and exists (select 1 from queue_recipients r
                      where r.queue_message_id = m.id and r.status = 'queued')
        returning m.id`;
      return rows.map((r) => r.id).sort((a, b) => a - b);
    });
  }

  /**
   * Lifts the outbound hold of the account with this address; returns the ids of its messages
   * that are still held (release them with {@link releaseAccount} once reviewed).
   */
  async unholdAccount(address: string): Promise<number[]> {
    const accountId = await this.accountId(address);
    await this.sql`
      update accounts set outbound_held_at = null, outbound_held_reason = null
      where id = ${accountId}`;
    const rows = await this.sql<{ id: number }[]>`
      select id from queue_messages where account_id = ${accountId} and held_at is not null
      order by id`;
    return rows.map((r) => r.id);
  }

  /** The outbound hold of account `accountId`, or null when it is not held (or not there). */
  async accountHold(accountId: number): Promise<AccountHold | null> {
    const [row] = await this.sql<{ held_at: Date | null; reason: string | null }[]>`
      select outbound_held_at as held_at, outbound_held_reason as reason
      from accounts where id = ${accountId}`;
    return row?.held_at ? { heldAt: row.held_at, reason: row.reason } : null;
  }

  /** Whether account `accountId` is on outbound hold (what it queues is held). */
  async isAccountHeld(accountId: number): Promise<boolean> {
    return (await this.accountHold(accountId)) !== null;
  }

  /** The accounts on outbound hold, by address. */
  async heldAccounts(): Promise<{ address: string; heldAt: Date; reason: string | null }[]> {
    const rows = await this.sql<{ address: string; held_at: Date; reason: string | null }[]>`
      select address, outbound_held_at as held_at, outbound_held_reason as reason
      from accounts where outbound_held_at is not null order by address`;
    return rows.map((r) => ({ address: r.address, heldAt: r.held_at, reason: r.reason }));
  }

  private async get(id: number, sql: TxSql = this.sql): Promise<AdminQueueMessage> {
    const [row] = await sql<MessageRow[]>`
      select m.id, m.account_id, a.address as account, m.sender, m.envid, m.ret, m.require_tls, m.size,
             m.created_at, m.held_at, m.held_reason
      from queue_messages m left join accounts a on a.id = m.account_id
      where m.id = ${id}`;
    if (!row) throw new NotFoundError(`No queued message ${id}`);
    const recipients = await sql<AdminRecipientRow[]>`
      select ${sql(RECIPIENT_COLUMNS)} from queue_recipients
      where queue_message_id = ${id} order by id`;
    return toMessage(row, recipients);
  }

  private async accountId(address: string): Promise<number> {
    const canonical = parseAddress(address).canonical;
    const [row] = await this.sql<{ id: number }[]>`
      select id from accounts where address = ${canonical}`;
    if (!row) throw new NotFoundError(`No account "${canonical}"`);
    return row.id;
  }
}

const RECIPIENT_COLUMNS = [
  "id",
  "queue_message_id",
  "address",
  "notify",
  "orcpt",
  "status",
  "attempts",
  "next_attempt_at",
  "last_error",
  "remote_host",
  "last_attempt_at",
  "finished_at",
  "leased_until",
  "failure_notified_at",
  "delay_notified_at",
];

function reasonText(reason: string | null): string | null {
  if (reason === null) return null;
  // deno-lint-ignore no-control-regex -- controls are what is removed
  const text = reason.replace(/[\x00-\x1f\x7f]+/g, " ").trim();
  if (text === "") return null;
  if (text.length > MAX_REASON) {
    throw new InvalidInputError(`A hold reason is at most ${MAX_REASON} characters`);
  }
  return text;
}

function toMessage(row: MessageRow, recipients: readonly AdminRecipientRow[]): AdminQueueMessage {
  return {
    id: row.id,
    accountId: row.account_id,
    account: row.account,
    sender: row.sender,
    envid: row.envid,
    ret: row.ret,
    requireTls: row.require_tls,
    size: row.size,
    createdAt: row.created_at,
    heldAt: row.held_at,
    heldReason: row.held_reason,
    recipients: recipients.map((r) => ({
      id: r.id,
      address: r.address,
      notify: r.notify,
      orcpt: r.orcpt,
      status: r.status,
      attempts: r.attempts,
      nextAttemptAt: r.next_attempt_at,
      lastError: r.last_error,
      remoteHost: r.remote_host,
      lastAttemptAt: r.last_attempt_at,
      finishedAt: r.finished_at,
      leasedUntil: r.leased_until,
      failureNotifiedAt: r.failure_notified_at,
      delayNotifiedAt: r.delay_notified_at,
    })),
  };
}

/** The header block of a message, through the empty line (CRLF or bare LF) that ends it. */
function headerBlock(message: Uint8Array): Uint8Array {
  for (let i = 0; i < message.length; i++) {
    if (message[i] !== 0x0a) continue;
    if (message[i + 1] === 0x0a) return message.subarray(0, i + 1);
    if (message[i + 1] === 0x0d && message[i + 2] === 0x0a) return message.subarray(0, i + 1);
  }
  return message;
}

/** As queue.ts seals it: the message column of its row. */
function placement(id: number): Placement {
  return { table: "queue_messages", column: "message", row: id };
}
