/**
 * Messages: delivery, reading, flags, copy, move and expunge.
 *
 * Invariants:
 * - A delivery is one transaction: every target gets the message or none does. UIDs are taken
 *   from the mailbox row while it is locked, so concurrent deliveries to one mailbox get unique,
 *   ascending UIDs, and commit in UID order. The caller may add its own writes to that
 *   transaction (`within`: the outbound queue), which then commit with the copies or not at all.
 * - A copy may start with header lines of its own account (`prefixFor`: Return-Path,
 *   Delivered-To); its size, quota charge and cached structure are those of the bytes stored.
 * - Rows are locked in one order (mailboxes by id, then messages by id, then accounts) so that
 *   concurrent deliveries, copies, moves and expunges cannot deadlock.
 * - Removing mailbox entries locks their messages first, so two transactions removing the last
 *   entries of one message from different mailboxes run one after the other, and the second
 *   sees the first's deletion: the message and its quota are always freed.
 * - A message's bytes, its envelope and its MIME structure are sealed with the account's data
 *   key, each bound to its row and column. They are encrypted before the transaction starts, so
 *   no lock is held while encrypting.
 * - A message's content never changes after delivery, so its decrypted description (envelope,
 *   summary, structure; never its bytes) is kept in a bounded in-memory cache per account
 *   (description_cache.ts explains why that is acceptable). Reads of many messages take one
 *   query (`readMany`, `readCaches`) and decrypt in parallel.
 * - Quota counts each stored message once per account; a message leaves the quota when its last
 *   mailbox entry is expunged.
 * - Every change to a mailbox advances its HIGHESTMODSEQ (RFC 7162 §3.1) and is announced with
 *   `pg_notify('fumi_mailbox', mailbox id)` on commit, for IMAP IDLE and the webmail.
 *
 * @module
 */

import {
  type BodyPart,
  buildEnvelope,
  type Envelope,
  type MessageSummary,
  parseHeader,
  parseStructure,
  summarize,
} from "../mime/mod.ts";
import { InvalidInputError, NotFoundError } from "../util/errors.ts";
import type { Sql, TxSql } from "./db.ts";
import { OverQuotaError } from "./errors.ts";
import { notify, removeIn } from "./_entries.ts";
import { MailboxChanges } from "./changes.ts";
import {
  DESCRIPTION_CACHE_ENTRIES,
  DESCRIPTION_CACHE_OCTETS,
  DescriptionCache,
} from "./description_cache.ts";
import { canonicalMailboxName } from "./mailboxes.ts";
import type { Vault } from "./vault.ts";
import type { Placement } from "../crypto/envelope.ts";

/** Where one copy of a message goes. */
export interface DeliveryTarget {
  readonly accountId: number;
  /** Defaults to INBOX. */
  readonly mailbox?: string;
  readonly flags?: readonly string[];
}

/** Options of {@link Messages.deliver}. */
export interface DeliveryOptions {
  /** IMAP INTERNALDATE; defaults to now. */
  readonly internalDate?: Date;
  /**
   * Header lines (each ending in CRLF) to put before the message in one account's copy, such
   * as Return-Path and Delivered-To (RFC 5321 §4.4). The copy's size, quota charge and cached
   * structure are those of the prefixed bytes.
   */
  readonly prefixFor?: (accountId: number) => Uint8Array;
  /**
   * Runs inside the delivery's transaction, after the copies are written and charged, so what
   * it writes (a queue entry) commits with them or not at all. If it throws, nothing is stored.
   */
  readonly within?: (tx: TxSql) => Promise<void>;
}

/** One stored copy. */
export interface Delivered {
  readonly accountId: number;
  readonly mailboxId: number;
  readonly uid: number;
  readonly messageId: number;
  readonly modseq: number;
}

