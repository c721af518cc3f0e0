/**
 * Readiness (`GET /readyz`): whether this process should be sent traffic. Unlike `/healthz`
 * (alive: the database answers), ready means everything a client needs is in place: the
 * listeners are bound, the database answers, and its schema is the one this build expects.
 * A load balancer or `systemctl` check stops sending clients to a node that is starting,
 * stopping, or behind another node's newer migrations.
 *
 * @module
 */

/** What readiness is decided from; each part is a small function the server supplies. */
export interface ReadinessParts {
  /** True once every configured listener is bound (and until the server stops). */
  listenersUp(): boolean;
  /** Resolves when the database answers (`select 1`); rejects otherwise. */
  database(): Promise<void>;
  /** Migrations this build ships that the database has not applied; 0 when up to date. */
  pendingMigrations(): Promise<number>;
}

/** A readiness check: null when ready, else the reason in a few words. */
export type Readiness = () => Promise<string | null>;

/** Longest a readiness probe waits for the database. */
export const READY_TIMEOUT_MS = 2_000;

/**
 * Combines the parts, in order: listeners, database, migrations. The database parts are bounded
 * by `timeoutMs`, so a hung database makes the probe answer "not ready", not hang.
 *
 * @example
 * ```ts
 * const ready = readiness({ listenersUp: () => started, database: ping, pendingMigrations });
 * (await ready()) ?? "ready"; // "ready", or "database does not answer", …
 * ```
 */
export function readiness(parts: ReadinessParts, timeoutMs = READY_TIMEOUT_MS): Readiness {
  return async () => {
    if (!parts.listenersUp()) return "listeners are not up";
    try {
      await bounded(parts.database(), timeoutMs);
    } catch {
      return "database does not answer";
    }
    let pending: number;
    try {
      pending = await bounded(parts.pendingMigrations(), timeoutMs);
    } catch {
      return "cannot read the applied migrations";
    }
    return pending === 0 ? null : `${pending} migration(s) not applied`;
  };
}

/** The `/readyz` response for a readiness result. */
export function readyResponse(reason: string | null, method: string): Response {
  const headers = { "cache-control": "no-store", "content-type": "text/plain; charset=utf-8" };
  const body = reason === null ? "ready\n" : `not ready: ${reason}\n`;
  return new Response(method === "HEAD" ? null : body, {
    status: reason === null ? 200 : 503,
    headers,
  });
}

function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
