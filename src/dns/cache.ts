/**
 * A cache in front of any {@link Resolver}, shared by every caller in the process.
 *
 * Invariants:
 * - An answer is kept for its smallest TTL (answer records and CNAMEs), clamped to
 *   [`minTtl`, `maxTtl`]; a cached answer is returned with its TTLs counted down.
 * - NXDOMAIN and NODATA are kept for min(SOA TTL, SOA minimum) (RFC 2308 §5), at most
 *   `maxNegativeTtl`; a negative answer without an SOA is not kept (RFC 2308 §5).
 * - Temporary failures are never kept: the next caller asks again.
 * - At most `maxEntries` answers; the least recently used goes first.
 * - Identical lookups in flight at the same time share one query.
 *
 * @module
 */

import { canonicalName, type RecordType } from "./message.ts";
import type { Lookup, LookupOptions, Resolver } from "./resolver.ts";

/** The cache's bounds and clock. */
export interface CacheOptions {
  /** The most answers kept. */
  readonly maxEntries?: number;
  /** The shortest time, in seconds, an answer is kept (even with TTL 0). */
  readonly minTtl?: number;
  /** The longest time, in seconds, an answer is kept. */
  readonly maxTtl?: number;
  /** The longest time, in seconds, a negative answer is kept. */
  readonly maxNegativeTtl?: number;
  /** Milliseconds since the epoch; tests pass their own. */
  readonly now?: () => number;
}

/** Defaults: 10,000 answers, kept 5 s to 1 day; negative answers at most 3 hours. */
export const CACHE_DEFAULTS = {
  maxEntries: 10_000,
  minTtl: 5,
  maxTtl: 86_400,
  maxNegativeTtl: 3 * 3_600,
} as const;

interface Entry {
  readonly lookup: Lookup;
  readonly storedAt: number;
  readonly expiresAt: number;
}

/** A TTL-honouring, bounded cache with in-flight sharing. */
export class CachingResolver implements Resolver {
  readonly #inner: Resolver;
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<Lookup>>();
  readonly #maxEntries: number;
  readonly #minTtl: number;
  readonly #maxTtl: number;
  readonly #maxNegativeTtl: number;
  readonly #now: () => number;

  constructor(inner: Resolver, options: CacheOptions = {}) {
    this.#inner = inner;
    this.#maxEntries = options.maxEntries ?? CACHE_DEFAULTS.maxEntries;
    this.#minTtl = options.minTtl ?? CACHE_DEFAULTS.minTtl;
    this.#maxTtl = options.maxTtl ?? CACHE_DEFAULTS.maxTtl;
    this.#maxNegativeTtl = options.maxNegativeTtl ?? CACHE_DEFAULTS.maxNegativeTtl;
    this.#now = options.now ?? Date.now;
  }

  /** How many answers are kept now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Looks a name up, from the cache when it can; see {@link Resolver}. */
  lookup<T extends RecordType>(
    name: string,
    type: T,
    options: LookupOptions = {},
  ): Promise<Lookup<T>> {
    const key = `${canonicalName(name)} ${type}${options.dnssec ? " +do" : ""}`;
    const cached = this.#fresh(key);
    // Entries are keyed by type, so the one found under this key is a Lookup<T>.
    if (cached !== null) return Promise.resolve(cached as unknown as Lookup<T>);
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending as unknown as Promise<Lookup<T>>;
    const query = this.#inner.lookup(name, type, options).then((lookup) => {
      this.#store(key, lookup as unknown as Lookup);
      return lookup;
    }).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, query as unknown as Promise<Lookup>);
    return query;
  }

  #fresh(key: string): Lookup | null {
    const entry = this.#entries.get(key);
    if (entry === undefined) return null;
    const now = this.#now();
    if (now >= entry.expiresAt) {
      this.#entries.delete(key);
      return null;
    }
    // Most recently used last, so the oldest in the map's order is evicted first.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    const elapsed = Math.floor((now - entry.storedAt) / 1000);
    const age = <R extends { ttl: number }>(r: R): R => ({
      ...r,
      ttl: Math.max(0, r.ttl - elapsed),
    });
    const { lookup } = entry;
    return {
      ...lookup,
      records: lookup.records.map(age),
      cnames: lookup.cnames.map(age),
      soa: lookup.soa === null ? null : age(lookup.soa),
    } as Lookup;
  }

  #store(key: string, lookup: Lookup): void {
    const ttl = this.#ttl(lookup);
    if (ttl === null) return;
    const now = this.#now();
    this.#entries.delete(key);
    this.#entries.set(key, { lookup, storedAt: now, expiresAt: now + ttl * 1000 });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  /** Seconds to keep a lookup, or null not to keep it. */
  #ttl(lookup: Lookup): number | null {
    if (lookup.status === "temperror") return null;
    if (lookup.status === "ok") {
      const ttl = Math.min(...lookup.records.map((r) => r.ttl), ...lookup.cnames.map((r) => r.ttl));
      return Math.min(this.#maxTtl, Math.max(this.#minTtl, ttl));
    }
    if (lookup.soa === null) return null; // RFC 2308 §5
    const ttl = Math.min(lookup.soa.ttl, lookup.soa.minimum, this.#maxNegativeTtl); // RFC 2308 §5
    return Math.min(this.#maxTtl, Math.max(this.#minTtl, ttl));
  }
}