/** A message as a mailbox lists it. */
export interface MessageInfo {
  readonly uid: number;
  readonly messageId: number;
  readonly flags: readonly string[];
  readonly modseq: number;
  readonly size: number;
  readonly internalDate: Date;
}

/** The cached, decrypted description of a message. */
export interface MessageCache {
  readonly envelope: Envelope;
  readonly summary: MessageSummary;
  readonly structure: BodyPart;
}

/** Options of {@link Messages}. */
export interface MessagesOptions {
  /**
   * The most decrypted descriptions kept in memory (see description_cache.ts); 0 keeps none.
   * Defaults to {@link DESCRIPTION_CACHE_ENTRIES}.
   */
  readonly descriptionCacheEntries?: number;
  /** Their most decrypted JSON octets; defaults to {@link DESCRIPTION_CACHE_OCTETS}. */
  readonly descriptionCacheOctets?: number;
}

/** What changed in a mailbox since a point, read in one snapshot (see `changesSince`). */
export interface MailboxChangeSet {
  /** HIGHESTMODSEQ in that snapshot; null when the mailbox no longer exists. */
  readonly highestModseq: number | null;
  /** Rows added or changed after the point, in UID order. */
  readonly changed: MessageInfo[];
  /** UIDs expunged after the point, ascending. */
  readonly expunged: number[];
}

/** How STORE changes flags (RFC 9051 §6.4.6). */
export type FlagMode = "add" | "remove" | "replace";

/** One message whose flags a STORE changed. */
export interface FlagChange {
  readonly uid: number;
  readonly flags: readonly string[];
  readonly modseq: number;
}

