/**
 * Mailbox views shared by every IMAP session of this process that selects the same mailbox:
 * one list of the mailbox's messages (UID, flags, modseq, size, date), read from the store once
 * and kept current, instead of a copy per session. Ten thousand sessions idling on a
 * 10,000-message INBOX hold one list, and a delivery is read once, not once per session.
 *
 * Invariants:
 * - A {@link Snapshot} never changes: a refresh makes a new one, sharing the unchanged
 *   {@link MessageInfo} objects (themselves never changed), so a session can keep the snapshot
 *   it last told its client about, compare it with the next one, and hold no copy of its own
 *   while the two agree (selected.ts).
 * - The store is read only when the view is stale (a change was announced, in this process or
 *   through LISTEN from another) or older than the age the caller accepts, and then by one
 *   refresh at a time, whoever asks: callers that ask while one is running wait for it, and
 *   run another only when a change was announced after it began, so every caller gets a
 *   snapshot read after the last change it could know of.
 * - Each refresh reads HIGHESTMODSEQ, the rows changed and the UIDs expunged after the
 *   snapshot's modseq in one statement, so in one database snapshot: a change committed
 *   meanwhile is read by the next refresh, never lost (RFC 7162 §3.1.2: modseqs only grow). A message whose UID is above every known
 *   one is new; UIDs and modseqs are allocated under the mailbox row's lock, so they commit
 *   in order and a lower UID never turns up later.
 * - A view lives while a session holds it and lingers a while after the last one lets go, so
 *   a client that SELECTs the same mailbox again (or reconnects) does not re-read it.
 *
 * @module
 */

import type { MessageInfo, Store } from "../../store/mod.ts";

/** The mailbox's messages at one point. */
export interface Snapshot {
  /** In UID order. Never changed: a refresh makes a new array. */
  readonly messages: readonly MessageInfo[];
  /** HIGHESTMODSEQ read before the rows: every change up to it is in `messages`. */
  readonly modseq: number;
  /** Counts refreshes that removed messages: equal counts, no message removed between. */
  readonly expunges: number;
  /** When it was read (performance.now()). */
  readonly readAt: number;
}

/** What the views read and follow: the store's, or fakes in tests. */
export interface ViewDeps {
  readonly messages: Pick<Store["messages"], "changesSince">;
  readonly changes: Pick<Store["changes"], "subscribe">;
}

/** How long a view nobody holds is kept. */
const LINGER_MS = 60_000;
/** Views nobody holds kept at most; the oldest goes first. */
const MAX_LINGERING = 256;

/** One mailbox's shared view; see the module documentation. */
export class MailboxView {
  /** Nothing read yet: the first refresh reads every message. */
  #snapshot: Snapshot = { messages: [], modseq: 0, expunges: 0, readAt: -Infinity };
  /** A change was announced after the last refresh began (or nothing was read yet). */
  #stale = true;
  #running: Promise<void> | null = null;
  #holders = 0;
  readonly #listeners = new Set<() => void>();
  readonly #unsubscribe: () => void;

  /** Follows the mailbox's changes from now on; {@link current} reads it. */
  constructor(private readonly deps: ViewDeps, readonly mailboxId: number) {
    this.#unsubscribe = deps.changes.subscribe(mailboxId, () => {
      this.#stale = true;
      for (const listener of this.#listeners) listener();
    });
  }

  /** The last snapshot read. */
  get snapshot(): Snapshot {
    return this.#snapshot;
  }

  /** True when a change was announced since the last refresh began. */
  get stale(): boolean {
    return this.#stale;
  }

  /** Calls `listener` at each change announcement; returns the function that stops it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * A snapshot read after every change announced so far, and no older than `maxAgeMs` (a
   * lost announcement is found that way). Reads the store only when it must.
   */
  async current(maxAgeMs: number): Promise<Snapshot> {
    if (performance.now() - this.#snapshot.readAt > maxAgeMs) this.#stale = true;
    while (this.#stale || this.#running !== null) {
      if (this.#running === null) {
        this.#stale = false;
        this.#running = this.#refresh().finally(() => this.#running = null);
      }
      await this.#running;
    }
    return this.#snapshot;
  }

  async #refresh(): Promise<void> {
    const before = this.#snapshot;
    // One snapshot: every change up to its HIGHESTMODSEQ is in the rows it returns. A view
    // with no messages has nothing to remove, so it asks for no expunged UIDs.
    const { highestModseq, changed, expunged } = await this.deps.messages.changesSince(
      this.mailboxId,
      before.modseq,
      before.messages.length === 0 ? null : before.modseq,
    );
    // Deleted meanwhile: nothing more will change; the sessions find out at their next command.
    if (highestModseq === null) return;
    let messages = before.messages;
    let expunges = before.expunges;
    if (expunged.length > 0) {
      const removed = new Set(expunged);
      const kept = messages.filter((m) => !removed.has(m.uid));
      if (kept.length < messages.length) [messages, expunges] = [kept, expunges + 1];
    }
    if (changed.length > 0) messages = merge(messages, changed);
    this.#snapshot = {
      messages: messages === before.messages ? messages : Object.freeze(messages),
      modseq: Math.max(before.modseq, highestModseq),
      expunges,
      readAt: performance.now(),
    };
  }

  /** @internal the registry's count of sessions holding the view. */
  hold(delta: 1 | -1): number {
    return this.#holders += delta;
  }

  /** @internal stops following the mailbox (the registry drops the view). */
  dispose(): void {
    this.#unsubscribe();
    for (const listener of this.#listeners) listener();
    this.#listeners.clear();
  }
}

