/**
 * Mailboxes. Every account starts with INBOX and the special-use mailboxes of RFC 6154
 * (Drafts, Sent, Trash, Junk, Archive). Names use "/" as the hierarchy separator; INBOX is
 * matched case-insensitively (RFC 9051 §5.1).
 *
 * Each mailbox carries the counters IMAP needs: UIDVALIDITY (from a sequence that never repeats),
 * UIDNEXT and HIGHESTMODSEQ (RFC 7162), all advanced under the mailbox row's lock.
 *
 * @module
 */

import { ConflictError, InvalidInputError, NotFoundError } from "../util/errors.ts";
import type { Sql, TxSql } from "./db.ts";
import { removeIn } from "./_entries.ts";

/** RFC 6154 special-use attributes Fumi assigns. */
export type SpecialUse = "\\Drafts" | "\\Sent" | "\\Trash" | "\\Junk" | "\\Archive";

/** The mailboxes every new account gets. */
export const DEFAULT_MAILBOXES: readonly { name: string; specialUse: SpecialUse | null }[] = [
  { name: "INBOX", specialUse: null },
  { name: "Drafts", specialUse: "\\Drafts" },
  { name: "Sent", specialUse: "\\Sent" },
  { name: "Trash", specialUse: "\\Trash" },
  { name: "Junk", specialUse: "\\Junk" },
  { name: "Archive", specialUse: "\\Archive" },
];

/** A mailbox and its IMAP counters. */
export interface Mailbox {
  readonly id: number;
  readonly accountId: number;
  readonly name: string;
  readonly specialUse: SpecialUse | null;
  readonly subscribed: boolean;
  readonly uidValidity: number;
  readonly uidNext: number;
  readonly highestModseq: number;
}

interface MailboxRow {
  id: number;
  account_id: number;
  name: string;
  special_use: SpecialUse | null;
  subscribed: boolean;
  uid_validity: number;
  uid_next: number;
  highest_modseq: number;
}

/** Maps a row of `mailboxes`. */
export function toMailbox(row: MailboxRow): Mailbox {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    specialUse: row.special_use,
    subscribed: row.subscribed,
    uidValidity: row.uid_validity,
    uidNext: row.uid_next,
    highestModseq: row.highest_modseq,
  };
}

