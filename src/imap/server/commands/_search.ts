/**
 * What SEARCH, SORT and THREAD share: the charsets they accept, whether a key involves
 * MODSEQ, and the walk over the selected messages that match a key.
 *
 * Invariants of the walk (`matching`):
 * - The store is read in batches, one query per kind per round of a chunk of messages, and
 *   lazily: only what the tests ask for (FLAGGED FROM x reads no description of an unflagged
 *   message), each message's description and bytes at most once.
 * - The bytes held at once are bounded (BYTES_CHUNK_OCTETS per chunk, or one message).
 * - Other sessions get a turn of the event loop between chunks, whatever the key.
 * - A message expunged by another session (not yet announced) is skipped when the store no
 *   longer has what a test needs of it. Its description may still be in memory
 *   (src/store/description_cache.ts), and then it is tested as the session still sees it:
 *   RFC 2180 §4.1 lets a server keep serving a message expunged elsewhere.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { MessageCache, MessageInfo } from "../../../store/mod.ts";
import { NotFoundError } from "../../../util/errors.ts";
import type { SearchKey } from "../../proto/mod.ts";
import { type Completion, no } from "../errors.ts";
import { type LoadedMessage, matchesLoaded, searchNeeds, type Wants } from "../search.ts";
import type { ImapSession } from "../session.ts";
import { accountId } from "./_mailbox.ts";

/**
 * Messages tested between two turns given to the other sessions, and whose descriptions one
 * query reads.
 */
const CHUNK = 256;
/** The same, when the key (or THREAD) needs the messages' bytes. */
const BYTES_CHUNK = 32;
/** The most message octets read for one chunk (a chunk holds at least one message). */
const BYTES_CHUNK_OCTETS = 4 * 1024 * 1024;

/** RFC 9051 §6.4.4, RFC 5256 §3: US-ASCII and UTF-8 (everything is matched as Unicode). */
export const SEARCH_CHARSETS: ReadonlySet<string> = new Set(["US-ASCII", "UTF-8"]);

/** `NO [BADCHARSET (US-ASCII UTF-8)]`. */
export function badCharset(): Completion {
  return no("Unsupported charset", { code: "BADCHARSET", charsets: [...SEARCH_CHARSETS] });
}

/** Whether a key tests MODSEQ (the answer then carries the highest one, RFC 7162 §3.1.5). */
export function usesModseq(key: SearchKey): boolean {
  switch (key.key) {
    case "MODSEQ":
      return true;
    case "NOT":
      return usesModseq(key.operand);
    case "OR":
      return usesModseq(key.left) || usesModseq(key.right);
    case "AND":
      return key.operands.some(usesModseq);
    default:
      return false;
  }
}

/** A selected message that matched, with its contents loaded at most once, on demand. */
export interface Matched {
  readonly seq: number;
  readonly info: MessageInfo;
  cache(): Promise<MessageCache>;
  raw(): Promise<Uint8Array>;
}

/** What to load for every message found, besides what the key needs. */
export interface Wanted {
  /** The description (SORT and THREAD keys). */
  readonly cache?: boolean;
  /** The message (THREAD=REFERENCES). */
  readonly raw?: boolean;
}

/**
 * The selected messages matching `search`, in sequence order, a chunk at a time. The store is read only as far
 * as the key needs, and in batches: the messages are tested a chunk at a time, and what the
 * tests of a chunk asked for is read in one query (see {@link Loads}). With `wanted`, the
 * descriptions or messages of those found are read with them, so SORT and THREAD do not read
 * one at a time. A message another session expunged meanwhile (not yet announced) is skipped.
 */
export async function* matching(
  session: ImapSession,
  search: SearchKey,
  wanted: Wanted = {},
): AsyncGenerator<Matched[]> {
  const { messages } = session.deps;
  const account = accountId(session);
  const list = session.selected!.messages;
  const context = {
    maxSeq: list.length,
    maxUid: list[list.length - 1]?.uid ?? 0,
    saved: session.savedUids,
  };
  const bytes = searchNeeds(search) === "raw" || wanted.raw === true;
  for (const chunk of chunks(list, bytes)) {
    // Keys on flags and numbers resolve without I/O: let other sessions run now and then. A
    // turn of the event loop (its I/O included), not a timer: Deno holds a zero timeout to
    // some milliseconds, which cost 100 ms per SEARCH of 10,000 messages.
    await new Promise((resolve) => setImmediate(resolve));
    const loads = new Loads();
    let pending = chunk;
    const found = new Set<number>();
    // Each round tests the messages with what is loaded of them, then loads what the tests
    // wanted, for all of them at once, and tests those again. A message wants at most its
    // description and its bytes, so a chunk takes at most three rounds.
    while (pending.length > 0) {
      const again: Numbered[] = [];
      for (const item of pending) {
        const result = matchesLoaded(search, loads.loaded(item), context);
        if (result === true) found.add(item.seq);
        else if (result !== false && loads.want(item.info.messageId, result)) again.push(item);
        // else: no match, or the message is gone (expunged by another session meanwhile)
      }
      if (again.length > 0) await loads.load(messages, account);
      pending = again;
    }
    const matched = chunk.filter((item) => found.has(item.seq));
    if (wanted.cache || wanted.raw) {
      const wants = { cache: wanted.cache === true, raw: wanted.raw === true };
      for (const { info } of matched) loads.want(info.messageId, wants);
      await loads.load(messages, account);
    }
    // A chunk at a time: an async generator's yield costs a few promise turns.
    if (matched.length > 0) yield matched.map((item) => loads.matched(item, messages, account));
  }
}

