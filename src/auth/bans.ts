/**
 * Brute-force defence: failed sign-ins counted per client and per account, an exponential
 * delay on each failure, and bans that every node sees (tables of migrations/0003_bans.sql).
 *
 * The rules, with the defaults of shared/DESIGN.md:
 * - A client is an IPv4 address or an IPv6 /64 (src/net/cidr.ts `ipKey`); automatic bans cover
 *   exactly that.
 * - Each failure is stored with its time, protocol, address, account as typed (lower-cased;
 *   canonical when it parses, whether or not the account exists) and reason.
 * - Delay: with n the larger of the client's failures in the window (default 1 h) and the
 *   account's failures in the window since its last successful sign-in, a failure is answered
 *   after 0 ms while n ≤ `backoffAfter` (5), then 250 ms, 500 ms, 1 s, 2 s … doubling, at most
 *   `maxDelayMs` (10 s): see {@link delayFor}. Success is never delayed. An account's count
 *   restarts when it signs in (only its owner can do that); a client's does not (an attacker
 *   may own one account).
 * - Ban: when a client reaches `banAfter` (20) counted failures in the window, its key is
 *   banned for `banDurationMs` (1 h). The ban keeps the failures that caused it (`details`,
 *   up to 100) and a one-line summary (`reason`).
 * - Accounts are never locked: per-account failures slow, never ban, so nobody can lock a user
 *   out by failing on their address.
 * - A failure for an account that signed in successfully from the same client within
 *   `trustAfterSuccessMs` (7 days) is "excused": it slows but does not count towards a ban
 *   (the user's phone with an old password must not ban the office).
 * - The allow list always wins: allowed addresses are never banned, and bans covering them are
 *   ignored. Their failures are still recorded and slowed.
 * - Dry run: no automatic ban is stored; a "ban (dry run)" line is logged instead, once per
 *   client and window. Bans made by an administrator are enforced all the same.
 * - Removing a ban forgives the failures inside it, or the next failure would ban again.
 * - Expired bans, failures older than `failureRetentionMs` (1 day) and sign-ins older than the
 *   trust period are deleted by {@link Bans.expire}, which the server runs periodically; bans
 *   past their expiry are ignored before that.
 *
 * Time comes from an injected clock (milliseconds), also for every time written to the
 * database, so tests can move through hours in an instant.
 *
 * @module
 */

import {
  CidrList,
  formatCidr,
  formatIp,
  type IpAddress,
  ipKey,
  keyCidr,
  parseCidr,
  parseIp,
  tryParseCidr,
} from "../net/cidr.ts";
import type { Clock } from "../net/token_bucket.ts";
import { type Logger, silentLogger } from "../ops/log.ts";
import { type Metrics, noMetrics } from "../ops/metrics.ts";
import { AuditLog, type Sql } from "../store/mod.ts";
import { tryParseAddress } from "../util/address.ts";
import { InvalidInputError, NotFoundError } from "../util/errors.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Default failures a client or account may have in the window before answers slow down. */
export const DEFAULT_BACKOFF_AFTER = 5;
/** Default counted failures in the window that ban a client. */
export const DEFAULT_BAN_AFTER = 20;
/** Default window in which failures are counted. */
export const DEFAULT_FAILURE_WINDOW_MS = HOUR;
/** Default length of an automatic ban. */
export const DEFAULT_BAN_DURATION_MS = HOUR;
/** Default first delay, doubled for each further failure. */
export const DEFAULT_BASE_DELAY_MS = 250;
/** Default longest delay (also what a banned client waits for its refusal). */
export const DEFAULT_MAX_DELAY_MS = 10_000;
/** Default time a successful sign-in excuses that account's failures from that client. */
export const DEFAULT_TRUST_AFTER_SUCCESS_MS = 7 * DAY;
/** Default time failures are kept (at least the window). */
export const DEFAULT_FAILURE_RETENTION_MS = DAY;
/** Most failures kept in a ban's details. */
export const MAX_BAN_DETAILS = 100;

