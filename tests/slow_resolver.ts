/**
 * A resolver for tests whose answers for some names take a long time, as a client's own name
 * server can (attempts × name servers × timeout): the same answers as the resolver it wraps,
 * only late. {@link SlowResolver.close} ends the waits still pending (as temporary errors), so
 * a test leaves no timer behind.
 *
 * @module
 */

import type { Lookup, LookupOptions, RecordType, Resolver } from "../src/dns/mod.ts";
// Not exported by src/dns/mod.ts: the stub and cache build temporary errors, nobody else.
import { temporaryFailure } from "../src/dns/resolver.ts";

/** Delays the answers for `slow` names (case-insensitive, no trailing dot) by `delayMs`. */
export class SlowResolver implements Resolver {
  readonly #inner: Resolver;
  readonly #slow: ReadonlySet<string>;
  readonly #delayMs: number;
  readonly #pending = new Map<ReturnType<typeof setTimeout>, () => void>();
  /** Every lookup asked, as `name TYPE`. */
  readonly asked: string[] = [];

  constructor(inner: Resolver, slow: readonly string[], delayMs: number) {
    this.#inner = inner;
    this.#slow = new Set(slow.map((n) => n.toLowerCase().replace(/\.$/, "")));
    this.#delayMs = delayMs;
  }

  /** Looks up through the wrapped resolver, late for the slow names. */
  lookup<T extends RecordType>(
    name: string,
    type: T,
    options?: LookupOptions,
  ): Promise<Lookup<T>> {
    this.asked.push(`${name} ${type}`);
    const answer = this.#inner.lookup(name, type, options);
    if (!this.#slow.has(name.toLowerCase().replace(/\.$/, ""))) return answer;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(timer);
        resolve(answer);
      }, this.#delayMs);
      this.#pending.set(timer, () => resolve(temporaryFailure(name, type, "closed (test)")));
    });
  }

  /** Ends every pending wait now, with a temporary error. */
  close(): void {
    for (const [timer, end] of this.#pending) {
      clearTimeout(timer);
      end();
    }
    this.#pending.clear();
  }
}