/** A message and its sequence number. */
interface Numbered {
  readonly seq: number;
  readonly info: MessageInfo;
}

/**
 * `list` in chunks of {@link CHUNK} messages; of {@link BYTES_CHUNK} and at most
 * {@link BYTES_CHUNK_OCTETS} (but at least one message) when their bytes may be read.
 */
function* chunks(list: readonly MessageInfo[], bytes: boolean): Generator<Numbered[]> {
  const most = bytes ? BYTES_CHUNK : CHUNK;
  let chunk: Numbered[] = [];
  let octets = 0;
  for (const [i, info] of list.entries()) {
    const full = chunk.length === most || (bytes && octets + info.size > BYTES_CHUNK_OCTETS);
    if (chunk.length > 0 && full) {
      yield chunk;
      chunk = [];
      octets = 0;
    }
    chunk.push({ seq: i + 1, info });
    octets += info.size;
  }
  if (chunk.length > 0) yield chunk;
}

type Store = ImapSession["deps"]["messages"];

/**
 * The descriptions and messages of one chunk, loaded in batches: {@link Loads.want} records
 * what a test wants, and {@link Loads.load} reads every recorded want in one query per kind.
 * A message the store no longer has is remembered as missing (null).
 */
class Loads {
  readonly #caches = new Map<number, MessageCache | null>();
  readonly #raws = new Map<number, Uint8Array | null>();
  readonly #wantCaches = new Set<number>();
  readonly #wantRaws = new Set<number>();

  /** The message with what is loaded of it. */
  loaded(item: Numbered): LoadedMessage {
    const id = item.info.messageId;
    return { ...item, cache: this.#caches.get(id) ?? null, raw: this.#raws.get(id) ?? null };
  }

  /**
   * Records what is wanted of message `id` and not yet loaded; false when some of it is known
   * to be gone (the message was expunged), so waiting for it is pointless.
   */
  want(id: number, wants: Wants): boolean {
    if (wants.cache) {
      const cache = this.#caches.get(id);
      if (cache === null) return false;
      if (cache === undefined) this.#wantCaches.add(id);
    }
    if (wants.raw) {
      const raw = this.#raws.get(id);
      if (raw === null) return false;
      if (raw === undefined) this.#wantRaws.add(id);
    }
    return true;
  }

  /** A source for a message found: loaded values, or read alone, at most once. */
  matched(item: Numbered, messages: Store, account: number): Matched {
    const id = item.info.messageId;
    let cache: Promise<MessageCache> | undefined;
    let raw: Promise<Uint8Array> | undefined;
    const known = <T>(map: Map<number, T | null>, read: () => Promise<T>): Promise<T> => {
      const value = map.get(id);
      if (value === undefined) return read();
      return value === null ? missing(id) : Promise.resolve(value);
    };
    return {
      ...item,
      cache: () => cache ??= known(this.#caches, () => messages.readCache(account, id)),
      raw: () => raw ??= known(this.#raws, () => messages.read(account, id)),
    };
  }

  /** Reads what was wanted, one query per kind. */
  async load(messages: Store, account: number): Promise<void> {
    const caches = [...this.#wantCaches];
    const raws = [...this.#wantRaws];
    this.#wantCaches.clear();
    this.#wantRaws.clear();
    const [gotCaches, gotRaws] = await Promise.all([
      caches.length > 0 ? messages.readCaches(account, caches) : null,
      raws.length > 0 ? messages.readMany(account, raws) : null,
    ]);
    for (const id of caches) this.#caches.set(id, gotCaches?.get(id) ?? null);
    for (const id of raws) this.#raws.set(id, gotRaws?.get(id) ?? null);
  }
}

function missing<T>(id: number): Promise<T> {
  return Promise.reject<T>(new NotFoundError(`No message ${id}`));
}
