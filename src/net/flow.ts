/**
 * Flow control: the application firewall in front of every listener. A listener calls
 * {@link FlowControl.admit} when it accepts a connection and `release()` when that connection
 * closes; a refusal carries the reason, which the listener maps to its protocol's temporary
 * failure (SMTP `421 4.7.0`, IMAP `* BYE`) before closing.
 *
 * Order of the checks, first match wins:
 * 1. an address that does not parse is `denied` (fail closed);
 * 2. the allow list admits, exempt from every limit and ban below, and is not counted;
 * 3. the deny list refuses (`denied`);
 * 4. a ban known from the cache refuses (`banned`);
 * 5. the connection rate per client (token bucket) refuses (`rate`);
 * 6. the connections per client, then in total, refuse (`per-ip`, `total`);
 * 7. a ban not yet in the cache is looked up (the slot is held meanwhile, so limits stay exact
 *    across the wait) and refuses (`banned`).
 *
 * Invariants and security model:
 * - A client is an IPv4 address or an IPv6 /64 (src/net/cidr.ts `ipKey`), so one host cannot
 *   multiply its share by using many addresses of its own network. IPv4-mapped IPv6 peers are
 *   their IPv4 address.
 * - Memory is bounded: connection counts exist only for clients with open connections (at most
 *   `maxTotal`), rate buckets expire once refilled and are capped (src/net/token_bucket.ts),
 *   and the ban cache holds at most `banCacheSize` answers for `banCacheMs` each.
 * - The ban check (an injected async function, the store's in production) runs after the rate
 *   limit, so a flood from one client costs at most a burst of lookups, and answers are cached
 *   (positive and negative, concurrent lookups for one address shared). If the lookup fails
 *   the connection is admitted and the failure logged: the database being down must not lock
 *   everyone out, and sign-in checks bans again anyway.
 * - `release()` is idempotent.
 * - Time comes from an injected clock; nothing here sets a timer.
 *
 * @module
 */

import { type Logger, silentLogger } from "../ops/log.ts";
import { CidrList, formatIp, ipKey, tryParseIp } from "./cidr.ts";
import { type Clock, TokenBuckets } from "./token_bucket.ts";

/** Default most connections from one client (IPv4 address or IPv6 /64) per listener. */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 20;
/** Default most connections per listener in total. */
export const DEFAULT_MAX_CONNECTIONS = 5000;
/** Default burst of new connections one client may open at once. */
export const DEFAULT_CONNECTION_BURST = 30;
/** Default new connections per second one client may open after its burst. */
export const DEFAULT_CONNECTION_RATE = 1;
/** Default time a ban lookup's answer is reused. */
export const DEFAULT_BAN_CACHE_MS = 10_000;
/** Default most ban answers cached. */
export const DEFAULT_BAN_CACHE_SIZE = 10_000;

/** Why a connection was refused. */
export type Rejection = "denied" | "per-ip" | "total" | "rate" | "banned";

/** What a refused client is told, per reason, in the protocol's own refusal (421, BYE). */
export const REFUSAL_TEXT: Readonly<Record<string, string>> = {
  "per-ip": "Too many connections from your address, try again later",
  total: "Too many connections, try again later",
  rate: "Too many connections in a short time, try again later",
  banned: "Too many failed logins from your address, try again later",
  denied: "Access denied",
} satisfies Record<Rejection, string>;

/** The outcome of {@link FlowControl.admit}. */
export type Admission =
  | {
    readonly ok: true;
    /** The peer's canonical address. */
    readonly ip: string;
    /** Call once the connection is closed (more calls do nothing). */
    release(): void;
  }
  | {
    readonly ok: false;
    readonly reason: Rejection;
    /** The peer's canonical address; null when it did not parse. */
    readonly ip: string | null;
  };

/** Looks up whether an address (canonical text) is banned. */
export type BanCheck = (ip: string) => Promise<boolean>;

/** Settings of one listener's flow control; every one has a default. */
export interface FlowOptions {
  /** Most open connections per client (IPv4 address or IPv6 /64). */
  readonly maxPerIp?: number;
  /** Most open connections in total. */
  readonly maxTotal?: number;
  /** New connections a client may open at once. */
  readonly connectionBurst?: number;
  /** New connections per second a client may open after its burst. */
  readonly connectionRate?: number;
  /** CIDRs always admitted, exempt from limits and bans. */
  readonly allow?: readonly string[];
  /** CIDRs always refused (unless also allowed). */
  readonly deny?: readonly string[];
  /** The ban lookup; none means no bans. */
  readonly isBanned?: BanCheck;
  readonly banCacheMs?: number;
  readonly banCacheSize?: number;
  /** Most rate buckets kept (see src/net/token_bucket.ts). */
  readonly maxTrackedClients?: number;
  readonly now?: Clock;
  readonly log?: Logger;
}

interface CachedBan {
  readonly banned: boolean;
  readonly until: number;
}

