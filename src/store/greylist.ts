/**
 * Greylisting state (RFC 6647) in PostgreSQL, so that every Fumi process on the database sees
 * the same triplets: the first attempt of each (client network, sender, recipient), and the
 * client networks allow-listed after a successful retry (RFC 6647 §2.2). The clock is the
 * caller's (`now`), never the database's, so tests can move it. Expired rows are deleted by
 * {@link Greylist.expire}, which a timer of src/server.ts calls every few minutes
 * (src/reputation/greylist.ts `startGreylistExpiry`).
 *
 * @module
 */

import type { Sql } from "./db.ts";

/** One triplet: client network (CIDR text), envelope sender ("" for `<>`), recipient. */
export interface GreylistTriplet {
  readonly client: string;
  readonly sender: string;
  readonly recipient: string;
}

/** Delay before a retry passes, window a first attempt is kept, allow-listing period (ms). */
export interface GreylistPeriods {
  readonly delayMs: number;
  readonly windowMs: number;
  readonly allowMs: number;
}

/** What an attempt comes to. */
export type GreylistAttempt =
  | { readonly kind: "new" }
  | { readonly kind: "early"; readonly waitMs: number }
  | { readonly kind: "passed" }
  | { readonly kind: "allowed" };

/** The greylisting tables. */
export class Greylist {
  constructor(private readonly sql: Sql) {}

  /**
   * Records an attempt at `now`: an allow-listed client network passes (and stays listed for
   * `allowMs` more); a triplet first seen at least `delayMs` and less than `windowMs` ago
   * passes and allow-lists its network; anything else is new (again) or early.
   */
  async attempt(
    triplet: GreylistTriplet,
    now: Date,
    periods: GreylistPeriods,
  ): Promise<GreylistAttempt> {
    const allowUntil = new Date(now.getTime() + periods.allowMs);
    const [allowed] = await this.sql<{ expires_at: Date }[]>`
      select expires_at from greylist_clients
      where client = ${triplet.client} and expires_at > ${now}`;
    if (allowed !== undefined) {
      // The listing is prolonged at most once per REFRESH_FRACTION of its period, not written
      // on every recipient of every message of a busy network.
      const slack = periods.allowMs / REFRESH_FRACTION;
      if (allowed.expires_at.getTime() < allowUntil.getTime() - slack) {
        await this.sql`
          update greylist_clients set expires_at = greatest(expires_at, ${allowUntil})
          where client = ${triplet.client}`;
      }
      return { kind: "allowed" };
    }
    const windowEnd = new Date(now.getTime() + periods.windowMs);
    // One statement: concurrent first attempts of the same triplet agree on first_seen.
    const [row] = await this.sql<{ first_seen: Date }[]>`
      insert into greylist_triplets as t (client, sender, recipient, first_seen, expires_at)
      values (${triplet.client}, ${triplet.sender}, ${triplet.recipient}, ${now}, ${windowEnd})
      on conflict (client, sender, recipient) do update set
        first_seen = case when t.expires_at <= ${now} then excluded.first_seen
                          else t.first_seen end,
        expires_at = case when t.expires_at <= ${now} then excluded.expires_at
                          else t.expires_at end
      returning first_seen`;
    const firstSeen = row!.first_seen.getTime();
    const waited = now.getTime() - firstSeen;
    if (firstSeen === now.getTime()) return { kind: "new" };
    if (waited < periods.delayMs) return { kind: "early", waitMs: periods.delayMs - waited };
    // RFC 6647 §2.2: the client retried like a real MTA; trust its network for a while.
    await this.sql.begin(async (tx) => {
      await tx`
        insert into greylist_clients (client, expires_at) values (${triplet.client}, ${allowUntil})
        on conflict (client) do update set expires_at = excluded.expires_at`;
      await tx`
        delete from greylist_triplets where client = ${triplet.client}
          and sender = ${triplet.sender} and recipient = ${triplet.recipient}`;
    });
    return { kind: "passed" };
  }

  /**
   * Deletes expired triplets and allow-listings, at most `batch` rows per statement (a short
   * lock each, however much expired since the last run); returns how many rows went.
   */
  async expire(now: Date, batch = EXPIRE_BATCH): Promise<number> {
    let removed = 0;
    for (;;) {
      const { count } = await this.sql`
        delete from greylist_triplets where (client, sender, recipient) in (
          select client, sender, recipient from greylist_triplets
          where expires_at <= ${now} limit ${batch})`;
      removed += count;
      if (count < batch) break;
    }
    for (;;) {
      const { count } = await this.sql`
        delete from greylist_clients where client in (
          select client from greylist_clients where expires_at <= ${now} limit ${batch})`;
      removed += count;
      if (count < batch) break;
    }
    return removed;
  }
}

/** Rows deleted per statement by {@link Greylist.expire}. */
const EXPIRE_BATCH = 1_000;
/** An allow-listing is prolonged once less than (1 - 1/this) of its period is left. */
const REFRESH_FRACTION = 10;
