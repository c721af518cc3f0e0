/**
 * A bounded, least-recently-used cache of decrypted message descriptions (envelope, summary,
 * MIME structure), so that SEARCH, SORT and FETCH of headers do not open the same sealed
 * columns again for every command.
 *
 * Invariants:
 * - An entry belongs to one account: it is stored under its message id together with the
 *   account id, and a lookup with another account id misses. Nothing crosses accounts, even
 *   for a caller that names a message id of another account.
 * - An entry never goes stale: a message's content (and so its description) never changes
 *   after delivery, and message ids are never reused. Entries of expunged messages are not
 *   removed; they are never asked for again and age out.
 * - At most `capacity` entries are kept, weighing at most `maxOctets` together (each entry
 *   weighs what the caller says: the length of its decrypted JSON, about 60 % of the memory
 *   it takes parsed). Inserting beyond either bound evicts the least recently used entries;
 *   an entry heavier than a tenth of `maxOctets` is not kept, so one odd message (thousands
 *   of parts) cannot flush the rest. A capacity of 0 keeps nothing.
 *
 * Security: the entries are plaintext, in the process's memory. That is acceptable for the
 * same reason as the Argon2id verification cache (shared/DESIGN.md, Accounts): the process
 * holds the master key and every unwrapped data key anyway, and opens these columns whenever
 * a client asks. Encryption at rest protects the database and its backups, not a running
 * server's memory. The cache holds descriptions only — addresses, subjects, dates and the
 * structure's offsets and parameters — never message bodies.
 *
 * @module
 */

/**
 * The default number of descriptions kept (one per message). A plain message's description
 * is about 0.9 KiB of JSON and 1.6 KiB parsed, so 50,000 take some 80 MiB.
 */
export const DESCRIPTION_CACHE_ENTRIES = 50_000;
/** The default weight bound: 64 MiB of decrypted JSON. */
export const DESCRIPTION_CACHE_OCTETS = 64 * 1024 * 1024;

interface Entry<V> {
  readonly accountId: number;
  readonly value: V;
  readonly octets: number;
}

/**
 * A bounded LRU map from (account id, message id) to a value.
 *
 * @example
 * ```ts
 * const cache = new DescriptionCache<string>(2);
 * cache.set(1, 10, "a", 1);
 * cache.get(1, 10); // "a"
 * cache.get(2, 10); // undefined: another account
 * ```
 */
export class DescriptionCache<V> {
  /** Insertion order is recency order: the first key is the least recently used. */
  readonly #entries = new Map<number, Entry<V>>();
  #octets = 0;

  constructor(
    readonly capacity: number = DESCRIPTION_CACHE_ENTRIES,
    readonly maxOctets: number = DESCRIPTION_CACHE_OCTETS,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`Invalid description cache capacity "${capacity}"`);
    }
    if (!Number.isInteger(maxOctets) || maxOctets < 0) {
      throw new RangeError(`Invalid description cache size "${maxOctets}"`);
    }
  }

  /** The total weight of the entries kept. */
  get octets(): number {
    return this.#octets;
  }

  /** The number of entries kept. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value for the message of this account, marked as recently used; or undefined. */
  get(accountId: number, messageId: number): V | undefined {
    const entry = this.#entries.get(messageId);
    if (entry === undefined || entry.accountId !== accountId) return undefined;
    this.#entries.delete(messageId);
    this.#entries.set(messageId, entry);
    return entry.value;
  }

  /**
   * Keeps `value`, weighing `octets`, for the message of this account, evicting the least
   * recently used entries beyond the bounds.
   */
  set(accountId: number, messageId: number, value: V, octets: number): void {
    this.#remove(messageId);
    if (this.capacity === 0 || octets > this.maxOctets / 10) return;
    this.#entries.set(messageId, { accountId, value, octets });
    this.#octets += octets;
    while (this.#entries.size > this.capacity || this.#octets > this.maxOctets) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#remove(oldest.value);
    }
  }

  #remove(messageId: number): void {
    const entry = this.#entries.get(messageId);
    if (entry === undefined) return;
    this.#entries.delete(messageId);
    this.#octets -= entry.octets;
  }
}