/**
 * `known` with the rows of `changed` (both in UID order) put in place: a known UID takes the
 * new row, a UID above every known one is appended, anything else (expunged meanwhile) is
 * dropped.
 */
function merge(known: readonly MessageInfo[], changed: readonly MessageInfo[]): MessageInfo[] {
  const out = known.slice();
  const last = known[known.length - 1]?.uid ?? 0;
  let low = 0;
  for (const row of changed) {
    if (row.uid > last) {
      out.push(row);
      continue;
    }
    let high = known.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const uid = known[middle]!.uid;
      if (uid === row.uid) {
        out[middle] = row;
        low = middle + 1;
        break;
      }
      if (uid < row.uid) low = middle + 1;
      else high = middle - 1;
    }
  }
  return out;
}

/** The views of this process, one per mailbox; see the module documentation. */
export class MailboxViews {
  readonly #views = new Map<number, Promise<MailboxView>>();
  /**
   * Views nobody holds, with when they were let go, oldest first. They are dropped when the
   * registry is next used after {@link LINGER_MS}, or beyond {@link MAX_LINGERING}: no timer
   * keeps the process (or a test) waiting for them.
   */
  readonly #lingering = new Map<number, number>();

  constructor(private readonly deps: ViewDeps) {}

  /** The view of `mailboxId`, read first if this process has none; release it when done. */
  async acquire(mailboxId: number): Promise<MailboxView> {
    this.#lingering.delete(mailboxId);
    this.#sweep();
    let pending = this.#views.get(mailboxId);
    if (pending === undefined) {
      pending = this.#open(mailboxId);
      this.#views.set(mailboxId, pending);
    }
    let view: MailboxView;
    try {
      view = await pending;
    } catch (error) {
      if (this.#views.get(mailboxId) === pending) this.#views.delete(mailboxId);
      throw error;
    }
    view.hold(1);
    return view;
  }

  /** Lets go of a view {@link acquire} gave. */
  release(view: MailboxView): void {
    if (view.hold(-1) === 0) this.#lingering.set(view.mailboxId, performance.now());
    this.#sweep();
  }

  /** Views in this process (held or lingering), for tests and metrics. */
  get size(): number {
    return this.#views.size;
  }

  /** Drops every view nobody holds. */
  clear(): void {
    for (const mailboxId of [...this.#lingering.keys()]) this.#drop(mailboxId);
  }

  async #open(mailboxId: number): Promise<MailboxView> {
    const view = new MailboxView(this.deps, mailboxId);
    try {
      await view.current(Infinity);
    } catch (error) {
      view.dispose();
      throw error;
    }
    return view;
  }

  #sweep(): void {
    const expired = performance.now() - LINGER_MS;
    for (const [mailboxId, since] of this.#lingering) {
      if (since > expired && this.#lingering.size <= MAX_LINGERING) break;
      this.#drop(mailboxId);
    }
  }

  #drop(mailboxId: number): void {
    this.#lingering.delete(mailboxId);
    const pending = this.#views.get(mailboxId);
    this.#views.delete(mailboxId);
    pending?.then((view) => view.dispose(), () => {});
  }
}