/** The canonical spelling of a mailbox name: INBOX in any case is INBOX. */
export function canonicalMailboxName(name: string): string {
  const normalized = name.normalize("NFC");
  if (/^inbox$/i.test(normalized)) return "INBOX";
  if (/^inbox\//i.test(normalized)) return "INBOX" + normalized.slice(5);
  return normalized;
}

/** Checks a mailbox name: non-empty, no control characters, no empty hierarchy levels. */
export function validateMailboxName(name: string): string {
  const canonical = canonicalMailboxName(name);
  // deno-lint-ignore no-control-regex -- control characters are exactly what is refused
  if (canonical === "" || /[\x00-\x1f\x7f]/.test(canonical) || canonical.split("/").includes("")) {
    throw new InvalidInputError(`Invalid mailbox name "${name}"`);
  }
  if (new TextEncoder().encode(canonical).length > 1000) {
    throw new InvalidInputError("Mailbox name is too long");
  }
  return canonical;
}

/** Creates the default mailboxes of a new account inside the caller's transaction. */
export async function createDefaultMailboxes(tx: TxSql, accountId: number): Promise<void> {
  for (const { name, specialUse } of DEFAULT_MAILBOXES) {
    await tx`insert into mailboxes (account_id, name, special_use)
             values (${accountId}, ${name}, ${specialUse})`;
  }
}

const COLUMNS =
  "id, account_id, name, special_use, subscribed, uid_validity, uid_next, highest_modseq";

/** What STATUS reports (RFC 9051 §6.3.11) besides the mailbox's counters. */
export interface MailboxCounts {
  readonly messages: number;
  readonly unseen: number;
  readonly deleted: number;
  /** Octets of all messages (RFC 9051 STATUS SIZE). */
  readonly size: number;
}

/** Mailbox lookups and administration. */
export class Mailboxes {
  constructor(private readonly sql: Sql) {}

  /** An account's mailboxes, by name. */
  async list(accountId: number): Promise<Mailbox[]> {
    const rows = await this.sql.unsafe<MailboxRow[]>(
      `select ${COLUMNS} from mailboxes where account_id = $1 order by name`,
      [accountId],
    );
    return rows.map(toMailbox);
  }

  /** The mailbox of `accountId` named `name`, or null. */
  async find(accountId: number, name: string): Promise<Mailbox | null> {
    const rows = await this.sql.unsafe<MailboxRow[]>(
      `select ${COLUMNS} from mailboxes where account_id = $1 and name = $2`,
      [accountId, canonicalMailboxName(name)],
    );
    return rows[0] ? toMailbox(rows[0]) : null;
  }

  /** Like {@link find}, but NotFoundError when absent. */
  async get(accountId: number, name: string): Promise<Mailbox> {
    const mailbox = await this.find(accountId, name);
    if (!mailbox) throw new NotFoundError(`Mailbox "${name}" does not exist`);
    return mailbox;
  }

  /** Creates a mailbox; ConflictError if the name is taken. */
  async create(
    accountId: number,
    name: string,
    specialUse: SpecialUse | null = null,
  ): Promise<Mailbox> {
    const canonical = validateMailboxName(name);
    const rows = await this.sql.unsafe<MailboxRow[]>(
      `insert into mailboxes (account_id, name, special_use) values ($1, $2, $3)
       on conflict (account_id, name) do nothing returning ${COLUMNS}`,
      [accountId, canonical, specialUse],
    );
    if (!rows[0]) throw new ConflictError(`Mailbox "${canonical}" already exists`);
    return toMailbox(rows[0]);
  }

  /** Message counts of a mailbox. */
  async counts(mailboxId: number): Promise<MailboxCounts> {
    const [row] = await this.sql<
      { messages: number; unseen: number; deleted: number; size: number }[]
    >`
      select count(*)::int as messages,
             count(*) filter (where not ('\\Seen' = any(flags)))::int as unseen,
             count(*) filter (where '\\Deleted' = any(flags))::int as deleted,
             coalesce(sum(size), 0)::bigint as size
      from mailbox_messages where mailbox_id = ${mailboxId}`;
    return { ...row!, size: Number(row!.size) };
  }

  /** Subscribes or unsubscribes a mailbox (RFC 9051 §6.3.7, §6.3.8). */
  async setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void> {
    const rows = await this.sql`
      update mailboxes set subscribed = ${subscribed}
      where account_id = ${accountId} and name = ${canonicalMailboxName(name)} returning id`;
    if (rows.length === 0) throw new NotFoundError(`Mailbox "${name}" does not exist`);
  }

  /**
   * Renames a mailbox and the mailboxes below it (RFC 9051 §6.3.6). Renaming INBOX moves its
   * messages to a new mailbox and leaves INBOX, empty, in place. A new name gets a new
   * UIDVALIDITY: a client must not take the old UIDs for the new name. Missing superiors of
   * the new name are created (§6.3.6: "SHOULD create any superior hierarchical names"), as
   * CREATE does; a mailbox cannot move below itself ("a" to "a/b").
   */
  async rename(accountId: number, from: string, to: string): Promise<void> {
    const source = canonicalMailboxName(from);
    const target = validateMailboxName(to);
    if (target === "INBOX") throw new ConflictError(`Mailbox "INBOX" already exists`);
    if (source !== "INBOX" && target.startsWith(`${source}/`)) {
      throw new InvalidInputError(`Mailbox "${source}" cannot move below itself`);
    }
    await this.sql.begin(async (tx) => {
      const [box] = await tx<{ id: number }[]>`
        select id from mailboxes where account_id = ${accountId} and name = ${source}
        for update`;
      if (!box) throw new NotFoundError(`Mailbox "${from}" does not exist`);
      const [taken] = await tx`
        select 1 from mailboxes where account_id = ${accountId} and name = ${target}`;
      if (taken) throw new ConflictError(`Mailbox "${target}" already exists`);
      if (source === "INBOX") {
        const [created] = await tx<{ id: number }[]>`
          insert into mailboxes (account_id, name) values (${accountId}, ${target}) returning id`;
        const entries = await tx<{ uid: number }[]>`
          select uid from mailbox_messages where mailbox_id = ${box.id} order by uid`;
        if (entries.length > 0) {
          await tx`
            insert into mailbox_messages (mailbox_id, uid, message_id, flags, modseq, size, internal_date)
            select ${created!.id}, row_number() over (order by uid), message_id, flags, 1, size,
                   internal_date
            from mailbox_messages where mailbox_id = ${box.id}`;
          await tx`update mailboxes set uid_next = ${entries.length + 1} where id = ${created!.id}`;
          await tx`delete from mailbox_messages where mailbox_id = ${box.id}`;
          await tx`update mailboxes set highest_modseq = highest_modseq + 1 where id = ${box.id}`;
        }
      } else {
        // The mailbox and everything below it: "a" → "b" renames "a/x" to "b/x".
        await tx`
          update mailboxes
          set name = ${target} || substr(name, char_length(${source}) + 1),
              uid_validity = nextval('uid_validity_seq')
          where account_id = ${accountId}
            and (name = ${source} or starts_with(name, ${source + "/"}))`;
      }
      // After the move, so that "a/x" to "a" (a level once "a" was deleted) finds "a" free.
      const levels = target.split("/");
      for (let i = 1; i < levels.length; i++) {
        await tx`
          insert into mailboxes (account_id, name)
          values (${accountId}, ${levels.slice(0, i).join("/")})
          on conflict (account_id, name) do nothing`;
      }
    });
  }

  /**
   * Deletes a mailbox and its messages (RFC 9051 §6.3.5). INBOX cannot be deleted. The
   * mailboxes below it stay (§6.3.5: DELETE "MUST NOT remove inferior hierarchical names"),
   * and its name becomes a level of the hierarchy that is no mailbox, which LIST shows as
   * \NonExistent or \Noselect — the RFC's "MAY allow the DELETE command, but it sets the
   * \Noselect mailbox name attribute", as in its second example (A84–A86).
   */
  async remove(accountId: number, name: string): Promise<void> {
    const canonical = canonicalMailboxName(name);
    if (canonical === "INBOX") throw new InvalidInputError("INBOX cannot be deleted");
    await this.sql.begin(async (tx) => {
      const [box] = await tx<{ id: number }[]>`
        select id from mailboxes where account_id = ${accountId} and name = ${canonical}`;
      if (!box) throw new NotFoundError(`Mailbox "${name}" does not exist`);
      await removeIn(tx, box.id, null, { onlyDeleted: false });
      await tx`delete from mailboxes where id = ${box.id}`;
    });
  }
}
