/**
 * The selected mailbox of one session (RFC 9051 §6.3.2, §7): its messages as the client knows
 * them (message sequence number = index + 1), their flags and modseqs, and the refresh that
 * tells the client what changed since (EXPUNGE or VANISHED, EXISTS, FETCH FLAGS).
 *
 * Invariants:
 * - The client's view changes only through responses this class produces: a message expunged
 *   by another session keeps its number until an EXPUNGE (or VANISHED) for it is sent, which
 *   happens only when the command allows it (RFC 9051 §7.5.1: not during FETCH, STORE or
 *   SEARCH), so sequence numbers never shift under a client's feet.
 * - Two positions are kept: `#seenModseq` (flags and new messages read up to it) and
 *   `#expungeModseq` (expunges announced up to it). Both move only to a HIGHESTMODSEQ read
 *   before the queries that depend on it, so a change committed meanwhile is read again next
 *   time, never lost; duplicates are harmless (an unchanged flag list sends nothing, a UID no
 *   longer listed is not expunged twice).
 * - A change announcement (store.changes) only marks the view stale and wakes IDLE; the
 *   store is read at the points above.
 *
 * @module
 */

import type { Mailbox, MessageInfo } from "../../store/mod.ts";
import { formatFlags, formatNumberSet } from "../proto/mod.ts";
import type { ImapDeps } from "./deps.ts";

/** What a refresh may announce and how (the session's enabled extensions). */
export interface RefreshOptions {
  /** EXPUNGE (or VANISHED) may be sent now. */
  readonly expunge: boolean;
  /** QRESYNC enabled: VANISHED instead of EXPUNGE (RFC 7162 §3.2.10). */
  readonly qresync: boolean;
  /** CONDSTORE enabled: FETCH updates carry MODSEQ and UID (RFC 7162 §3.1.4). */
  readonly condstore: boolean;
}

/** The selected mailbox. */
export class SelectedMailbox {
  readonly mailbox: Mailbox;
  readonly readOnly: boolean;
  #messages: MessageInfo[];
  #seenModseq: number;
  #expungeModseq: number;
  #stale = false;
  #wake: (() => void) | null = null;
  readonly #unsubscribe: () => void;

