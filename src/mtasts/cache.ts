/**
 * The policies in force, per domain: discovery (discover.ts), fetching (fetch.ts) and a cache
 * kept as RFC 8461 §3.3 and §5.1 ask.
 *
 * Rules:
 * - A fetched policy is kept until its max_age (§3.3, §5.1 step 1), under the id of the TXT
 *   record that led to it.
 * - A TXT record with another id means a new policy: it is fetched (§3.1, §5.1 step 3).
 * - Before a policy expires it is fetched again (at half its max_age, at most a day after it was
 *   fetched), so a domain that keeps its policy is never left without one for a moment.
 * - A cached, unexpired policy stays in force when the TXT record is gone or cannot be looked
 *   up, or the new policy cannot be fetched (§3.3: "the sender MUST apply that cached policy").
 *   Without one, the domain is treated as having no policy (§3.3).
 * - A fetch that failed is not tried again for the same id for five minutes (§3.3).
 * - Bounded: at most `maxEntries` domains; the oldest entry goes first. One fetch per domain
 *   at a time; callers asking meanwhile share it.
 *
 * The cache is in memory: a restart forgets policies, and the first delivery after it trusts
 * what DNS and HTTPS say then (trust on first use, as for any sender starting out).
 *
 * @module
 */

import type { Resolver } from "../dns/mod.ts";
import { discover } from "./discover.ts";
import type { PolicyFetcher } from "./fetch.ts";
import type { Policy } from "./parse.ts";

/** The policy that applies to a domain now. */
export interface PolicyLookup {
  /** The policy, or null when the domain has none (or none could be had). */
  readonly policy: Policy | null;
  /** The TXT record's id the policy came with. */
  readonly id: string | null;
  /** Where it came from: fetched now, the cache, or nowhere. */
  readonly source: "fetched" | "cached" | "none";
  /** What went wrong on the way, if anything (a failed fetch while a cached policy applies). */
  readonly problem: string | null;
}

/** What {@link MtaStsPolicies} needs. */
export interface PoliciesOptions {
  readonly resolver: Resolver;
  readonly fetch: PolicyFetcher;
  /** Milliseconds since the epoch; tests pass their own clock. */
  readonly now?: () => number;
  readonly maxEntries?: number;
}

interface Entry {
  readonly id: string;
  readonly policy: Policy;
  readonly fetchedAt: number;
  readonly expiresAt: number;
}

/** §3.3: "limit further attempts to a period of five minutes or longer per version ID". */
export const FETCH_BACKOFF_MS = 5 * 60_000;
const REFRESH_AT_MOST_MS = 86_400_000;

/** The policies of domains, looked up and cached; see the module documentation. */
export class MtaStsPolicies {
  readonly #resolver: Resolver;
  readonly #fetch: PolicyFetcher;
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();
  /** `domain id` → when a failed fetch may be tried again. */
  readonly #failed = new Map<string, number>();
  readonly #pending = new Map<string, Promise<PolicyLookup>>();

  constructor(options: PoliciesOptions) {
    this.#resolver = options.resolver;
    this.#fetch = options.fetch;
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** The policy that applies to mail for `domain` now. */
  policyFor(domain: string): Promise<PolicyLookup> {
    const key = domain.toLowerCase().replace(/\.$/, "");
    const pending = this.#pending.get(key);
    if (pending) return pending;
    const lookup = this.#lookup(key).finally(() => this.#pending.delete(key));
    this.#pending.set(key, lookup);
    return lookup;
  }

  async #lookup(domain: string): Promise<PolicyLookup> {
    let cached = this.#entries.get(domain) ?? null;
    if (cached !== null && this.#now() >= cached.expiresAt) {
      this.#entries.delete(domain); // §3.3: never used after max_age
      cached = null;
    }
    const keep = (problem: string | null): PolicyLookup =>
      cached === null
        ? { policy: null, id: null, source: "none", problem }
        : { policy: cached.policy, id: cached.id, source: "cached", problem };
    const record = await discover(this.#resolver, domain);
    if (record.status !== "found") {
      // §3.3, §8.3: a vanished or unreadable record does not end a cached policy early.
      return keep(record.status === "temperror" ? record.reason : null);
    }
    const refreshAt = cached === null ? 0 : cached.fetchedAt +
      Math.min((cached.expiresAt - cached.fetchedAt) / 2, REFRESH_AT_MOST_MS);
    if (cached !== null && cached.id === record.id && this.#now() < refreshAt) return keep(null);
    const failedKey = `${domain} ${record.id}`;
    if ((this.#failed.get(failedKey) ?? 0) > this.#now()) {
      return keep(`Fetching the policy of ${domain} failed lately`);
    }
    const fetched = await this.#fetch(domain);
    const now = this.#now();
    if (!fetched.ok) {
      this.#bounded(this.#failed, failedKey, now + FETCH_BACKOFF_MS);
      return keep(fetched.reason);
    }
    this.#failed.delete(failedKey);
    this.#entries.delete(domain); // re-inserted last: the newest
    this.#bounded(this.#entries, domain, {
      id: record.id,
      policy: fetched.policy,
      fetchedAt: now,
      expiresAt: now + fetched.policy.maxAge * 1000,
    });
    return { policy: fetched.policy, id: record.id, source: "fetched", problem: null };
  }

  #bounded<V>(map: Map<string, V>, key: string, value: V): void {
    map.set(key, value);
    while (map.size > this.#maxEntries) map.delete(map.keys().next().value!);
  }
}
