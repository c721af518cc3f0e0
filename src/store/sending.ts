/**
 * What accounts sent through submission, for the sending limits: messages per hour and
 * recipients per day, and recipients remote servers refused (outbound spam control), counted
 * in the database so that every Fumi process on it sees the same numbers. Rows older than a
 * day are deleted as new ones are written.
 *
 * @module
 */

import type { PendingQuery, Row } from "postgres";
import { normalizeDomain } from "../util/address.ts";
import type { Sql, TxSql } from "./db.ts";

/** The limits in force for an account, and what it has used of them. */
export interface SendingUse {
  /** Messages per hour; null: no limit. */
  readonly messagesPerHour: number | null;
  /** Recipients per day; null: no limit. */
  readonly recipientsPerDay: number | null;
  /** Messages in the last hour. */
  readonly messagesLastHour: number;
  /** Recipients in the last 24 hours. */
  readonly recipientsLastDay: number;
}

/** A change to limits: null the next level's, 0 none, a key absent unchanged. */
export interface SendingLimits {
  readonly messagesPerHour?: number | null;
  readonly recipientsPerDay?: number | null;
}

/** The configured limits (0: none). */
export interface SendingDefaults {
  readonly messagesPerHour: number;
  readonly recipientsPerDay: number;
}

/** A message counted against the limits before it is stored, or the limit it would pass. */
export type Reservation =
  | {
    readonly kind: "reserved";
    readonly accountId: number;
    readonly sentAt: Date;
    readonly recipients: number;
  }
  | { readonly kind: "over"; readonly limit: string };

/** Sent-message counts and per-account limits. */
export class Sending {
  constructor(private readonly sql: Sql, private readonly defaults: SendingDefaults) {}

  /** The account's limits (its own, else its domain's, else the configured) and its use. */
  async use(accountId: number, sql: Sql | TxSql = this.sql): Promise<SendingUse> {
    const [row] = await sql<
      {
        per_hour: number | null;
        per_day: number | null;
        messages: number;
        recipients: number;
      }[]
    >`
      select coalesce(a.max_messages_per_hour, d.max_messages_per_hour) as per_hour,
             coalesce(a.max_recipients_per_day, d.max_recipients_per_day) as per_day,
             (select count(*)::int from sent_messages s
              where s.account_id = a.id and s.sent_at > now() - interval '1 hour') as messages,
             (select coalesce(sum(recipients), 0)::int from sent_messages s
              where s.account_id = a.id and s.sent_at > now() - interval '1 day') as recipients
      from accounts a join domains d on d.id = a.domain_id where a.id = ${accountId}`;
    const limit = (own: number | null | undefined, configured: number) => {
      const value = own ?? configured;
      return value === 0 ? null : value;
    };
    return {
      messagesPerHour: limit(row?.per_hour, this.defaults.messagesPerHour),
      recipientsPerDay: limit(row?.per_day, this.defaults.recipientsPerDay),
      messagesLastHour: row?.messages ?? 0,
      recipientsLastDay: row?.recipients ?? 0,
    };
  }

  /**
   * True when one more message would make the last hour a burst: at least `floor` messages,
   * and more than `factor` times the account's hourly average over the 23 hours before it. An
   * account that always sends a lot is not a burst; one that suddenly sends ten times its usual
   * (a stolen password, a script gone wrong) is.
   */
  async isBurst(accountId: number, burst: { floor: number; factor: number }): Promise<boolean> {
    const [row] = await this.sql<{ last_hour: number; before: number }[]>`
      select count(*) filter (where sent_at > now() - interval '1 hour')::int as last_hour,
             count(*) filter (where sent_at <= now() - interval '1 hour')::int as before
      from sent_messages
      where account_id = ${accountId} and sent_at > now() - interval '1 day'`;
    const lastHour = (row?.last_hour ?? 0) + 1;
    const usualPerHour = (row?.before ?? 0) / 23;
    return lastHour >= burst.floor && lastHour > burst.factor * usualPerHour;
  }

