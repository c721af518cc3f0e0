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
 * - The messages come from the mailbox's view shared by every session of the process
 *   (views.ts). A refresh compares the client's list with the view's latest snapshot, which
 *   holds every change up to its HIGHESTMODSEQ, and tells the difference: a UID gone is an
 *   expunge, a row that is a different object with different flags is a FETCH, a UID above
 *   the last is new (EXISTS). Comparing lists rather than replaying events makes duplicates
 *   and lost wake-ups harmless.
 * - While the client's list equals the snapshot it is the snapshot's own array: an idle
 *   session costs no memory per message. It takes a copy only to keep what the snapshot no
 *   longer shows (an expunge it may not announce yet, its own STORE's flags) and drops the
 *   copy at the next refresh that can.
 * - A change announcement only marks the session stale and wakes IDLE; the store is read by
 *   the view, once for all the sessions.
 *
 * @module
 */

import type { Mailbox, MessageInfo } from "../../store/mod.ts";
import { formatFlags, formatNumberSet } from "../proto/mod.ts";
import type { MailboxView, MailboxViews, Snapshot } from "./views.ts";

/** What a refresh may announce and how (the session's enabled extensions). */
export interface RefreshOptions {
  /** EXPUNGE (or VANISHED) may be sent now. */
  readonly expunge: boolean;
  /** QRESYNC enabled: VANISHED instead of EXPUNGE (RFC 7162 §3.2.10). */
  readonly qresync: boolean;
  /** CONDSTORE enabled: FETCH updates carry MODSEQ and UID (RFC 7162 §3.1.4). */
  readonly condstore: boolean;
}

/**
 * How old a shared snapshot may be when a command ends: announcements keep views current, and
 * this bounds how long a lost one (a dropped LISTEN connection, say) can go unnoticed.
 */
const MAX_SNAPSHOT_AGE_MS = 1_000;

/** The selected mailbox. */
export class SelectedMailbox {
  readonly mailbox: Mailbox;
  readonly readOnly: boolean;
  readonly #views: MailboxViews;
  readonly #view: MailboxView;
  /** The last shared snapshot merged into the client's view. */
  #told: Snapshot;
  /**
   * The client's view: `#told.messages` itself while the two agree (nothing of its own), or a
   * copy while it keeps what the client was not yet told (an expunge that must wait, a flag
   * change of its own STORE that the snapshot does not show yet).
   */
  #messages: readonly MessageInfo[];
  #stale = false;
  #wake: (() => void) | null = null;
  readonly #stopListening: () => void;

  private constructor(
    views: MailboxViews,
    view: MailboxView,
    snapshot: Snapshot,
    mailbox: Mailbox,
    readOnly: boolean,
  ) {
    this.mailbox = mailbox;
    this.readOnly = readOnly;
    this.#views = views;
    this.#view = view;
    this.#told = snapshot;
    this.#messages = snapshot.messages;
    this.#stopListening = view.onChange(() => {
      this.#stale = true;
      this.#wake?.();
    });
  }

  /** Opens `mailbox` for a session: its shared view, current, followed from now on. */
  static async open(
    views: MailboxViews,
    mailbox: Mailbox,
    readOnly: boolean,
  ): Promise<SelectedMailbox> {
    const view = await views.acquire(mailbox.id);
    try {
      const snapshot = await view.current(MAX_SNAPSHOT_AGE_MS);
      return new SelectedMailbox(views, view, snapshot, mailbox, readOnly);
    } catch (error) {
      views.release(view);
      throw error;
    }
  }

  /** Stops following changes (CLOSE, UNSELECT, another SELECT, logout). */
  close(): void {
    this.#stopListening();
    this.#views.release(this.#view);
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
    return this.#told.modseq;
  }

  /** UIDNEXT as the client may assume it. */
  get uidNext(): number {
    const last = this.#messages[this.#messages.length - 1];
    return Math.max(this.mailbox.uidNext, last === undefined ? 1 : last.uid + 1);
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
    // Copy on write: the shared snapshot is never changed.
    const own = this.#messages === this.#told.messages
      ? this.#messages.slice()
      : this.#messages as MessageInfo[];
    own[msn - 1] = { ...own[msn - 1]!, flags, modseq };
    this.#messages = own;
  }

  /**
   * Reads what changed and returns the untagged responses that tell the client (RFC 9051
   * §7.4.1 EXPUNGE, §7.3.1 EXISTS, §7.5.2 FETCH; RFC 7162 §3.2.10 VANISHED).
   */
  async refresh(options: RefreshOptions): Promise<string[]> {
    this.#stale = false;
    const next = await this.#view.current(MAX_SNAPSHOT_AGE_MS);
    const known = this.#messages;
    if (known === next.messages) {
      this.#told = next;
      return [];
    }
    const fresh = next.messages;
    const view: MessageInfo[] = [];
    const expunged: number[] = []; // MSNs, ascending
    const flagged: number[] = []; // indexes into `view`
    let own = false;
    let j = 0;
    for (const [i, mine] of known.entries()) {
      while (j < fresh.length && fresh[j]!.uid < mine.uid) j++;
      const now = fresh[j];
      if (now === undefined || now.uid !== mine.uid) {
        // Expunged: told now where the command allows it, else kept until then.
        if (options.expunge) {
          expunged.push(i + 1);
        } else {
          view.push(mine);
          own = true;
        }
        continue;
      }
      j++;
      if (now.modseq < mine.modseq) {
        // This session's own STORE, newer than the snapshot: keep what the client was told.
        view.push(mine);
        own = true;
        continue;
      }
      view.push(now);
      if (now !== mine && !sameFlags(mine.flags, now.flags)) flagged.push(view.length - 1);
    }
    const stillKnown = view.length;
    for (; j < fresh.length; j++) {
      if (fresh[j]!.uid > (view[view.length - 1]?.uid ?? 0)) view.push(fresh[j]!);
    }
    const out: string[] = [];
    if (options.qresync && expunged.length > 0) {
      out.push(`* VANISHED ${formatNumberSet(expunged.map((msn) => known[msn - 1]!.uid))}\r\n`);
    } else {
      // Highest number first: each EXPUNGE renumbers only the messages after it.
      for (const msn of expunged.reverse()) out.push(`* ${msn} EXPUNGE\r\n`);
    }
    for (const index of flagged) {
      const info = view[index]!;
      const extra = options.condstore ? ` UID ${info.uid} MODSEQ (${info.modseq})` : "";
      out.push(`* ${index + 1} FETCH (FLAGS ${formatFlags(info.flags)}${extra})\r\n`);
    }
    if (view.length > stillKnown) out.push(`* ${view.length} EXISTS\r\n`);
    this.#told = next;
    this.#messages = !own && view.length === fresh.length ? fresh : view;
    return out;
  }
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((f) => set.has(f));
}