  private constructor(
    readonly deps: ImapDeps,
    readonly accountId: number,
    mailbox: Mailbox,
    messages: MessageInfo[],
    readOnly: boolean,
  ) {
    this.mailbox = mailbox;
    this.readOnly = readOnly;
    this.#messages = messages;
    this.#seenModseq = mailbox.highestModseq;
    this.#expungeModseq = mailbox.highestModseq;
    this.#unsubscribe = deps.subscribe(mailbox.id, () => {
      this.#stale = true;
      this.#wake?.();
    });
  }

  /** Opens `mailbox` for a session: reads its messages and starts following its changes. */
  static async open(
    deps: ImapDeps,
    accountId: number,
    mailbox: Mailbox,
    readOnly: boolean,
  ): Promise<SelectedMailbox> {
    const messages = await deps.messages.list(mailbox.id);
    return new SelectedMailbox(deps, accountId, mailbox, messages, readOnly);
  }

  /** Stops following changes (CLOSE, UNSELECT, another SELECT, logout). */
  close(): void {
    this.#unsubscribe();
    this.#wake?.();
  }

  /** The messages as the client knows them, in MSN order. */
  get messages(): readonly MessageInfo[] {
    return this.#messages;
  }

  /** Number of messages the client knows (its EXISTS). */
  get exists(): number {
    return this.#messages.length;
  }

  /** The largest modseq this view has read (HIGHESTMODSEQ for the client). */
  get highestModseq(): number {
    return this.#seenModseq;
  }

  /** UIDNEXT as the client may assume it. */
  get uidNext(): number {
    const last = this.#messages[this.#messages.length - 1];
    return Math.max(this.mailbox.uidNext, last === undefined ? 1 : last.uid + 1);
  }

  /** True when a change was announced since the last refresh. */
  get stale(): boolean {
    return this.#stale;
  }

  /** Resolves at the next change announcement, or after `ms` (IDLE). */
  waitForChange(ms: number): Promise<void> {
    this.cancelWait();
    if (this.#stale) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** Ends a pending {@link waitForChange} now (its timer too). */
  cancelWait(): void {
    this.#wake?.();
  }

  /** The 1-based MSN of `uid`, or 0 when the client does not know it. */
  msnOf(uid: number): number {
    let low = 0;
    let high = this.#messages.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const at = this.#messages[middle]!.uid;
      if (at === uid) return middle + 1;
      if (at < uid) low = middle + 1;
      else high = middle - 1;
    }
    return 0;
  }

  /** Records flags this session set itself (its STORE), so a refresh does not repeat them. */
  noteFlags(uid: number, flags: readonly string[], modseq: number): void {
    const msn = this.msnOf(uid);
    if (msn === 0) return;
    this.#messages[msn - 1] = { ...this.#messages[msn - 1]!, flags, modseq };
  }

  /**
   * Reads what changed and returns the untagged responses that tell the client (RFC 9051
   * §7.4.1 EXPUNGE, §7.3.1 EXISTS, §7.5.2 FETCH; RFC 7162 §3.2.10 VANISHED).
   */
  async refresh(options: RefreshOptions): Promise<string[]> {
    this.#stale = false;
    const out: string[] = [];
    const current = await this.deps.mailboxes.find(this.accountId, this.mailbox.name);
    const snapshot = current !== null && current.id === this.mailbox.id
      ? current.highestModseq
      : null;
    if (options.expunge) {
      const gone = new Set(
        await this.deps.messages.expungedSince(this.mailbox.id, this.#expungeModseq),
      );
      if (gone.size > 0) {
        const vanished: number[] = [];
        // Highest number first: each EXPUNGE renumbers only the messages after it.
        for (let i = this.#messages.length - 1; i >= 0; i--) {
          const uid = this.#messages[i]!.uid;
          if (!gone.has(uid)) continue;
          if (options.qresync) vanished.unshift(uid);
          else out.push(`* ${i + 1} EXPUNGE\r\n`);
        }
        if (vanished.length > 0) out.push(`* VANISHED ${formatNumberSet(vanished)}\r\n`);
        this.#messages = this.#messages.filter((m) => !gone.has(m.uid));
      }
      if (snapshot !== null) this.#expungeModseq = Math.max(this.#expungeModseq, snapshot);
    }
    const changed = await this.deps.messages.list(this.mailbox.id, {
      changedSince: this.#seenModseq,
    });
    const last = this.#messages[this.#messages.length - 1]?.uid ?? 0;
    let added = false;
    let readUpTo = this.#seenModseq;
    for (const info of changed) {
      readUpTo = Math.max(readUpTo, info.modseq);
      if (info.uid > last) {
        this.#messages.push(info);
        added = true;
        continue;
      }
      const msn = this.msnOf(info.uid);
      if (msn === 0) continue; // expunged and announced, or never known
      const known = this.#messages[msn - 1]!;
      this.#messages[msn - 1] = info;
      if (sameFlags(known.flags, info.flags)) continue;
      const extra = options.condstore ? ` UID ${info.uid} MODSEQ (${info.modseq})` : "";
      out.push(`* ${msn} FETCH (FLAGS ${formatFlags(info.flags)}${extra})\r\n`);
    }
    if (added) out.push(`* ${this.#messages.length} EXISTS\r\n`);
    // A HIGHESTMODSEQ read before the list is safe to resume from; rows read are too.
    this.#seenModseq = snapshot !== null ? Math.max(this.#seenModseq, snapshot) : readUpTo;
    return out;
  }
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((f) => set.has(f));
}
