/**
 * Webmail sessions, kept server-side in `web_sessions` (migrations/0017_web_sessions.sql).
 *
 * Security model:
 * - The cookie's value is a random 256-bit id (base64url); the table holds only its SHA-256, so
 *   a read of the table (a backup, say) yields no usable cookie.
 * - A session is `second-factor` (password right, TOTP code still due: it opens nothing but the
 *   code form, for {@link SECOND_FACTOR_TTL_MS}, for {@link MAX_CODE_ATTEMPTS} codes) or `full`.
 *   Completing the second factor issues a new id (no session fixation across the step).
 * - A session ends when revoked (sign out, "sign out everywhere", a disabled account), after
 *   {@link WebSessionLimits.idleMs} without use, or {@link WebSessionLimits.absoluteMs} after
 *   its creation, whichever comes first; an ended session is never revived.
 * - Each session has its own CSRF token (256 bits), compared in constant time.
 *
 * @module
 */

import type { Sql } from "../store/mod.ts";

/** Default idle timeout: 30 minutes. */
export const DEFAULT_IDLE_MS = 30 * 60_000;
/** Default absolute timeout: 12 hours. */
export const DEFAULT_ABSOLUTE_MS = 12 * 3600_000;
/** How long a password-only session may wait for its TOTP code. */
export const SECOND_FACTOR_TTL_MS = 5 * 60_000;
/** Codes tried on one password-only session before it is revoked. */
export const MAX_CODE_ATTEMPTS = 5;
/** `last_used_at` is written at most this often per session. */
const TOUCH_EVERY_MS = 60_000;

/** A session's stage. */
export type SessionStage = "second-factor" | "full";

/** Session timeouts. */
export interface WebSessionLimits {
  readonly idleMs: number;
  readonly absoluteMs: number;
}

/** A live session. */
export interface WebSession {
  /** Row id (never the cookie's value). */
  readonly id: number;
  readonly accountId: number;
  readonly address: string;
  readonly stage: SessionStage;
  readonly csrfToken: string;
  readonly ip: string;
  readonly userAgent: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date;
}

/** A session as {@link WebSessions.list} shows it: no CSRF token. */
export type ListedSession = Omit<WebSession, "csrfToken">;

/** A new session and the cookie value that opens it (shown once, never stored). */
export interface IssuedSession {
  readonly token: string;
  readonly session: WebSession;
}

interface Row {
  id: number;
  account_id: number;
  address: string;
  stage: SessionStage;
  csrf_token: string;
  ip: string;
  user_agent: string;
  created_at: Date;
  last_used_at: Date;
}