  /**
   * Counts a message the account is about to submit, if its limits allow it; forgets what is
   * older than a day. The check and the count are one step per account (an advisory lock), so
   * parallel sessions cannot each pass the check and together exceed a limit. A reservation
   * whose message is then not stored is taken back with {@link Sending.release}.
   */
  async reserve(accountId: number, recipients: number): Promise<Reservation> {
    return await this.sql.begin(async (tx) => {
      // One lock per account (a hash: a collision only makes two accounts wait for each other).
      await tx`select pg_advisory_xact_lock(hashtextextended(${`fumi.sending.${accountId}`}, 0))`;
      const use = await this.use(accountId, tx);
      if (use.messagesPerHour !== null && use.messagesLastHour >= use.messagesPerHour) {
        return { kind: "over", limit: `${use.messagesPerHour} messages per hour` };
      }
      if (
        use.recipientsPerDay !== null && use.recipientsLastDay + recipients > use.recipientsPerDay
      ) {
        return { kind: "over", limit: `${use.recipientsPerDay} recipients per day` };
      }
      const [row] = await tx<{ sent_at: Date }[]>`
        with old as (
          delete from sent_messages
          where account_id = ${accountId} and sent_at < now() - interval '1 day'
        )
        insert into sent_messages (account_id, recipients) values (${accountId}, ${recipients})
        returning sent_at`;
      return { kind: "reserved", accountId, sentAt: row!.sent_at, recipients };
    });
  }

  /** Takes back a reservation whose message was not stored after all. */
  async release(reservation: Extract<Reservation, { kind: "reserved" }>): Promise<void> {
    await this.sql`
      delete from sent_messages where ctid = (
        select ctid from sent_messages
        where account_id = ${reservation.accountId} and sent_at = ${reservation.sentAt}
          and recipients = ${reservation.recipients}
        limit 1
      )`;
  }

  /**
   * Records recipients of the account's mail that remote servers refused for good, forgets
   * what is older than a day, and returns how many were refused in the last hour.
   */
  async recordRefused(accountId: number, recipients: number): Promise<number> {
    await this.sql`
      with old as (
        delete from refused_recipients
        where account_id = ${accountId} and refused_at < now() - interval '1 day'
      )
      insert into refused_recipients (account_id, recipients)
      values (${accountId}, ${recipients})`;
    const [row] = await this.sql<{ refused: number }[]>`
      select coalesce(sum(recipients), 0)::int as refused from refused_recipients
      where account_id = ${accountId} and refused_at > now() - interval '1 hour'`;
    return row?.refused ?? 0;
  }

  /**
   * Sets a domain's limits for its accounts without their own; null: the configured one, 0:
   * no limit, undefined: unchanged. Returns false for a domain not hosted here.
   */
  setDomainLimits(domainName: string, limits: SendingLimits): Promise<boolean> {
    return this.#setLimits(
      this.sql`domains`,
      this.sql`name = ${normalizeDomain(domainName).ascii}`,
      limits,
    );
  }

  /** A domain's own limits (null: the configured one), or null for a domain not hosted. */
  async domainLimits(
    domainName: string,
  ): Promise<{ messagesPerHour: number | null; recipientsPerDay: number | null } | null> {
    const [row] = await this.sql<{ per_hour: number | null; per_day: number | null }[]>`
      select max_messages_per_hour as per_hour, max_recipients_per_day as per_day
      from domains where name = ${normalizeDomain(domainName).ascii}`;
    return row ? { messagesPerHour: row.per_hour, recipientsPerDay: row.per_day } : null;
  }

  /**
   * Sets an account's own limits; null: its domain's (else the configured), 0: no limit,
   * undefined: unchanged. Returns false for an unknown account.
   */
  setLimits(accountId: number, limits: SendingLimits): Promise<boolean> {
    return this.#setLimits(this.sql`accounts`, this.sql`id = ${accountId}`, limits);
  }

  async #setLimits(
    table: PendingQuery<Row[]>,
    where: PendingQuery<Row[]>,
    limits: SendingLimits,
  ): Promise<boolean> {
    const rows = await this.sql`
      update ${table} set
        max_messages_per_hour = case when ${limits.messagesPerHour !== undefined}
          then ${limits.messagesPerHour ?? null}::int else max_messages_per_hour end,
        max_recipients_per_day = case when ${limits.recipientsPerDay !== undefined}
          then ${limits.recipientsPerDay ?? null}::int else max_recipients_per_day end
      where ${where} returning id`;
    return rows.length > 0;
  }
}