/** The rules; each has the default of its `DEFAULT_*` constant. */
export interface BanPolicy {
  readonly backoffAfter: number;
  readonly banAfter: number;
  readonly windowMs: number;
  /** Null: automatic bans do not expire. */
  readonly banDurationMs: number | null;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly trustAfterSuccessMs: number;
  readonly failureRetentionMs: number;
  /** CIDRs never banned. */
  readonly allow: readonly string[];
  /** Log the bans that would be made instead of making them. */
  readonly dryRun: boolean;
}

/** The policy with every default. */
export const DEFAULT_BAN_POLICY: BanPolicy = Object.freeze({
  backoffAfter: DEFAULT_BACKOFF_AFTER,
  banAfter: DEFAULT_BAN_AFTER,
  windowMs: DEFAULT_FAILURE_WINDOW_MS,
  banDurationMs: DEFAULT_BAN_DURATION_MS,
  baseDelayMs: DEFAULT_BASE_DELAY_MS,
  maxDelayMs: DEFAULT_MAX_DELAY_MS,
  trustAfterSuccessMs: DEFAULT_TRUST_AFTER_SUCCESS_MS,
  failureRetentionMs: DEFAULT_FAILURE_RETENTION_MS,
  allow: Object.freeze([]) as readonly string[],
  dryRun: false,
});

/** Options of {@link Bans}: the policy (any part of it), a logger and a clock. */
export interface BansOptions extends Partial<BanPolicy> {
  readonly log?: Logger;
  /** Counts bans (src/ops/metrics.ts); none by default. */
  readonly metrics?: Metrics;
  /** Milliseconds since the epoch; defaults to `Date.now`. */
  readonly now?: Clock;
}

/** A failed sign-in. */
export interface AuthFailure {
  /** `smtp`, `imap`, `web`, … (lower-case letters, digits, hyphens). */
  readonly protocol: string;
  /** The client's address. */
  readonly ip: string;
  /** The account name as typed. */
  readonly account: string;
  /** `bad-password`, `unknown-account`, … (lower-case letters, digits, hyphens). */
  readonly reason: string;
}

/** What a failure led to. */
export interface FailureOutcome {
  /** How long to wait before answering. */
  readonly delayMs: number;
  /**
   * True when the client reached the ban threshold: its key is banned now, by this failure or
   * an earlier one (false in a dry run, and for allowed clients).
   */
  readonly banned: boolean;
  /** Failures in the window: the client's (all, and those counting towards a ban), the account's. */
  readonly failures: {
    readonly client: number;
    readonly counted: number;
    readonly account: number;
  };
}

/** One failure as a ban's details keep it. */
export interface BanFailure {
  readonly at: Date;
  readonly protocol: string;
  readonly ip: string;
  readonly account: string;
  readonly reason: string;
}

/** A ban. */
export interface Ban {
  readonly id: number;
  /** Canonical CIDR, the prefix always written (`192.0.2.7/32`). */
  readonly network: string;
  readonly reason: string;
  readonly details: readonly BanFailure[];
  readonly createdAt: Date;
  /** Null: until removed. */
  readonly expiresAt: Date | null;
  readonly createdBy: "auto" | "admin";
}

/** What {@link Bans.expire} deleted. */
export interface ExpiryReport {
  readonly bans: number;
  readonly failures: number;
  readonly successes: number;
}

interface BanRow {
  id: number;
  network: string;
  reason: string;
  details: unknown;
  created_at: Date;
  expires_at: Date | null;
  created_by: string;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const MAX_ACCOUNT_LENGTH = 320;

/**
 * The delay before answering the `failures`-th failure (counting it).
 *
 * @example
 * ```ts
 * [5, 6, 7, 8, 12, 13].map((n) => delayFor(n)); // [0, 250, 500, 1000, 10000, 10000]
 * ```
 */
export function delayFor(
  failures: number,
  policy: Pick<BanPolicy, "backoffAfter" | "baseDelayMs" | "maxDelayMs"> = DEFAULT_BAN_POLICY,
): number {
  const over = failures - policy.backoffAfter;
  if (over <= 0) return 0;
  // Exponent capped so that the power stays finite; the result is capped anyway.
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(over - 1, 40));
}