function toSession(row: Row): WebSession {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    address: row.address,
    stage: row.stage,
    csrfToken: row.csrf_token,
    ip: row.ip,
    userAgent: row.user_agent,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

/** A random 256-bit value, base64url without padding. */
export function randomToken(): string {
  return crypto.getRandomValues(new Uint8Array(32)).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

async function digest(token: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
}

/** Compares two strings in time independent of where they differ. */
export function sameToken(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** User agents are kept for the sessions list, cut to this many characters. */
const MAX_USER_AGENT = 300;

/** Sessions by cookie value. */
export class WebSessions {
  readonly #sql: Sql;
  readonly #limits: WebSessionLimits;
  readonly #now: () => number;
  /** Session id → what to call when it is revoked here (open event streams). */
  readonly #listeners = new Map<number, Set<() => void>>();

  constructor(
    sql: Sql,
    limits: Partial<WebSessionLimits> = {},
    now: () => number = Date.now,
  ) {
    this.#sql = sql;
    this.#limits = {
      idleMs: limits.idleMs ?? DEFAULT_IDLE_MS,
      absoluteMs: limits.absoluteMs ?? DEFAULT_ABSOLUTE_MS,
    };
    this.#now = now;
  }

  /** The timeouts in force. */
  get limits(): WebSessionLimits {
    return this.#limits;
  }

  /** Starts a session for `accountId` at `stage`. */
  async create(
    accountId: number,
    stage: SessionStage,
    client: { ip: string; userAgent: string },
  ): Promise<IssuedSession> {
    const token = randomToken();
    const now = new Date(this.#now());
    const [row] = await this.#sql<Row[]>`
      with s as (
        insert into web_sessions
          (id_sha256, account_id, stage, csrf_token, ip, user_agent, created_at, last_used_at)
        values (${await digest(token)}, ${accountId}, ${stage}, ${randomToken()}, ${client.ip},
                ${client.userAgent.slice(0, MAX_USER_AGENT)}, ${now}, ${now})
        returning *
      )
      select s.*, a.address from s join accounts a on a.id = s.account_id`;
    return { token, session: toSession(row!) };
  }

  /**
   * The live session this cookie value opens, or null (unknown, revoked, timed out, or its
   * account disabled). Records the use (at most once a minute) unless `touch` is false: a
   * page's own background refresh is not its user's activity, and must not keep an
   * unattended session from its idle timeout.
   */
  async open(token: string, options: { touch?: boolean } = {}): Promise<WebSession | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const [row] = await this.#sql<Row[]>`
      select s.id, s.account_id, a.address, s.stage, s.csrf_token, s.ip, s.user_agent,
             s.created_at, s.last_used_at
      from web_sessions s join accounts a on a.id = s.account_id
      where s.id_sha256 = ${await digest(token)} and s.revoked_at is null and not a.disabled`;
    if (!row) return null;
    const session = toSession(row);
    const now = this.#now();
    const lifetime = session.stage === "full" ? this.#limits.absoluteMs : SECOND_FACTOR_TTL_MS;
    if (
      now - session.lastUsedAt.getTime() >= this.#limits.idleMs ||
      now - session.createdAt.getTime() >= lifetime
    ) {
      await this.revoke(session.id);
      return null;
    }
    if (options.touch !== false && now - session.lastUsedAt.getTime() >= TOUCH_EVERY_MS) {
      await this.#sql`
        update web_sessions set last_used_at = ${new Date(now)} where id = ${session.id}`;
      return { ...session, lastUsedAt: new Date(now) };
    }
    return session;
  }

  /**
   * Claims one of a password-only session's {@link MAX_CODE_ATTEMPTS} code attempts, before the
   * code is checked: one statement, so parallel requests on one session cannot all be checked
   * before any is counted. The attempt's number (1 for the first), or null when the session has
   * none left, is no longer password-only, or was revoked (it is then revoked).
   */
  async claimCodeAttempt(sessionId: number): Promise<number | null> {
    const [row] = await this.#sql<{ code_attempts: number }[]>`
      update web_sessions set code_attempts = code_attempts + 1
      where id = ${sessionId} and stage = 'second-factor' and revoked_at is null
        and code_attempts < ${MAX_CODE_ATTEMPTS}
      returning code_attempts`;
    if (row) return Number(row.code_attempts);
    await this.revoke(sessionId);
    return null;
  }

  /**
   * True while session `sessionId` could still be opened (not revoked, its account enabled,
   * within both timeouts). Unlike {@link open} it records no use: a long-lived event stream asks
   * it, and must not keep an unattended session alive.
   */
  async isLive(sessionId: number): Promise<boolean> {
    const [row] = await this.#sql<Pick<Row, "stage" | "created_at" | "last_used_at">[]>`
      select s.stage, s.created_at, s.last_used_at
      from web_sessions s join accounts a on a.id = s.account_id
      where s.id = ${sessionId} and s.revoked_at is null and not a.disabled`;
    if (!row) return false;
    const now = this.#now();
    const lifetime = row.stage === "full" ? this.#limits.absoluteMs : SECOND_FACTOR_TTL_MS;
    return now - row.last_used_at.getTime() < this.#limits.idleMs &&
      now - row.created_at.getTime() < lifetime;
  }

  /**
   * Calls `fn` when session `sessionId` is revoked through this object (sign out, sign out
   * everywhere); the returned function stops listening. Other processes' revocations are seen
   * through {@link isLive}.
   */
  onEnd(sessionId: number, fn: () => void): () => void {
    let set = this.#listeners.get(sessionId);
    if (!set) this.#listeners.set(sessionId, set = new Set());
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.#listeners.get(sessionId) === set) {
        this.#listeners.delete(sessionId);
      }
    };
  }

  /** How many {@link onEnd} listeners session `sessionId` has (its open event streams). */
  listeners(sessionId: number): number {
    return this.#listeners.get(sessionId)?.size ?? 0;
  }

  #ended(ids: readonly number[]): void {
    for (const id of ids) {
      for (const fn of [...(this.#listeners.get(id) ?? [])]) fn();
    }
  }

  /** Ends one session. */
  async revoke(sessionId: number): Promise<void> {
    await this.#sql`
      update web_sessions set revoked_at = ${new Date(this.#now())}
      where id = ${sessionId} and revoked_at is null`;
    this.#ended([sessionId]);
  }

  /** Ends every session of an account ("sign out everywhere"); how many were live. */
  async revokeAll(accountId: number): Promise<number> {
    const rows = await this.#sql<{ id: number }[]>`
      update web_sessions set revoked_at = ${new Date(this.#now())}
      where account_id = ${accountId} and revoked_at is null returning id`;
    this.#ended(rows.map((r) => Number(r.id)));
    return rows.length;
  }

  /**
   * An account's sessions not revoked, newest use first (for a sessions list in settings),
   * without their CSRF tokens: a list shown to one session must not hand it the others'.
   */
  async list(accountId: number): Promise<ListedSession[]> {
    const rows = await this.#sql<Omit<Row, "csrf_token">[]>`
      select s.id, s.account_id, a.address, s.stage, s.ip, s.user_agent,
             s.created_at, s.last_used_at
      from web_sessions s join accounts a on a.id = s.account_id
      where s.account_id = ${accountId} and s.revoked_at is null and s.stage = 'full'
      order by s.last_used_at desc`;
    return rows.map((row) => {
      const { csrfToken: _, ...listed } = toSession({ ...row, csrf_token: "" });
      return listed;
    });
  }

  /** Deletes sessions that ended more than a day ago, or can no longer be used. */
  async purge(): Promise<number> {
    const now = this.#now();
    const rows = await this.#sql`
      delete from web_sessions
      where revoked_at < ${new Date(now - 86_400_000)}
         or last_used_at < ${new Date(now - this.#limits.idleMs - 86_400_000)}
         or created_at < ${new Date(now - this.#limits.absoluteMs - 86_400_000)}
      returning id`;
    return rows.length;
  }
}
