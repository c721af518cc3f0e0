/**
 * Asking DNS lists, through the process's resolver (whose cache keeps answers for their TTL,
 * RFC 2308 for the negative ones).
 *
 * Invariants:
 * - A list never blocks mail because it cannot answer: a lookup that takes longer than
 *   `timeoutMs` or ends in `temperror` counts as "not listed" and is logged as a warning;
 *   the same question is not asked again for {@link FAILURE_MEMO_MS}, so one dead list costs
 *   a session one wait, not one per stage.
 * - A list that refuses us (127.255.255.x, or a code documented as a refusal) is disabled for
 *   the life of the process, with an `error` log line telling the administrator what to do.
 * - Work is bounded: one query per list and name; the failure memo holds at most
 *   {@link MAX_MEMO} entries; names longer than 253 characters are not asked.
 *
 * @module
 */

import type { Resolver } from "../dns/mod.ts";
import type { Logger } from "../ops/log.ts";
import { withDeadline } from "./deadline.ts";
import { addressQuery, type DnsList, interpret, type ListHit } from "./lists.ts";

/** How long a failed question is not asked again. */
export const FAILURE_MEMO_MS = 60_000;
/** The most failed questions remembered. */
const MAX_MEMO = 10_000;
/** The longest domain name in text form (RFC 1035 §2.3.4). */
const MAX_NAME = 253;

/** What {@link ListQuerier} needs. */
export interface ListQuerierOptions {
  readonly resolver: Resolver;
  readonly log: Logger;
  /** The longest wait for one list's answer, in milliseconds. */
  readonly timeoutMs: number;
  /** Milliseconds since the epoch; tests pass their own. */
  readonly now?: () => number;
}

/** Asks DNS lists and remembers which are disabled. */
export class ListQuerier {
  readonly #resolver: Resolver;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #disabled = new Set<string>();
  readonly #failed = new Map<string, number>();

  constructor(options: ListQuerierOptions) {
    this.#resolver = options.resolver;
    this.#log = options.log;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now ?? Date.now;
  }

  /** True when `list` was disabled after refusing us. */
  isDisabled(list: DnsList): boolean {
    return this.#disabled.has(list.zone);
  }

  /** The hits of a client address on the client lists among `lists`. */
  async address(lists: readonly DnsList[], ip: string): Promise<ListHit[]> {
    const query = addressQuery(ip);
    if (query === null) return [];
    const results = await Promise.all(
      lists.filter((l) => l.kind === "ip").map((list) => this.#ask(list, query, ip)),
    );
    return results.flat();
  }

  /** The hits of domain names on the domain lists among `lists`; `query` maps a name per list. */
  async domains(
    lists: readonly DnsList[],
    names: readonly { readonly subject: string; readonly query: (list: DnsList) => string }[],
  ): Promise<ListHit[]> {
    const asks: Promise<ListHit[]>[] = [];
    for (const list of lists) {
      if (list.kind !== "domain") continue;
      const asked = new Set<string>();
      for (const name of names) {
        const query = name.query(list);
        if (asked.has(query)) continue;
        asked.add(query);
        asks.push(this.#ask(list, query, name.subject));
      }
    }
    return (await Promise.all(asks)).flat();
  }

  async #ask(list: DnsList, query: string, subject: string): Promise<ListHit[]> {
    if (this.#disabled.has(list.zone)) return [];
    const name = `${query}.${list.zone}`;
    // RFC 1035 §2.3.4: a name is at most 255 octets on the wire, 253 characters as text; a
    // longer one cannot be asked (a long host name in a message body under a long zone).
    if (name.length > MAX_NAME) return [];
    const failedAt = this.#failed.get(name);
    if (failedAt !== undefined && this.#now() - failedAt < FAILURE_MEMO_MS) return [];
    const lookup = await withDeadline(this.#resolver.lookup(name, "A"), this.#timeoutMs, null);
    if (lookup === null || lookup.status === "temperror") {
      const why = lookup === null ? `no answer within ${this.#timeoutMs} ms` : lookup.error;
      this.#remember(name);
      // Fail open: a list that cannot answer never blocks mail.
      this.#log.warn("DNS list did not answer; not counted", { list: list.name, name, why });
      return [];
    }
    if (lookup.status !== "ok") return [];
    const meaning = interpret(list, lookup.records.map((r) => r.address));
    switch (meaning.kind) {
      case "not-listed":
        return [];
      case "refused":
        this.#disable(list, meaning.code);
        return [];
      case "invalid":
        this.#log.warn("DNS list answered outside 127.0.0.0/8; not counted", {
          list: list.name,
          name,
          answers: meaning.codes,
        });
        return [];
      case "listed":
        return meaning.hits.map((hit) => ({ ...hit, query, subject }));
    }
  }

  #disable(list: DnsList, code: string): void {
    if (this.#disabled.has(list.zone)) return;
    this.#disabled.add(list.zone);
    // The alert: an administrator must act, and mail goes on without the list meanwhile.
    this.#log.error(
      `DNS list ${list.name} refused our query (${code}) and is disabled until restart: ` +
        "use a resolver of your own in [dns] nameservers, not a public or shared one, " +
        "or the list's paid access (for Spamhaus a DQS key in the zone name)",
      { list: list.name, zone: list.zone, code },
    );
  }

  #remember(name: string): void {
    if (this.#failed.size >= MAX_MEMO) {
      const now = this.#now();
      for (const [key, at] of this.#failed) {
        if (now - at >= FAILURE_MEMO_MS) this.#failed.delete(key);
      }
      if (this.#failed.size >= MAX_MEMO) this.#failed.clear();
    }
    this.#failed.set(name, this.#now());
  }
}
