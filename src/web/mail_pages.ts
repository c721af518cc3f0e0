/**
 * The reads behind the webmail's mail screens: folders with unread counts, and one page of a
 * folder's messages, newest first, with their cached descriptions (src/store/messages.ts
 * `readCaches`: one query, decrypted in parallel, kept in memory). The message bytes are never
 * read for a list.
 *
 * Cost does not grow with the mailbox: pages are found by UID (keyset: "older than UID n",
 * "newer than UID n", on the primary key) rather than by offset, there is no total count, and
 * unread counts come from a partial index of unseen entries (migrations/0019).
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

/** Where a page starts: the newest messages, or those older or newer than a UID. */
export type PageCursor =
  | { readonly before?: undefined; readonly after?: undefined }
  | { readonly before: number; readonly after?: undefined }
  | { readonly after: number; readonly before?: undefined };

/** One page of a folder. */
export interface MessagePage {
  /** Newest first. */
  readonly rows: readonly MessageRow[];
  /** The cursor of the next older page, or null when this one reaches the oldest message. */
  readonly older: number | null;
  /** The cursor of the next newer page, or null when this one starts at the newest. */
  readonly newer: number | null;
}

/** Folders in display order: INBOX, the special-use ones, then the others by name. */
export async function folders(store: Store, sql: Sql, accountId: number): Promise<FolderEntry[]> {
  const boxes = await store.mailboxes.list(accountId);
  // The predicate is the partial index's (migrations/0019), so only unseen entries are read.
  const counts = await sql<{ mailbox_id: number; unseen: number }[]>`
    select mailbox_id, count(*)::int as unseen from mailbox_messages
    where mailbox_id = any(${boxes.map((b) => b.id)}::bigint[])
      and not ('\\Seen' = any (flags))
    group by mailbox_id`;
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
    }));
}

/** A page of a mailbox, newest (highest UID) first: the newest, or after `cursor`. */
export async function messagePage(
  store: Store,
  accountId: number,
  mailbox: Mailbox,
  cursor: PageCursor = {},
): Promise<MessagePage> {
  const sql = store.sql;
  type Row = {
    uid: number;
    message_id: number;
    flags: string[];
    size: number;
    internal_date: Date;
  };
  // One more than a page tells whether there is more in that direction.
  const take = PAGE_SIZE + 1;
  let rows: Row[];
  let more: boolean;
  if (cursor.after !== undefined) {
    rows = [
      ...await sql<Row[]>`
        select uid, message_id, flags, size, internal_date from mailbox_messages
        where mailbox_id = ${mailbox.id} and uid > ${cursor.after}
        order by uid limit ${take}`,
    ];
    more = rows.length === take;
    rows = rows.slice(0, PAGE_SIZE).reverse();
  } else {
    rows = [
      ...await sql<Row[]>`
        select uid, message_id, flags, size, internal_date from mailbox_messages
        where mailbox_id = ${mailbox.id} and uid < ${cursor.before ?? 2 ** 53}
        order by uid desc limit ${take}`,
    ];
    more = rows.length === take;
    rows = rows.slice(0, PAGE_SIZE);
  }
  const newest = rows[0] ? Number(rows[0].uid) : null;
  const oldest = rows.at(-1) ? Number(rows.at(-1)!.uid) : null;
  const exists = async (where: "older" | "newer", uid: number) => {
    const [row] = where === "older"
      ? await sql`select 1 from mailbox_messages
                  where mailbox_id = ${mailbox.id} and uid < ${uid} limit 1`
      : await sql`select 1 from mailbox_messages
                  where mailbox_id = ${mailbox.id} and uid > ${uid} limit 1`;
    return row !== undefined;
  };
  const [hasOlder, hasNewer] = await Promise.all([
    oldest === null ? false : cursor.after === undefined ? more : exists("older", oldest),
    newest === null
      ? false
      : cursor.after !== undefined
      ? more
      : cursor.before === undefined
      ? false
      : exists("newer", newest),
  ]);
  const caches = await store.messages.readCaches(accountId, rows.map((r) => Number(r.message_id)));
  return {
    older: hasOlder ? oldest : null,
    newer: hasNewer ? newest : null,
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
