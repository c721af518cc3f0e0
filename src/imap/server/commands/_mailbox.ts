/**
 * What the mailbox commands share: finding the signed-in account's mailbox by a client's
 * name, writing a name back, and the STATUS data (RFC 9051 §7.3.2) that STATUS and
 * LIST-STATUS send.
 *
 * A name is only ever looked up in the signed-in account: "bob@example.org/INBOX" or
 * "../bob" is a name in this user's namespace like any other, which does not exist.
 *
 * @module
 */

import type { Mailbox } from "../../../store/mod.ts";
import { astring, type StatusItem } from "../../proto/mod.ts";
import { ImapRefusal, no } from "../errors.ts";
import type { ImapSession } from "../session.ts";

const decoder = new TextDecoder();

/** The signed-in account's id (commands of the authenticated state only). */
export function accountId(session: ImapSession): number {
  const account = session.account;
  if (account === null) throw new Error("No account in an authenticated state");
  return account.id;
}

/** The mailbox named `raw` by the client, or null. */
export async function findMailbox(session: ImapSession, raw: string): Promise<Mailbox | null> {
  const name = session.mailboxName(raw);
  return await session.deps.mailboxes.find(accountId(session), name);
}

/** Like {@link findMailbox}, refusing with `NO [code]` when it does not exist. */
export async function getMailbox(
  session: ImapSession,
  raw: string,
  code: "NONEXISTENT" | "TRYCREATE" = "NONEXISTENT",
): Promise<Mailbox> {
  const mailbox = await findMailbox(session, raw);
  if (mailbox === null) throw new ImapRefusal(no("No such mailbox", code));
  return mailbox;
}

/** A mailbox name as an astring for this client (modified UTF-7 unless UTF-8 is on). */
export function nameData(session: ImapSession, name: string): string {
  return decoder.decode(astring(session.clientName(name), { utf8: session.utf8 }));
}

/** `* STATUS name (items)` (RFC 9051 §7.3.2). */
export async function statusResponse(
  session: ImapSession,
  mailbox: Mailbox,
  items: readonly StatusItem[],
): Promise<string> {
  const needsCounts = items.some((i) => ["MESSAGES", "UNSEEN", "DELETED", "SIZE"].includes(i));
  const counts = needsCounts ? await session.deps.mailboxes.counts(mailbox.id) : null;
  const values: string[] = [];
  for (const item of items) {
    const value = item === "MESSAGES"
      ? counts!.messages
      : item === "UIDNEXT"
      ? mailbox.uidNext
      : item === "UIDVALIDITY"
      ? mailbox.uidValidity
      : item === "UNSEEN"
      ? counts!.unseen
      : item === "DELETED"
      ? counts!.deleted
      : item === "SIZE"
      ? counts!.size
      : item === "RECENT"
      ? 0 // Fumi keeps no \Recent (RFC 9051 removed it)
      : item === "HIGHESTMODSEQ"
      ? mailbox.highestModseq
      : session.settings.maxMessageSize; // APPENDLIMIT (RFC 7889)
    values.push(`${item} ${value}`);
  }
  return `* STATUS ${nameData(session, mailbox.name)} (${values.join(" ")})\r\n`;
}
