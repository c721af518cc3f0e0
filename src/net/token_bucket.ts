/**
 * Token buckets: a rate with bursts. A bucket holds up to `capacity` tokens and gains
 * `refillPerSecond` of them each second; each event takes one, and an event finding the bucket
 * empty is refused. So `capacity` events may come at once, and `refillPerSecond` per second
 * after that.
 *
 * Invariants:
 * - Time comes from an injected clock (milliseconds); nothing here reads the real time or sets a
 *   timer, so tests drive the clock by hand. A clock that goes backwards adds no tokens.
 * - {@link TokenBuckets} (one bucket per key) stays bounded: a bucket that has refilled to full
 *   is the same as no bucket, so it is dropped by the sweep that runs (on use) once per refill
 *   period. Past `maxKeys` buckets the least recently used is dropped at once: under a flood
 *   from more keys than that, some keys get a fresh burst early. That weakens the limit for the
 *   flood, never the bound on memory.
 *
 * @module
 */

/** Milliseconds since some fixed point; `Date.now` in production. */
export type Clock = () => number;

/** A bucket's shape. */
export interface TokenBucketOptions {
  /** Most tokens held, i.e. the largest burst. */
  readonly capacity: number;
  /** Tokens added per second. */
  readonly refillPerSecond: number;
  /** Defaults to `Date.now`. */
  readonly now?: Clock;
}

interface Level {
  tokens: number;
  at: number;
}

function validate(options: TokenBucketOptions): void {
  if (!(options.capacity >= 1) || !Number.isFinite(options.capacity)) {
    throw new RangeError(`Token bucket capacity must be at least 1, got ${options.capacity}`);
  }
  if (!(options.refillPerSecond > 0) || !Number.isFinite(options.refillPerSecond)) {
    throw new RangeError(
      `Token bucket refill must be a positive rate, got ${options.refillPerSecond}`,
    );
  }
}

function refill(level: Level, now: number, options: TokenBucketOptions): void {
  if (now > level.at) {
    level.tokens = Math.min(
      options.capacity,
      level.tokens + ((now - level.at) / 1000) * options.refillPerSecond,
    );
  }
  level.at = Math.max(level.at, now);
}

/**
 * One token bucket.
 *
 * @example
 * ```ts
 * let t = 0;
 * const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1, now: () => t });
 * bucket.take(); bucket.take(); // true, true
 * bucket.take(); // false
 * t = 1000;
 * bucket.take(); // true
 * ```
 */
export class TokenBucket {
  readonly #options: TokenBucketOptions;
  readonly #now: Clock;
  readonly #level: Level;

  constructor(options: TokenBucketOptions) {
    validate(options);
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#level = { tokens: options.capacity, at: this.#now() };
  }

  /** Takes `count` tokens if there are that many, and says whether it did. */
  take(count = 1): boolean {
    refill(this.#level, this.#now(), this.#options);
    if (this.#level.tokens < count) return false;
    this.#level.tokens -= count;
    return true;
  }

  /** Tokens available now (fractional while refilling). */
  available(): number {
    refill(this.#level, this.#now(), this.#options);
    return this.#level.tokens;
  }

  /** Milliseconds until `count` tokens will be available; 0 when they are now. */
  waitTime(count = 1): number {
    const missing = count - this.available();
    return missing <= 0 ? 0 : Math.ceil((missing / this.#options.refillPerSecond) * 1000);
  }
}

/** Options of {@link TokenBuckets}. */
export interface TokenBucketsOptions extends TokenBucketOptions {
  /** Most buckets kept; default 100,000. */
  readonly maxKeys?: number;
}

/** A token bucket per key (per client address, say), with bounded memory. */
export class TokenBuckets<K> {
  readonly #options: TokenBucketsOptions;
  readonly #now: Clock;
  readonly #maxKeys: number;
  // Map order is least recently used first: a bucket is re-inserted whenever it is used.
  readonly #levels = new Map<K, Level>();
  readonly #fullAfterMs: number;
  #lastSweep: number;

  constructor(options: TokenBucketsOptions) {
    validate(options);
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 100_000;
    if (!(this.#maxKeys >= 1)) throw new RangeError(`maxKeys must be at least 1`);
    // An empty bucket is full again after this long.
    this.#fullAfterMs = (options.capacity / options.refillPerSecond) * 1000;
    this.#lastSweep = this.#now();
  }

  /** Takes `count` tokens from `key`'s bucket if there are that many. */
  take(key: K, count = 1): boolean {
    const now = this.#now();
    if (now - this.#lastSweep >= this.#fullAfterMs) this.sweep();
    let level = this.#levels.get(key);
    if (level === undefined) {
      level = { tokens: this.#options.capacity, at: now };
    } else {
      this.#levels.delete(key);
      refill(level, now, this.#options);
    }
    const taken = level.tokens >= count;
    if (taken) level.tokens -= count;
    this.#levels.set(key, level);
    // Least recently used first; the periodic sweep has already dropped the full ones.
    for (const oldest of this.#levels.keys()) {
      if (this.#levels.size <= this.#maxKeys) break;
      this.#levels.delete(oldest);
    }
    return taken;
  }

  /** Tokens `key` has now. */
  available(key: K): number {
    const level = this.#levels.get(key);
    if (level === undefined) return this.#options.capacity;
    refill(level, this.#now(), this.#options);
    return level.tokens;
  }

  /** How many buckets are kept. */
  get size(): number {
    return this.#levels.size;
  }

  /** Drops buckets that are full again; returns how many it dropped. */
  sweep(): number {
    const now = this.#now();
    this.#lastSweep = now;
    let dropped = 0;
    for (const [key, level] of this.#levels) {
      refill(level, now, this.#options);
      if (level.tokens >= this.#options.capacity) {
        this.#levels.delete(key);
        dropped++;
      }
    }
    return dropped;
  }
}
