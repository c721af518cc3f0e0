/**
 * Mailbox change announcements, for IMAP IDLE and the webmail: "mailbox N changed, look again".
 *
 * Two sources feed the same subscribers: the store's own writes in this process (announced
 * after their transaction committed), and, on PostgreSQL, `LISTEN fumi_mailbox`, which carries
 * the `pg_notify` of every Fumi process sharing the database. The embedded database serves one
 * process, so its own announcements are all there is.
 *
 * An announcement carries no content, only a mailbox id; a subscriber re-reads what changed.
 * So a duplicate (the same change heard twice) costs a query and is otherwise harmless. What
 * could be lost while the LISTEN connection was down is announced for every mailbox followed
 * once it is back, and IMAP views also look again when their last look is a second old.
 *
 * @module
 */

import type { Logger } from "../ops/log.ts";
import type { Sql } from "./db.ts";

/** Subscribers per mailbox, fed in process and (on PostgreSQL) by LISTEN. */
export class MailboxChanges {
  readonly #subscribers = new Map<number, Set<() => void>>();
  #unlisten: (() => Promise<void>) | null = null;

  /** Calls `onChange` whenever mailbox `mailboxId` changes; returns the unsubscribe function. */
  subscribe(mailboxId: number, onChange: () => void): () => void {
    let set = this.#subscribers.get(mailboxId);
    if (!set) this.#subscribers.set(mailboxId, set = new Set());
    set.add(onChange);
    return () => {
      set.delete(onChange);
      if (set.size === 0) this.#subscribers.delete(mailboxId);
    };
  }

  /** Tells the subscribers of these mailboxes (after a commit). */
  announce(mailboxIds: Iterable<number>): void {
    for (const id of new Set(mailboxIds)) {
      for (const onChange of this.#subscribers.get(id) ?? []) onChange();
    }
  }

  /** Follows other processes' changes through LISTEN (PostgreSQL only). */
  async listen(sql: Sql, log: Logger): Promise<void> {
    if (this.#unlisten) return;
    const onNotify = (payload: string) => {
      const id = Number(payload);
      if (Number.isSafeInteger(id)) this.announce([id]);
      else log.warn("ignored a malformed mailbox notification");
    };
    // postgres.js listens again after a lost connection; what was notified meanwhile is
    // lost, so every followed mailbox is announced as changed, to be looked at again.
    const onListen = () => this.announce([...this.#subscribers.keys()]);
    const { unlisten } = await sql.listen("fumi_mailbox", onNotify, onListen);
    this.#unlisten = unlisten;
  }

  /** Stops following other processes. */
  async close(): Promise<void> {
    const unlisten = this.#unlisten;
    this.#unlisten = null;
    await unlisten?.();
  }

  /** Mailboxes with subscribers now (for tests and metrics). */
  get watched(): number {
    return this.#subscribers.size;
  }
}