/**
 * The form of a typed account name that is stored and logged: the canonical address when it
 * parses, else the text lower-cased; control, format (bidirectional overrides) and line
 * separator characters replaced by "?", and cut at 320 characters.
 */
export function normalizeAccount(typed: string): string {
  // Longer than any address (RFC 5321 §4.5.3.1.3): not worth parsing.
  const parsed = typed.length <= 1024 ? tryParseAddress(typed) : null;
  const canonical = parsed?.canonical ?? typed.normalize("NFC").toLowerCase();
  const safe = canonical.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, "?");
  return safe.length > MAX_ACCOUNT_LENGTH ? `${safe.slice(0, MAX_ACCOUNT_LENGTH)}…` : safe;
}

/** `90 s`, `30 min`, `1 h`, `2 d`, `1 h 30 min`: for reasons and listings. */
export function formatDuration(ms: number): string {
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, seconds] of [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]] as const) {
    if (rest >= seconds) {
      parts.push(`${Math.floor(rest / seconds)} ${unit}`);
      rest %= seconds;
    }
  }
  return parts.length === 0 ? "0 s" : parts.join(" ");
}

/**
 * Checks a protocol or reason name: 1 to 32 of a-z, 0-9 and "-", starting with a letter or
 * digit (so it can stand unquoted in a log line).
 *
 * @throws {InvalidInputError} otherwise.
 */
export function assertLabel(kind: string, value: string): void {
  if (!NAME.test(value)) {
    throw new InvalidInputError(`Invalid ${kind} ${JSON.stringify(value)}: use a-z, 0-9 and -`);
  }
}

function checkPolicy(policy: BanPolicy): void {
  const counts = [["backoffAfter", policy.backoffAfter, 0], [
    "banAfter",
    policy.banAfter,
    1,
  ]] as const;
  for (const [name, value, least] of counts) {
    if (!Number.isInteger(value) || value < least) {
      throw new RangeError(`${name} must be a whole number of at least ${least}, got ${value}`);
    }
  }
  const times = [
    ["windowMs", policy.windowMs],
    ["baseDelayMs", policy.baseDelayMs],
    ["maxDelayMs", policy.maxDelayMs],
    ["trustAfterSuccessMs", policy.trustAfterSuccessMs],
    ["failureRetentionMs", policy.failureRetentionMs],
    ["banDurationMs", policy.banDurationMs ?? 1],
  ] as const;
  for (const [name, value] of times) {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`${name} must be a duration of 0 or more, got ${value}`);
    }
  }
}

function parseDetails(value: unknown): BanFailure[] {
  const list: unknown = typeof value === "string" ? JSON.parse(value) : value;
  if (!Array.isArray(list)) return [];
  const out: BanFailure[] = [];
  for (const item of list) {
    if (typeof item !== "object" || item === null) continue;
    const { at, protocol, ip, account, reason } = item as Record<string, unknown>;
    if (
      typeof at !== "string" || typeof protocol !== "string" || typeof ip !== "string" ||
      typeof account !== "string" || typeof reason !== "string"
    ) continue;
    out.push({ at: new Date(at), protocol, ip, account, reason });
  }
  return out;
}

function toBan(row: BanRow): Ban {
  const cidr = tryParseCidr(row.network);
  return {
    id: row.id,
    network: cidr ? formatCidr(cidr) : row.network,
    reason: row.reason,
    details: parseDetails(row.details),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    createdBy: row.created_by === "admin" ? "admin" : "auto",
  };
}

const BAN_COLUMNS =
  "id, network::text as network, reason, details, created_at, expires_at, created_by";

