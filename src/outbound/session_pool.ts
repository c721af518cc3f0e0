/**
 * Open SMTP sessions kept between messages to the same mail host (issue: "one connection
 * reused for several messages to the same host"): the greeting, EHLO, STARTTLS and any
 * certificate checks are paid once for a run of messages, not once a message.
 *
 * Invariants:
 * - A session is kept only after a transaction with no temporary failure (the caller's rule),
 *   under the key of what it was opened for (host, address, TLS policy), so a reused session
 *   meets the same policy.
 * - Kept sessions are few and short-lived: at most {@link MAX_PER_KEY} per key, closed with
 *   QUIT after {@link IDLE_MS} unused (far below the server's 5 minutes, RFC 5321
 *   §4.5.3.2.7), and all of them when the pool is closed.
 *
 * @module
 */

import type { SmtpClient } from "../smtp/client/mod.ts";

/** How long a session may wait for its next message. */
export const IDLE_MS = 5_000;
/** Sessions kept per key. */
export const MAX_PER_KEY = 4;

interface Idle {
  readonly client: SmtpClient;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** Idle sessions by key; see the module documentation. */
export class SessionPool {
  readonly #idle = new Map<string, Idle[]>();
  #closed = false;

  /** An idle session opened under `key`, still open, or null. */
  take(key: string): SmtpClient | null {
    const list = this.#idle.get(key);
    while (list !== undefined && list.length > 0) {
      const { client, timer } = list.pop()!;
      clearTimeout(timer);
      if (list.length === 0) this.#idle.delete(key);
      if (!client.closed) return client;
    }
    return null;
  }

  /** Keeps `client` for the next message under `key`, or says QUIT when the pool is full. */
  give(key: string, client: SmtpClient): void {
    const list = this.#idle.get(key) ?? [];
    if (this.#closed || client.closed || list.length >= MAX_PER_KEY) {
      void client.quit();
      return;
    }
    const timer = setTimeout(() => {
      const left = (this.#idle.get(key) ?? []).filter((i) => i.client !== client);
      if (left.length === 0) this.#idle.delete(key);
      else this.#idle.set(key, left);
      void client.quit();
    }, IDLE_MS);
    list.push({ client, timer });
    this.#idle.set(key, list);
  }

  /** Sessions kept now (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const list of this.#idle.values()) n += list.length;
    return n;
  }

  /** Says QUIT to every kept session; later ones are not kept. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#idle.values()].flat();
    this.#idle.clear();
    for (const { timer } of all) clearTimeout(timer);
    await Promise.all(all.map(({ client }) => client.quit()));
  }
}