const SYSTEM_FLAGS = new Map(
  ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"].map((f) => [f.toLowerCase(), f]),
);
/** atom-specials of RFC 9051 §9 (and "\" after the first character). */
// deno-lint-ignore no-control-regex -- control characters are not allowed in a keyword
const KEYWORD = /^[^\x00-\x20\x7f(){%*"\\\]]+$/;
const encoder = new TextEncoder();
/** Message ids drawn from the sequence at a time. */
const ID_BATCH = 64;
/** Most INBOX ids remembered. */
const INBOX_CACHE_SIZE = 100_000;
const decoder = new TextDecoder();

/** Checks and normalises flags: system flags in their canonical case, keywords as atoms. */
export function normalizeFlags(flags: readonly string[]): string[] {
  const out = new Set<string>();
  for (const flag of flags) {
    if (flag.startsWith("\\")) {
      const system = SYSTEM_FLAGS.get(flag.toLowerCase());
      // \Recent is session state, never stored (RFC 3501 §2.3.2; gone in RFC 9051).
      if (flag.toLowerCase() === "\\recent") continue;
      if (!system) throw new InvalidInputError(`Unknown system flag "${flag}"`);
      out.add(system);
    } else if (KEYWORD.test(flag)) {
      out.add(flag);
    } else {
      throw new InvalidInputError(`Invalid flag "${flag}"`);
    }
  }
  return [...out].sort();
}

/** Message storage. */
export class Messages {
  /** Message ids drawn ahead (see #takeIds). */
  readonly #idPool: number[] = [];
  /** Each account's INBOX id: INBOX can be neither deleted nor renamed away (its id stays). */
  readonly #inboxIds = new Map<number, number>();
  /** Decrypted descriptions, shared by every session of this process (one store each). */
  readonly #descriptions: DescriptionCache<MessageCache>;
  /** Descriptions being read now, by message id: concurrent readers share one read. */
  readonly #reading = new Map<
    number,
    { readonly accountId: number; readonly done: Promise<MessageCache | undefined> }
  >();

  constructor(
    private readonly sql: Sql,
    private readonly vault: Vault,
    /** Told after each commit which mailboxes changed (IMAP IDLE in this process). */
    private readonly changes: MailboxChanges = new MailboxChanges(),
    options: MessagesOptions = {},
  ) {
    this.#descriptions = new DescriptionCache(
      options.descriptionCacheEntries ?? DESCRIPTION_CACHE_ENTRIES,
      options.descriptionCacheOctets ?? DESCRIPTION_CACHE_OCTETS,
    );
  }

  /**
   * Stores a message for every target, atomically. With `prefixFor`, each account's copy starts
   * with its own header lines; with `within`, more writes join the delivery's transaction (with
   * no targets, `within` runs alone in a transaction).
   */
  async deliver(
    raw: Uint8Array,
    targets: readonly DeliveryTarget[],
    options: DeliveryOptions = {},
  ): Promise<Delivered[]> {
    const within = options.within;
    if (targets.length === 0) {
      if (within) await this.sql.begin((tx) => within(tx));
      return [];
    }
    const internalDate = options.internalDate ?? new Date();
    const byAccount = new Map<number, { mailbox: string; flags: string[] }[]>();
    for (const target of targets) {
      const list = byAccount.get(target.accountId) ?? [];
      list.push({
        mailbox: canonicalMailboxName(target.mailbox ?? "INBOX"),
        flags: normalizeFlags(target.flags ?? []),
      });
      byAccount.set(target.accountId, list);
    }
    const accountIds = [...byAccount.keys()].sort((a, b) => a - b);

    // Ids are drawn first: the additional data of each sealed column names its row.
    const [ids, mailboxIds] = await Promise.all([
      this.#takeIds(accountIds.length),
      this.#findMailboxes(
        accountIds.flatMap((accountId) =>
          byAccount.get(accountId)!.map((c) => [accountId, c.mailbox] as const)
        ),
      ),
    ]);
    const messageIds = new Map(accountIds.map((accountId, i) => [accountId, ids[i]!]));
    const sealers = new Map(
      await Promise.all(
        accountIds.map(async (accountId) =>
          [accountId, await this.vault.sealerFor(accountId)] as const
        ),
      ),
    );
    const sizes = new Map<number, number>();
    let plain: Described | null = null;

    // Rows are locked late and in one order — mailboxes by id, then accounts by id — so that
    // deliveries to one account overlap as much as they can and never deadlock. Statements run
    // one after another (never pipelined): postgres.js may describe a new statement first, so
    // pipelined statements could reach the server in another order than written.
    const delivered = await this.sql.begin(async (tx) => {
      // One account's copy at a time: its bytes (the message, or its prefix and the message),
      // description and ciphertext exist only until its row is written, so memory does not
      // grow with the number of accounts an alias reaches. Inserting into messages locks no
      // shared row, so sealing here holds nothing up; the keys were loaded before (sealers).
      for (const accountId of accountIds) {
        const id = messageIds.get(accountId)!;
        const prefix = options.prefixFor?.(accountId) ?? new Uint8Array();
        let bytes = raw;
        let description: Described;
        if (prefix.length === 0) {
          description = plain ??= describeBytes(raw);
        } else {
          bytes = new Uint8Array(prefix.length + raw.length);
          bytes.set(prefix, 0);
          bytes.set(raw, prefix.length);
          description = describeBytes(bytes); // offsets describe exactly the bytes stored
        }
        const seal = sealers.get(accountId)!;
        const [sealedRaw, sealedEnvelope, sealedStructure] = await Promise.all([
          seal(bytes, placement(id, "raw")),
          seal(description.envelope, placement(id, "envelope")),
          seal(description.structure, placement(id, "structure")),
        ]);
        sizes.set(accountId, bytes.length);
        await tx`insert into messages ${
          tx({
            id,
            account_id: accountId,
            size: bytes.length,
            internal_date: internalDate,
            raw: sealedRaw,
            envelope: sealedEnvelope,
            structure: sealedStructure,
          })
        }`;
      }
      const copies = accountIds.flatMap((accountId) =>
        byAccount.get(accountId)!.map((copy) => ({
          accountId,
          mailboxId: mailboxIds.get(`${accountId}/${copy.mailbox}`)!,
          flags: copy.flags,
          messageId: messageIds.get(accountId)!,
          size: sizes.get(accountId)!,
        }))
      ).sort((x, y) => x.mailboxId - y.mailboxId);
      const delivered: Delivered[] = [];
      for (const copy of copies) {
        // RFC 9051 §2.3.1.1: the UID is taken under the mailbox row's lock, so UIDs ascend in
        // commit order. The change is announced on commit (IMAP IDLE, the webmail).
        const [slot] = await tx<{ uid: number; modseq: number }[]>`
          with slot as (
            update mailboxes set uid_next = uid_next + 1, highest_modseq = highest_modseq + 1
            where id = ${copy.mailboxId} returning uid_next - 1 as uid, highest_modseq as modseq
          )
          insert into mailbox_messages (mailbox_id, uid, message_id, flags, modseq, size, internal_date)
          select ${copy.mailboxId}, uid, ${copy.messageId}, ${copy.flags}, modseq,
                 ${copy.size}, ${internalDate}
          from slot
          returning uid, modseq, pg_notify('fumi_mailbox', mailbox_id::text)`;
        if (!slot) throw new NotFoundError("Mailbox was deleted during delivery");
        const { accountId, mailboxId, messageId } = copy;
        delivered.push({ accountId, mailboxId, uid: slot.uid, messageId, modseq: slot.modseq });
      }
      for (const accountId of accountIds) await chargeQuota(tx, accountId, sizes.get(accountId)!);
      if (within) await within(tx);
      return delivered;
    });
    this.changes.announce(delivered.map((d) => d.mailboxId));
    return delivered;
  }

  /**
   * `n` unused message ids. They are drawn from the sequence in batches, so most deliveries
   * need no round trip for them; ids lost when the process stops leave harmless gaps.
   */
  async #takeIds(n: number): Promise<number[]> {
    if (this.#idPool.length < n) {
      const rows = await this.sql<{ id: number }[]>`
        select nextval(pg_get_serial_sequence('messages', 'id')) as id
        from generate_series(1, ${Math.max(n, ID_BATCH)})`;
      this.#idPool.push(...rows.map((r) => r.id));
    }
    return this.#idPool.splice(0, n);
  }

  /** Mailbox ids by (account, name), INBOX from memory once known. */
  async #findMailboxes(
    wanted: readonly (readonly [number, string])[],
  ): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const [accountId, name] of wanted) {
      const inbox = name === "INBOX" ? this.#inboxIds.get(accountId) : undefined;
      if (inbox !== undefined) found.set(`${accountId}/${name}`, inbox);
    }
    if (found.size === wanted.length) return found;
    const looked = await findMailboxes(this.sql, wanted);
    for (const [accountId, name] of wanted) {
      if (name !== "INBOX") continue;
      if (this.#inboxIds.size >= INBOX_CACHE_SIZE) this.#inboxIds.clear();
      this.#inboxIds.set(accountId, looked.get(`${accountId}/INBOX`)!);
    }
    return looked;
  }

  /** The messages of a mailbox in UID order (optionally only those changed after a modseq). */
  async list(mailboxId: number, options: { changedSince?: number } = {}): Promise<MessageInfo[]> {
    const since = options.changedSince ?? 0;
    const rows = await this.sql<
      {
        uid: number;
        message_id: number;
        flags: string[];
        modseq: number;
        size: number;
        internal_date: Date;
      }[]
    >`
      select uid, message_id, flags, modseq, size, internal_date from mailbox_messages
      where mailbox_id = ${mailboxId} and modseq > ${since}
      order by uid`;
    return rows.map((r) => ({
      uid: r.uid,
      messageId: r.message_id,
      flags: r.flags,
      modseq: r.modseq,
      size: r.size,
      internalDate: r.internal_date,
    }));
  }

  /** The message's bytes, decrypted. */
  async read(accountId: number, messageId: number): Promise<Uint8Array> {
    const raw = (await this.readMany(accountId, [messageId])).get(messageId);
    if (raw === undefined) throw new NotFoundError(`No message ${messageId}`);
    return raw;
  }

  /**
   * The bytes of the account's messages among `messageIds`, decrypted, in one query; ids of
   * messages that do not exist (expunged) or are not the account's are absent from the map.
   * The caller bounds how many octets it asks for at once.
   */
  async readMany(
    accountId: number,
    messageIds: readonly number[],
  ): Promise<Map<number, Uint8Array>> {
    const found = new Map<number, Uint8Array>();
    if (messageIds.length === 0) return found;
    const rows = await this.sql<{ id: number; raw: Uint8Array }[]>`
      select id, raw from messages
      where id = any(${[...new Set(messageIds)]}::bigint[]) and account_id = ${accountId}`;
    const opened = await Promise.all(
      rows.map((row) => this.vault.open(row.raw, placement(row.id, "raw"))),
    );
    rows.forEach((row, i) => found.set(row.id, opened[i]!));
    return found;
  }

  /** The message's cached envelope, summary and MIME structure, decrypted. */
  async readCache(accountId: number, messageId: number): Promise<MessageCache> {
    const cache = (await this.readCaches(accountId, [messageId])).get(messageId);
    if (cache === undefined) throw new NotFoundError(`No message ${messageId}`);
    return cache;
  }

  /**
   * The cached descriptions of the account's messages among `messageIds`: from memory when
   * known (see description_cache.ts), the others decrypted from one query. Ids of messages
   * that do not exist (expunged) or are not the account's are absent from the map.
   */
  async readCaches(
    accountId: number,
    messageIds: readonly number[],
  ): Promise<Map<number, MessageCache>> {
    const found = new Map<number, MessageCache>();
    const missing = new Set<number>();
    const joined: Promise<void>[] = [];
    for (const id of messageIds) {
      const known = this.#descriptions.get(accountId, id);
      if (known !== undefined) {
        found.set(id, known);
        continue;
      }
      // Another session is reading it right now (many clients searching one mailbox after a
      // start): wait for that read instead of decrypting it again.
      const reading = this.#reading.get(id);
      if (reading !== undefined && reading.accountId === accountId) {
        joined.push(reading.done.then((cache) => {
          if (cache !== undefined) found.set(id, cache);
        }));
      } else {
        missing.add(id);
      }
    }
    const joining = Promise.all(joined);
    joining.catch(() => {}); // awaited below, unless this call's own read fails first
    if (missing.size > 0) {
      const read = this.#readDescriptions(accountId, [...missing]);
      for (const id of missing) {
        const done = read.then((got) => got.get(id));
        done.catch(() => {}); // the error is this call's to throw; joiners see it too
        this.#reading.set(id, { accountId, done });
      }
      try {
        for (const [id, cache] of await read) found.set(id, cache);
      } finally {
        for (const id of missing) this.#reading.delete(id);
      }
    }
    await joining;
    return found;
  }

  /** Decrypts and remembers the descriptions of `ids` (one query). */
  async #readDescriptions(
    accountId: number,
    ids: number[],
  ): Promise<Map<number, MessageCache>> {
    const found = new Map<number, MessageCache>();
    const rows = await this.sql<{ id: number; envelope: Uint8Array; structure: Uint8Array }[]>`
      select id, envelope, structure from messages
      where id = any(${ids}::bigint[]) and account_id = ${accountId}`;
    const opened = await Promise.all(rows.map((row) => this.#openDescription(row)));
    rows.forEach((row, i) => {
      const { cache, octets } = opened[i]!;
      this.#descriptions.set(accountId, row.id, cache, octets);
      found.set(row.id, cache);
    });
    return found;
  }

  async #openDescription(
    row: { id: number; envelope: Uint8Array; structure: Uint8Array },
  ): Promise<{ cache: MessageCache; octets: number }> {
    const [envelope, structure] = await Promise.all([
      this.vault.open(row.envelope, placement(row.id, "envelope")),
      this.vault.open(row.structure, placement(row.id, "structure")),
    ]);
    const { envelope: env, summary } = JSON.parse(decoder.decode(envelope)) as Omit<
      MessageCache,
      "structure"
    >;
    const cache = {
      envelope: env,
      summary,
      structure: JSON.parse(decoder.decode(structure)) as BodyPart,
    };
    return { cache, octets: envelope.length + structure.length };
  }

  /**
   * Changes flags (STORE). With `unchangedSince` (RFC 7162 §3.1.3), messages modified after
   * that modseq are left alone and reported in `modified`.
   */
  async setFlags(
    mailboxId: number,
    uids: readonly number[],
    mode: FlagMode,
    flags: readonly string[],
    options: { unchangedSince?: number } = {},
  ): Promise<{ changed: FlagChange[]; modified: number[] }> {
    const wanted = normalizeFlags(flags);
    let result: { changed: FlagChange[]; modified: number[] };
    try {
      result = await this.sql.begin(async (tx) => {
        // One statement locks the mailbox row, takes the next modseq and queues the change
        // notification; when nothing changes, the rollback undoes all three. The commit is
        // durable before the client hears the new MODSEQ: a modseq lost in a crash would be
        // given out again, and RFC 7162 clients would miss that change.
        const [box] = await tx<{ highest_modseq: number }[]>`
          with box as (
            update mailboxes set highest_modseq = highest_modseq + 1 where id = ${mailboxId}
            returning highest_modseq
          )
          select highest_modseq, pg_notify('fumi_mailbox', ${String(mailboxId)})::text
          from box`;
        if (!box) throw new NotFoundError(`No mailbox ${mailboxId}`);
        const modseq = box.highest_modseq;
        const limit = options.unchangedSince ?? null;
        const newFlags = mode === "add"
          ? tx`array(select distinct f from unnest(flags || ${wanted}::text[]) f order by f)`
          : mode === "remove"
          ? tx`array(select f from unnest(flags) f where f <> all(${wanted}::text[]) order by f)`
          : tx`${wanted}::text[]`;
        const changed = await tx<FlagChange[]>`
          update mailbox_messages set flags = ${newFlags}, modseq = ${modseq}
          where mailbox_id = ${mailboxId} and uid = any(${uids as number[]}::bigint[])
            and (${limit}::bigint is null or modseq <= ${limit}::bigint)
            and flags is distinct from ${newFlags}
          returning uid, flags, modseq`;
        const modified = limit === null ? [] : (await tx<{ uid: number }[]>`
          select uid from mailbox_messages
          where mailbox_id = ${mailboxId} and uid = any(${uids as number[]}::bigint[])
            and modseq > ${limit}::bigint and modseq <> ${modseq}
          order by uid`).map((r) => r.uid);
        if (changed.length === 0) throw new Unchanged(modified);
        return { changed: [...changed].sort((a, b) => a.uid - b.uid), modified };
      });
    } catch (error) {
      if (error instanceof Unchanged) return { changed: [], modified: error.modified };
      throw error;
    }
    this.changes.announce([mailboxId]);
    return result;
  }

  /**
   * Copies messages to another mailbox of the same account (COPY); the bytes are shared, not
   * duplicated. Returns source and new UIDs in order, for COPYUID (RFC 4315 §3).
   */
  async copy(
    fromMailboxId: number,
    uids: readonly number[],
    toMailboxId: number,
  ): Promise<[number, number][]> {
    const pairs = await this.sql.begin((tx) => copyIn(tx, fromMailboxId, uids, toMailboxId));
    if (pairs.length > 0) this.changes.announce([toMailboxId]);
    return pairs;
  }

  /** Moves messages (MOVE, RFC 6851): a copy and an expunge in one transaction. */
  async move(
    fromMailboxId: number,
    uids: readonly number[],
    toMailboxId: number,
  ): Promise<[number, number][]> {
    const moved = await this.sql.begin(async (tx) => {
      const pairs = await copyIn(tx, fromMailboxId, uids, toMailboxId);
      await removeIn(tx, fromMailboxId, pairs.map(([source]) => source), { onlyDeleted: false });
      return pairs;
    });
    if (moved.length > 0) this.changes.announce([fromMailboxId, toMailboxId]);
    return moved;
  }

  /**
   * The mailbox's HIGHESTMODSEQ, its rows changed after `since` and the UIDs expunged after
   * `expungedSince` (none asked when null), in one statement: one snapshot, so every change up
   * to the HIGHESTMODSEQ returned is in the rows, and one round trip (an IMAP view's refresh).
   */
  async changesSince(
    mailboxId: number,
    since: number,
    expungedSince: number | null,
  ): Promise<MailboxChangeSet> {
    const rows = await this.sql<
      {
        kind: number;
        uid: number;
        message_id: number | null;
        flags: string[] | null;
        modseq: number | null;
        size: number | null;
        internal_date: Date | null;
      }[]
    >`
      select 0 as kind, highest_modseq as uid, null::bigint as message_id, null::text[] as flags,
             null::bigint as modseq, null::bigint as size, null::timestamptz as internal_date
      from mailboxes where id = ${mailboxId}
      union all
      select 1, uid, message_id, flags, modseq, size, internal_date from mailbox_messages
      where mailbox_id = ${mailboxId} and modseq > ${since}
      union all
      select 2, uid, null, null, null, null, null from expunged_messages
      where mailbox_id = ${mailboxId} and ${expungedSince}::bigint is not null
        and modseq > ${expungedSince}::bigint
      order by kind, uid`;
    let highestModseq: number | null = null;
    const changed: MessageInfo[] = [];
    const expunged: number[] = [];
    for (const r of rows) {
      if (r.kind === 0) highestModseq = r.uid;
      else if (r.kind === 2) expunged.push(r.uid);
      else {
        changed.push({
          uid: r.uid,
          messageId: r.message_id!,
          flags: r.flags!,
          modseq: r.modseq!,
          size: r.size!,
          internalDate: r.internal_date!,
        });
      }
    }
    return { highestModseq, changed, expunged };
  }

  /**
   * UIDs expunged from a mailbox after `modseq` (RFC 7162 §3.2.5.2 VANISHED (EARLIER), and
   * the changes an IMAP session announces), ascending.
   */
  async expungedSince(mailboxId: number, modseq: number): Promise<number[]> {
    const rows = await this.sql<{ uid: number }[]>`
      select uid from expunged_messages
      where mailbox_id = ${mailboxId} and modseq > ${modseq} order by uid`;
    return rows.map((r) => r.uid);
  }

  /**
   * Removes messages flagged \Deleted (EXPUNGE), or only those of `uids` (UID EXPUNGE,
   * RFC 4315 §2.1). Returns the expunged UIDs in ascending order.
   */
  async expunge(mailboxId: number, uids?: readonly number[]): Promise<number[]> {
    const removed = await this.sql.begin((tx) =>
      removeIn(tx, mailboxId, uids ?? null, { onlyDeleted: true })
    );
    if (removed.length > 0) this.changes.announce([mailboxId]);
    return removed;
  }
}

