/**
 * The reads behind the webmail's mail screens: folders with unread counts, and one page of a
 * folder's messages, newest first, with their cached descriptions (src/store/messages.ts
 * `readCaches`: one query, decrypted in parallel, kept in memory). The message bytes are never
 * read for a list.
 *
 * @module
 */

import type { BodyPart } from "../mime/mod.ts";
import type { Mailbox, Sql, Store } from "../store/mod.ts";

/** Messages per page of a list. */
export const PAGE_SIZE = 50;

/** A folder in the folder list. */
export interface FolderEntry {
  readonly mailbox: Mailbox;
  readonly unseen: number;
  readonly messages: number;
}

/** A row of the message list. */
export interface MessageRow {
  readonly uid: number;
  readonly from: string;
  readonly subject: string;
  /** The Date header, else the arrival time. */
  readonly date: Date;
  readonly flags: readonly string[];
  readonly size: number;
  readonly hasAttachment: boolean;
}

/** One page of a folder. */
export interface MessagePage {
  readonly rows: readonly MessageRow[];
  /** 1-based. */
  readonly page: number;
  readonly pages: number;
  readonly total: number;
}

/** Folders in display order: INBOX, the special-use ones, then the others by name. */
export async function folders(store: Store, sql: Sql, accountId: number): Promise<FolderEntry[]> {
  const boxes = await store.mailboxes.list(accountId);
  const counts = await sql<{ mailbox_id: number; messages: number; unseen: number }[]>`
    select m.mailbox_id, count(*)::int as messages,
           count(*) filter (where not ('\\Seen' = any(m.flags)))::int as unseen
    from mailbox_messages m join mailboxes b on b.id = m.mailbox_id
    where b.account_id = ${accountId}
    group by m.mailbox_id`;
  const byId = new Map(counts.map((c) => [Number(c.mailbox_id), c]));
  const rank = (b: Mailbox) => b.name === "INBOX" ? 0 : b.specialUse ? 1 : 2;
  const order = ["\\Drafts", "\\Sent", "\\Archive", "\\Junk", "\\Trash"];
  return boxes
    .sort((a, b) =>
      rank(a) - rank(b) ||
      order.indexOf(a.specialUse ?? "") - order.indexOf(b.specialUse ?? "") ||
      a.name.localeCompare(b.name)
    )
    .map((mailbox) => ({
      mailbox,
      unseen: byId.get(mailbox.id)?.unseen ?? 0,
      messages: byId.get(mailbox.id)?.messages ?? 0,
    }));
}

/** Page `page` (1-based) of a mailbox, newest (highest UID) first. */
export async function messagePage(
  store: Store,
  accountId: number,
  mailbox: Mailbox,
  page: number,
): Promise<MessagePage> {
  const sql = store.sql;
  const [count] = await sql<{ n: number }[]>`
    select count(*)::int as n from mailbox_messages where mailbox_id = ${mailbox.id}`;
  const total = count?.n ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const current = Math.min(Math.max(1, page), pages);
  // Newest first by UID: arrival order, served by the primary key's index.
  const rows = await sql<
    { uid: number; message_id: number; flags: string[]; size: number; internal_date: Date }[]
  >`
    select uid, message_id, flags, size, internal_date from mailbox_messages
    where mailbox_id = ${mailbox.id}
    order by uid desc limit ${PAGE_SIZE} offset ${(current - 1) * PAGE_SIZE}`;
  const caches = await store.messages.readCaches(accountId, rows.map((r) => Number(r.message_id)));
  return {
    page: current,
    pages,
    total,
    rows: rows.map((r) => {
      const cache = caches.get(Number(r.message_id));
      const date = cache?.summary.date;
      return {
        uid: Number(r.uid),
        from: cache?.summary.from ?? "",
        subject: cache?.summary.subject ?? "",
        date: date !== null && date !== undefined ? new Date(date) : r.internal_date,
        flags: r.flags,
        size: Number(r.size),
        hasAttachment: cache ? hasAttachment(cache.structure) : false,
      };
    }),
  };
}

/** True when a part below `part` is an attachment (by disposition, or not text or multipart). */
export function hasAttachment(part: BodyPart): boolean {
  if (part.parts) return part.parts.some(hasAttachment);
  if (part.disposition?.type.toLowerCase() === "attachment") return true;
  return part.type !== "text" && part.type !== "multipart";
}

/** The message with UID `uid` in a mailbox: its id and flags, or null. */
export async function findMessage(
  sql: Sql,
  mailboxId: number,
  uid: number,
): Promise<{ messageId: number; flags: string[]; internalDate: Date } | null> {
  const [row] = await sql<{ message_id: number; flags: string[]; internal_date: Date }[]>`
    select message_id, flags, internal_date from mailbox_messages
    where mailbox_id = ${mailboxId} and uid = ${uid}`;
  return row
    ? { messageId: Number(row.message_id), flags: row.flags, internalDate: row.internal_date }
    : null;
}