/** One listener's connection admission. */
export class FlowControl {
  readonly #maxPerIp: number;
  readonly #maxTotal: number;
  readonly #allow: CidrList;
  readonly #deny: CidrList;
  readonly #rates: TokenBuckets<string>;
  readonly #isBanned: BanCheck | null;
  readonly #banCacheMs: number;
  readonly #banCacheSize: number;
  readonly #now: Clock;
  readonly #log: Logger;
  readonly #open = new Map<string, number>();
  readonly #banCache = new Map<string, CachedBan>();
  readonly #banLookups = new Map<string, Promise<boolean>>();
  #total = 0;

  /** @throws {InvalidInputError} when an allow or deny entry is not a CIDR. */
  constructor(options: FlowOptions = {}) {
    this.#maxPerIp = options.maxPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP;
    this.#maxTotal = options.maxTotal ?? DEFAULT_MAX_CONNECTIONS;
    this.#allow = new CidrList(options.allow ?? []);
    this.#deny = new CidrList(options.deny ?? []);
    this.#now = options.now ?? Date.now;
    this.#rates = new TokenBuckets({
      capacity: options.connectionBurst ?? DEFAULT_CONNECTION_BURST,
      refillPerSecond: options.connectionRate ?? DEFAULT_CONNECTION_RATE,
      now: this.#now,
      ...(options.maxTrackedClients === undefined ? {} : { maxKeys: options.maxTrackedClients }),
    });
    this.#isBanned = options.isBanned ?? null;
    this.#banCacheMs = options.banCacheMs ?? DEFAULT_BAN_CACHE_MS;
    this.#banCacheSize = options.banCacheSize ?? DEFAULT_BAN_CACHE_SIZE;
    this.#log = options.log ?? silentLogger;
  }

  /**
   * Decides whether to serve a new connection from `remoteAddress` (as the socket reports it).
   *
   * @example
   * ```ts
   * const admission = await flow.admit(conn.remoteAddr.hostname);
   * if (!admission.ok) return refuse(conn, admission.reason); // 421 4.7.0 …, then close
   * try { await serve(conn); } finally { admission.release(); }
   * ```
   */
  async admit(remoteAddress: string): Promise<Admission> {
    const parsed = tryParseIp(remoteAddress);
    if (parsed === null) return { ok: false, reason: "denied", ip: null };
    const ip = formatIp(parsed);
    if (this.#allow.contains(parsed)) return { ok: true, ip, release: () => {} };
    if (this.#deny.contains(parsed)) return { ok: false, reason: "denied", ip };
    const cached = this.#cachedBan(ip);
    if (cached === true) return { ok: false, reason: "banned", ip };
    const key = ipKey(parsed);
    if (!this.#rates.take(key)) return { ok: false, reason: "rate", ip };
    if ((this.#open.get(key) ?? 0) >= this.#maxPerIp) return { ok: false, reason: "per-ip", ip };
    if (this.#total >= this.#maxTotal) return { ok: false, reason: "total", ip };
    const release = this.#hold(key);
    if (cached === undefined && await this.#lookUpBan(ip)) {
      release();
      return { ok: false, reason: "banned", ip };
    }
    return { ok: true, ip, release };
  }

  /** Open connections in total and the number of clients holding them. */
  stats(): { connections: number; clients: number } {
    return { connections: this.#total, clients: this.#open.size };
  }

  /** Forgets cached ban answers (after `fumi ban add|remove`, say). */
  clearBanCache(): void {
    this.#banCache.clear();
  }

  #hold(key: string): () => void {
    this.#open.set(key, (this.#open.get(key) ?? 0) + 1);
    this.#total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#open.get(key) ?? 1) - 1;
      if (left === 0) this.#open.delete(key);
      else this.#open.set(key, left);
    };
  }

  /** The cached answer, or undefined when there is none (or no ban check at all: false). */
  #cachedBan(ip: string): boolean | undefined {
    if (this.#isBanned === null) return false;
    const entry = this.#banCache.get(ip);
    if (entry === undefined) return undefined;
    if (entry.until > this.#now()) return entry.banned;
    this.#banCache.delete(ip);
    return undefined;
  }

  #lookUpBan(ip: string): Promise<boolean> {
    const pending = this.#banLookups.get(ip);
    if (pending) return pending;
    const check = this.#isBanned!;
    // Started in a microtask, so it is registered below before it can settle.
    const lookup = Promise.resolve()
      .then(() => check(ip))
      .then(
        (banned) => {
          this.#remember(ip, banned);
          return banned;
        },
        (error: unknown) => {
          this.#log.warn("ban lookup failed; admitting the connection", { ip, error });
          return false;
        },
      )
      .finally(() => this.#banLookups.delete(ip));
    this.#banLookups.set(ip, lookup);
    return lookup;
  }

  #remember(ip: string, banned: boolean): void {
    this.#banCache.delete(ip);
    this.#banCache.set(ip, { banned, until: this.#now() + this.#banCacheMs });
    for (const oldest of this.#banCache.keys()) {
      if (this.#banCache.size <= this.#banCacheSize) break;
      this.#banCache.delete(oldest);
    }
  }
}