/** Thrown to roll back a STORE that changed nothing (its modseq and notification too). */
class Unchanged {
  constructor(readonly modified: number[]) {}
}

/** A message's cached description, serialised for sealing. */
interface Described {
  readonly envelope: Uint8Array;
  readonly structure: Uint8Array;
}

function describeBytes(bytes: Uint8Array): Described {
  const { envelope, summary, structure } = describe(bytes);
  return {
    envelope: encoder.encode(JSON.stringify({ envelope, summary })),
    structure: encoder.encode(JSON.stringify(structure)),
  };
}

/** Parses what IMAP and the webmail need from a message, once, at delivery. */
export function describe(raw: Uint8Array): MessageCache {
  const header = parseHeader(raw);
  return {
    envelope: buildEnvelope(header),
    summary: summarize(header),
    structure: parseStructure(raw),
  };
}

async function chargeQuota(tx: TxSql, accountId: number, size: number): Promise<void> {
  const [charged] = await tx`
    update accounts set used_bytes = used_bytes + ${size}
    where id = ${accountId} and (quota_bytes = 0 or used_bytes + ${size} <= quota_bytes)
    returning id`;
  if (charged) return;
  const [account] = await tx<
    { address: string }[]
  >`select address from accounts where id = ${accountId}`;
  if (!account) throw new NotFoundError(`No account with id ${accountId}`);
  throw new OverQuotaError(account.address);
}

