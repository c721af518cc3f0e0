/**
 * Removing entries from a mailbox, and announcing a mailbox's change: shared by expunge, move
 * (src/store/messages.ts) and mailbox deletion (src/store/mailboxes.ts).
 *
 * @module
 */

import { NotFoundError } from "../util/errors.ts";
import type { TxSql } from "./db.ts";

/** Removes entries of a mailbox (expunge, move, mailbox deletion); their UIDs, ascending. */
export async function removeIn(
  tx: TxSql,
  mailboxId: number,
  uids: readonly number[] | null,
  options: { onlyDeleted: boolean },
): Promise<number[]> {
  const [box] = await tx<{ highest_modseq: number }[]>`
    select highest_modseq from mailboxes where id = ${mailboxId} for update`;
  if (!box) throw new NotFoundError(`No mailbox ${mailboxId}`);
  // Lock the messages before deleting their entries: under READ COMMITTED two transactions
  // removing a message's last two entries (from different mailboxes, so under different
  // mailbox locks) would each still see the other's entry and neither would free the message.
  // Locked in id order; `no key update` still lets a concurrent copy reference them.
  await tx`
    select id from messages
    where id in (
      select message_id from mailbox_messages
      where mailbox_id = ${mailboxId}
        and (${!options.onlyDeleted} or '\\Deleted' = any(flags))
        and (${uids === null} or uid = any(${(uids ?? []) as number[]}::bigint[])))
    order by id for no key update`;
  const removed = await tx<{ uid: number; message_id: number }[]>`
    delete from mailbox_messages
    where mailbox_id = ${mailboxId}
      and (${!options.onlyDeleted} or '\\Deleted' = any(flags))
      and (${uids === null} or uid = any(${(uids ?? []) as number[]}::bigint[]))
    returning uid, message_id`;
  if (removed.length === 0) return [];
  const modseq = box.highest_modseq + 1;
  const uidList = removed.map((r) => r.uid).sort((a, b) => a - b);
  await tx`insert into expunged_messages (mailbox_id, uid, modseq)
           select ${mailboxId}, u, ${modseq} from unnest(${uidList}::bigint[]) u
           on conflict (mailbox_id, uid) do update set modseq = excluded.modseq`;
  await tx`update mailboxes set highest_modseq = ${modseq} where id = ${mailboxId}`;
  // Messages no mailbox holds any more leave the store and the quota.
  const orphans = await tx<{ account_id: number; size: number }[]>`
    delete from messages m
    where m.id = any(${[...new Set(removed.map((r) => r.message_id))]}::bigint[])
      and not exists (select 1 from mailbox_messages mm where mm.message_id = m.id)
    returning m.account_id, m.size`;
  for (const orphan of orphans) {
    await tx`update accounts set used_bytes = greatest(used_bytes - ${orphan.size}, 0)
             where id = ${orphan.account_id}`;
  }
  await notify(tx, mailboxId);
  return uidList;
}

/** Announces a change of a mailbox on commit (IMAP IDLE, the webmail). */
export async function notify(tx: TxSql, mailboxId: number): Promise<void> {
  await tx`select pg_notify('fumi_mailbox', ${String(mailboxId)})`;
}