/** Failure counting, delays and bans, over the database every node shares. */
export class Bans {
  /** The policy in force (defaults filled in). */
  readonly policy: BanPolicy;
  readonly #sql: Sql;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #now: Clock;
  readonly #allow: CidrList;
  /** Dry run: clients whose would-be ban was logged, until when. */
  readonly #reported = new Map<string, number>();

  /** @throws {InvalidInputError} when an allow-list entry is not a CIDR. */
  constructor(sql: Sql, options: BansOptions = {}) {
    const { log, now, metrics, ...policy } = options;
    this.policy = Object.freeze({ ...DEFAULT_BAN_POLICY, ...policy });
    checkPolicy(this.policy);
    this.#sql = sql;
    this.#log = log ?? silentLogger;
    this.#metrics = metrics ?? noMetrics;
    this.#now = now ?? Date.now;
    this.#allow = new CidrList(this.policy.allow);
  }

  /** True when the allow list holds `ip` (which then is never banned). */
  isAllowed(ip: string): boolean {
    return this.#allow.contains(parseIp(ip));
  }

  /** True when an active ban covers `ip` and the allow list does not hold it. */
  async isBanned(ip: string): Promise<boolean> {
    const address = parseIp(ip);
    if (this.#allow.contains(address)) return false;
    const [row] = await this.#sql`
      select 1 from bans
      where network >>= ${formatIp(address)}::inet
        and (expires_at is null or expires_at > ${new Date(this.#now())})
      limit 1`;
    return row !== undefined;
  }

  /**
   * Records a failed sign-in and says how long to wait before answering it and whether the
   * client is banned now.
   */
  async recordFailure(failure: AuthFailure): Promise<FailureOutcome> {
    assertLabel("protocol", failure.protocol);
    assertLabel("reason", failure.reason);
    const address = parseIp(failure.ip);
    const ip = formatIp(address);
    const key = ipKey(address);
    const account = normalizeAccount(failure.account);
    const now = this.#now();
    const since = new Date(now - this.policy.windowMs);
    const trustedSince = new Date(now - this.policy.trustAfterSuccessMs);
    await this.#sql`
      insert into auth_failures (at, protocol, ip, ip_key, account, reason, excused)
      values (${new Date(now)}, ${failure.protocol}, ${ip}::inet, ${key}, ${account},
              ${failure.reason},
              exists (select 1 from auth_successes s join accounts a on a.id = s.account_id
                      where a.address = ${account} and s.ip_key = ${key}
                        and s.last_at > ${trustedSince}))`;
    const [counts] = await this.#sql<{ client: number; counted: number; account: number }[]>`
      select
        (select count(*) from auth_failures where ip_key = ${key} and at > ${since}) as client,
        (select count(*) from auth_failures
          where ip_key = ${key} and at > ${since} and not excused) as counted,
        (select count(*) from auth_failures
          where account = ${account}
            and at > greatest(${since}::timestamptz, coalesce(
              (select max(s.last_at) from auth_successes s join accounts a on a.id = s.account_id
                where a.address = ${account}),
              '-infinity'))) as account`;
    const failures = {
      client: counts?.client ?? 1,
      counted: counts?.counted ?? 0,
      account: counts?.account ?? 1,
    };
    const delayMs = delayFor(Math.max(failures.client, failures.account), this.policy);
    let banned = false;
    if (failures.counted >= this.policy.banAfter && !this.#allow.contains(address)) {
      banned = await this.#autoBan(address, key, now, failures.counted);
    }
    return { delayMs, banned, failures };
  }

  /** Records a successful sign-in of `accountId` from `ip`. */
  async recordSuccess(accountId: number, ip: string): Promise<void> {
    const key = ipKey(parseIp(ip));
    await this.#sql`
      insert into auth_successes (account_id, ip_key, last_at)
      values (${accountId}, ${key}, ${new Date(this.#now())})
      on conflict (account_id, ip_key)
      do update set last_at = greatest(auth_successes.last_at, excluded.last_at)`;
  }

  /** Active bans (with `includeExpired`, also those past expiry), oldest first. */
  async list(options: { includeExpired?: boolean } = {}): Promise<Ban[]> {
    const rows = options.includeExpired
      ? await this.#sql.unsafe<BanRow[]>(`select ${BAN_COLUMNS} from bans order by created_at, id`)
      : await this.#sql.unsafe<BanRow[]>(
        `select ${BAN_COLUMNS} from bans where expires_at is null or expires_at > $1
         order by created_at, id`,
        [new Date(this.#now())],
      );
    return rows.map(toBan);
  }

  /** The active bans covering `target` (an address or a network): why it is banned. */
  async covering(target: string): Promise<Ban[]> {
    const cidr = formatCidr(parseCidr(target));
    const rows = await this.#sql.unsafe<BanRow[]>(
      `select ${BAN_COLUMNS} from bans
       where network >>= $1::cidr and (expires_at is null or expires_at > $2)
       order by masklen(network) desc, id`,
      [cidr, new Date(this.#now())],
    );
    return rows.map(toBan);
  }

  /**
   * Bans a network (or one address) by hand, until `expiresAt` (null or absent: until removed).
   * An existing ban on the same network is replaced, its details kept.
   *
   * @throws {InvalidInputError} for a malformed CIDR or an expiry in the past.
   */
  async add(
    target: string,
    options: { reason?: string; expiresAt?: Date | null } = {},
  ): Promise<Ban> {
    const cidr = formatCidr(parseCidr(target));
    const now = this.#now();
    const expiresAt = options.expiresAt ?? null;
    if (expiresAt !== null && !(expiresAt.getTime() > now)) {
      throw new InvalidInputError(`The ban on ${cidr} would expire before it starts`);
    }
    const reason = options.reason?.trim() || "banned by an administrator";
    const rows = await this.#sql.unsafe<BanRow[]>(
      `insert into bans (network, reason, created_at, expires_at, created_by)
       values ($1::cidr, $2, $3, $4, 'admin')
       on conflict (network) do update
         set reason = excluded.reason, created_at = excluded.created_at,
             expires_at = excluded.expires_at, created_by = 'admin'
       returning ${BAN_COLUMNS}`,
      [cidr, reason, new Date(now), expiresAt],
    );
    const ban = toBan(rows[0]!);
    this.#log.warn("ban added", banFields(ban));
    this.#metrics.ban("admin");
    return ban;
  }

  /**
   * Removes the ban on exactly this network (or address) and forgives the failures inside it.
   *
   * @throws {NotFoundError} when there is none; the message names any bans covering it.
   */
  async remove(target: string): Promise<Ban> {
    const cidr = formatCidr(parseCidr(target));
    const rows = await this.#sql.unsafe<BanRow[]>(
      `delete from bans where network = $1::cidr returning ${BAN_COLUMNS}`,
      [cidr],
    );
    if (rows[0] === undefined) {
      const covering = await this.covering(cidr);
      const hint = covering.length === 0
        ? ""
        : `; it is covered by ${covering.map((b) => b.network).join(", ")}`;
      throw new NotFoundError(`No ban on ${cidr}${hint}`);
    }
    await this.#sql`delete from auth_failures where ip <<= ${cidr}::cidr`;
    const ban = toBan(rows[0]);
    this.#log.warn("ban removed", { network: ban.network });
    return ban;
  }

  /** Deletes expired bans, old failures and old sign-ins. */
  async expire(): Promise<ExpiryReport> {
    const now = this.#now();
    const keepFailures = Math.max(this.policy.failureRetentionMs, this.policy.windowMs);
    const bans = await this.#sql`delete from bans where expires_at <= ${new Date(now)}`;
    const failures = await this.#sql`
      delete from auth_failures where at < ${new Date(now - keepFailures)}`;
    const successes = await this.#sql`
      delete from auth_successes where last_at < ${new Date(
      now - this.policy.trustAfterSuccessMs,
    )}`;
    for (const [key, until] of this.#reported) if (until <= now) this.#reported.delete(key);
    return { bans: bans.count, failures: failures.count, successes: successes.count };
  }

  async #autoBan(address: IpAddress, key: string, now: number, counted: number): Promise<boolean> {
    const network = formatCidr(keyCidr(address));
    const since = new Date(now - this.policy.windowMs);
    const recent = await this.#sql<
      { at: Date; protocol: string; ip: string; account: string; reason: string }[]
    >`
      select at, protocol, host(ip) as ip, account, reason from auth_failures
      where ip_key = ${key} and at > ${since} and not excused
      order by at desc, id desc limit ${MAX_BAN_DETAILS}`;
    const accounts = await this.#sql<{ account: string; n: number }[]>`
      select account, count(*) as n from auth_failures
      where ip_key = ${key} and at > ${since} and not excused
      group by account order by n desc, account limit 6`;
    const reason = summary(counted, this.policy.windowMs, network, accounts);
    if (this.policy.dryRun) {
      const until = this.#reported.get(key);
      if (until === undefined || until <= now) {
        this.#reported.set(key, now + this.policy.windowMs);
        if (this.#reported.size > 10_000) {
          this.#reported.delete(this.#reported.keys().next().value!);
        }
        this.#log.warn("ban (dry run)", { network, by: "auto", reason });
      }
      return false;
    }
    const details = recent.map((f) => ({
      at: f.at.toISOString(),
      protocol: f.protocol,
      ip: f.ip,
      account: f.account,
      reason: f.reason,
    }));
    const expiresAt = this.policy.banDurationMs === null
      ? null
      : new Date(now + this.policy.banDurationMs);
    // Replaces a ban on the same network only once it has expired: an active ban (perhaps an
    // administrator's, perhaps another node's a moment ago) stays as it is.
    const rows = await this.#sql.unsafe<BanRow[]>(
      `insert into bans (network, reason, details, created_at, expires_at, created_by)
       values ($1::cidr, $2, $3, $4, $5, 'auto')
       on conflict (network) do update
         set reason = excluded.reason, details = excluded.details,
             created_at = excluded.created_at, expires_at = excluded.expires_at,
             created_by = 'auto'
         where bans.expires_at is not null and bans.expires_at <= excluded.created_at
       returning ${BAN_COLUMNS}`,
      [network, reason, this.#sql.json(details), new Date(now), expiresAt],
    );
    if (rows[0] !== undefined) {
      const ban = toBan(rows[0]);
      this.#log.warn("ban added", banFields(ban));
      this.#metrics.ban("auto");
      // The ban stands whether or not its audit row can be written; a failure is logged.
      await new AuditLog(this.#sql).append({
        actor: "system",
        action: "ban.add",
        target: ban.network,
        details: { reason: ban.reason, expires: ban.expiresAt?.toISOString() ?? null },
        source: "system",
      }).catch((error) => this.#log.error("cannot record a ban in the audit log", { error }));
    }
    return true;
  }
}

function summary(
  counted: number,
  windowMs: number,
  network: string,
  accounts: readonly { account: string; n: number }[],
): string {
  const shown = accounts.slice(0, 5).map(({ account, n }) => {
    const name = account === "" ? '""' : account.length > 64 ? `${account.slice(0, 64)}…` : account;
    return `${name} ×${n}`;
  });
  if (accounts.length > 5) shown.push("…");
  return `${counted} failed sign-ins within ${formatDuration(windowMs)} from ${network}: ${
    shown.join(", ")
  }`;
}

function banFields(ban: Ban): Record<string, unknown> {
  return {
    network: ban.network,
    by: ban.createdBy,
    expires: ban.expiresAt?.toISOString() ?? "never",
    reason: ban.reason,
  };
}