/** Looks up mailboxes by (account, name); `account/name` → id. NotFoundError for any missing. */
async function findMailboxes(
  sql: Sql,
  wanted: readonly (readonly [number, string])[],
): Promise<Map<string, number>> {
  const rows = await sql<{ id: number; account_id: number; name: string }[]>`
    select m.id, m.account_id, m.name from mailboxes m
    join unnest(${wanted.map(([a]) => a)}::bigint[], ${
    wanted.map(([, n]) => n)
  }::text[]) w(account_id, name)
      on m.account_id = w.account_id and m.name = w.name`;
  const found = new Map(rows.map((r) => [`${r.account_id}/${r.name}`, r.id]));
  for (const [accountId, name] of wanted) {
    if (!found.has(`${accountId}/${name}`)) {
      throw new NotFoundError(`Mailbox "${name}" does not exist`);
    }
  }
  return found;
}

async function copyIn(
  tx: TxSql,
  fromMailboxId: number,
  uids: readonly number[],
  toMailboxId: number,
): Promise<[number, number][]> {
  const boxes = await tx<
    { id: number; account_id: number; uid_next: number; highest_modseq: number }[]
  >`
    select id, account_id, uid_next, highest_modseq from mailboxes
    where id in (${fromMailboxId}, ${toMailboxId}) order by id for update`;
  const from = boxes.find((b) => b.id === fromMailboxId);
  const to = boxes.find((b) => b.id === toMailboxId);
  if (!from || !to) throw new NotFoundError("Mailbox does not exist");
  if (from.account_id !== to.account_id) {
    throw new InvalidInputError("Cannot copy between accounts");
  }
  const sources = await tx<
    { uid: number; message_id: number; flags: string[]; size: number; internal_date: Date }[]
  >`
    select uid, message_id, flags, size, internal_date from mailbox_messages
    where mailbox_id = ${fromMailboxId} and uid = any(${uids as number[]}::bigint[]) order by uid`;
  if (sources.length === 0) return [];
  const modseq = to.highest_modseq + 1;
  const pairs: [number, number][] = sources.map((s, i) => [s.uid, to.uid_next + i]);
  await tx`insert into mailbox_messages ${
    tx(
      sources.map((s, i) => ({
        mailbox_id: toMailboxId,
        uid: to.uid_next + i,
        message_id: s.message_id,
        flags: s.flags,
        modseq,
        size: s.size,
        internal_date: s.internal_date,
      })),
    )
  }`;
  await tx`update mailboxes set uid_next = ${
    to.uid_next + sources.length
  }, highest_modseq = ${modseq}
           where id = ${toMailboxId}`;
  await notify(tx, toMailboxId);
  return pairs;
}

function placement(id: number, column: "raw" | "envelope" | "structure"): Placement {
  return { table: "messages", column, row: id };
}
