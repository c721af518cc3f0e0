/**
 * What operators read about a running installation: the queue's size and age (metrics at
 * scrape time, `fumi status`), the database's round trip, and the last errors the servers
 * logged. Every query here is cheap: the queue's through its partial index on queued
 * recipients, the errors through a table trimmed to its newest rows.
 *
 * @module
 */

import type { Registry } from "../ops/metrics.ts";
import type { Sql } from "./db.ts";

/** The queue at a glance. */
export interface QueueGauges {
  /** Recipients waiting to be sent, not held. */
  readonly queued: number;
  /** Recipients of held messages. */
  readonly held: number;
  /** When the oldest waiting message (held or not) was queued; null when none waits. */
  readonly oldest: Date | null;
}

/** Reads the queue's gauges. */
export async function queueGauges(sql: Sql): Promise<QueueGauges> {
  const [row] = await sql<{ queued: number; held: number; oldest: Date | null }[]>`
    select count(*) filter (where m.held_at is null)::int as queued,
           count(*) filter (where m.held_at is not null)::int as held,
           min(m.created_at) as oldest
    from queue_recipients r join queue_messages m on m.id = r.queue_message_id
    where r.status = 'queued'`;
  return { queued: row?.queued ?? 0, held: row?.held ?? 0, oldest: row?.oldest ?? null };
}

/** Times one `select 1`, in seconds. */
export async function databaseLatency(sql: Sql): Promise<number> {
  const start = performance.now();
  await sql`select 1`;
  return (performance.now() - start) / 1000;
}

/** Active bans (not expired). */
export async function activeBans(sql: Sql, now = new Date()): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from bans where expires_at is null or expires_at > ${now}`;
  return row?.n ?? 0;
}

/**
 * Declares the gauges read from the database at each scrape: the queue (waiting, held, oldest
 * age), active bans, and the round trip of `select 1` (a gauge of the last and a histogram of
 * all scrapes). A database that does not answer fails the collector, which the scrape reports.
 */
export function registerStoreMetrics(registry: Registry, sql: Sql): void {
  const queue = registry.gauge(
    "fumi_queue_recipients",
    "Recipients waiting in the outbound queue, by state (queued, held).",
    ["state"],
  );
  const oldest = registry.gauge(
    "fumi_queue_oldest_age_seconds",
    "Age of the oldest message waiting in the outbound queue (0 when empty).",
  );
  const bans = registry.gauge("fumi_bans_active", "Bans in force now.");
  const latency = registry.gauge(
    "fumi_database_latency_seconds",
    "Round trip of select 1 at the last scrape.",
  );
  const latencies = registry.histogram(
    "fumi_database_ping_seconds",
    "Round trips of select 1, one per scrape.",
  );
  registry.collect(async () => {
    const seconds = await databaseLatency(sql);
    latency.set({}, seconds);
    latencies.observe({}, seconds);
    const [gauges, banned] = await Promise.all([queueGauges(sql), activeBans(sql)]);
    queue.set({ state: "queued" }, gauges.queued);
    queue.set({ state: "held" }, gauges.held);
    oldest.set({}, gauges.oldest === null ? 0 : (Date.now() - gauges.oldest.getTime()) / 1000);
    bans.set({}, banned);
  });
}

/** One logged error. */
export interface ErrorEvent {
  readonly at: Date;
  /** The host name of the server that logged it. */
  readonly node: string;
  readonly message: string;
  /** The line's fields, as the logger wrote them (redacted). */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Rows kept in error_events. */
export const ERROR_EVENTS_KEPT = 200;

/** The last errors, shared by every node through the database. */
export class ErrorEvents {
  constructor(private readonly sql: Sql) {}

  /** Stores `events` and trims the table to its newest {@link ERROR_EVENTS_KEPT} rows. */
  async add(events: readonly ErrorEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.sql.begin(async (tx) => {
      for (const e of events) {
        await tx`insert into error_events (at, node, message, fields)
                 values (${e.at}, ${e.node}, ${e.message}, ${tx.json(e.fields as never)})`;
      }
      await tx`delete from error_events where id <= (
                 select id from error_events order by id desc offset ${ERROR_EVENTS_KEPT} limit 1)`;
    });
  }

  /** The newest `limit` errors, newest first. */
  async recent(limit = 10): Promise<ErrorEvent[]> {
    const rows = await this.sql<
      { at: Date; node: string; message: string; fields: Record<string, unknown> }[]
    >`select at, node, message, fields from error_events order by id desc limit ${limit}`;
    return rows.map((r) => ({ at: r.at, node: r.node, message: r.message, fields: r.fields }));
  }
}
