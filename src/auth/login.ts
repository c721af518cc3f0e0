/**
 * Password sign-in (IMAP LOGIN, AUTH PLAIN/LOGIN, the web form): the one path that checks an
 * address and password, with the brute-force defence of src/auth/bans.ts around it.
 *
 * Security model:
 * - No user enumeration. A failed sign-in answers `null` whatever the cause — unknown account,
 *   disabled account, wrong password, banned client — and, apart from the ban, in the same time:
 *   an existing account's password is checked with Argon2id (`verifyPassword`), and an unknown or
 *   disabled one spends the same Argon2id work on a stand-in (`dummyVerify`); the same queries
 *   run either way (failures are counted per address as typed, existing or not), and the delay
 *   comes from the same counts.
 * - A banned client is refused before any password work, with the same `null`, after the
 *   longest delay (no Argon2id time is spent on it).
 * - Each failure is delayed exponentially (see `delayFor` in src/auth/bans.ts) before the
 *   answer; a success is never delayed.
 * - The password never reaches a log, the database or an error.
 *
 * App passwords and the second factor. Every password tried is also looked up as an app
 * password (src/store/app_passwords.ts), by its SHA-256 digest, in the same query that finds the
 * account, so an unknown account runs the same query as a known one. Then, for an enabled
 * account:
 * - an app password whose scopes include the protocol (`imap`, `smtp`) signs in, whether or not
 *   the second factor is on, without Argon2id (it is a 131-bit random token); one whose scopes
 *   do not is refused (`app-password-scope`) after the stand-in's Argon2id work;
 * - with the second factor on, the account's own password signs in on no protocol here: none of
 *   them can ask for a TOTP code, and IMAP and SMTP clients are to use app passwords. It is still
 *   checked with Argon2id (never through the cache), only so that the log can tell a client
 *   still using the account password (`app-password-required`) from a wrong one
 *   (`bad-password`); the answer, the counting and the delay are those of any failure;
 * - otherwise the account's password is checked as always.
 *
 * The web's two steps ({@link Login.checkPassword}, then {@link Login.checkSecondFactor}): the
 * webmail can ask for a TOTP code, so there, and only there, the account's own password of an
 * account with the second factor on is a first step rather than a refusal. It is checked with
 * Argon2id (never through the cache); when right, nothing is counted or logged yet and the caller
 * is told a code is due. The sign-in succeeds (`auth succeeded`, the client's failures cleared)
 * only when the code is right; a wrong code is a failure like a wrong password (reason
 * `bad-second-factor`), counted, delayed and able to ban. A wrong password answers as in
 * {@link Login.checkLogin}, so the first step reveals nothing about whether 2FA is on, except to
 * someone who knows the password.
 *
 * SCRAM-SHA-256 (src/auth/scram_login.ts) is bound to the keys derived from one password, so
 * it cannot take an app password: with the second factor on, it fails like a wrong password.
 * Mail clients of such accounts use PLAIN (or LOGIN) over TLS with an app password.
 *
 * The log line. Every failure writes one line at level `warn`, message `auth failed`, with the
 * fields `protocol`, `ip`, `account`, `reason` in that order, after any fields of the logger
 * itself (a connection id, say). In the two formats of src/ops/log.ts:
 *
 * ```
 * 2026-11-27T12:00:00.000Z WARN  auth failed protocol=imap ip=192.0.2.7 account=alice@example.org reason=bad-password
 * {"time":"2026-11-27T12:00:00.000Z","level":"warn","msg":"auth failed","protocol":"imap","ip":"192.0.2.7","account":"alice@example.org","reason":"bad-password"}
 * ```
 *
 * `ip` is canonical (an IPv4-mapped peer is its IPv4 address) and comes before `account`, the
 * one field a client chooses; the text format quotes any value with a space, `"` or `=`, and the
 * JSON format escapes it, so `contrib/fail2ban/filter.d/fumi.conf` can match the address without
 * a typed account ever standing in for it. Reasons: `bad-password`, `unknown-account`,
 * `disabled`, `banned`, `app-password-required`, `app-password-scope`, `bad-second-factor`,
 * `second-factor-locked`. A success writes `auth succeeded` at level `info` (not matched).
 * fail2ban needs the log level at `warn` or lower.
 *
 * Reconnecting clients: with a {@link VerificationCache}, a password that verified within the
 * last few minutes is accepted again without Argon2id, as DESIGN.md describes. Its entries are
 * keyed by an HMAC (with a random key that never leaves the process) of the address, the stored
 * hash and the password, so a changed password (a new hash) misses at once and nothing in
 * memory can be matched against a guess without that key. Only successes are cached, and the
 * account is looked up (disabled? banned client? second factor on?) before the cache is asked,
 * so the cache can neither let a refused sign-in through nor change a failure's answer (it adds
 * one HMAC, a few microseconds, to the work for an existing account). The second factor's state
 * is read from the database on every sign-in, and an account that has it on never reaches the
 * cache: turning 2FA on (in any process) stops a cached account password at its next use.
 *
 * @module
 */

import { appPasswordDigest } from "../crypto/app_password.ts";
import { dummyVerify, verifyPassword } from "../crypto/password.ts";
import { formatIp, parseIp } from "../net/cidr.ts";
import type { Logger } from "../ops/log.ts";
import { type Metrics, noMetrics } from "../ops/metrics.ts";
import { markAppPasswordUsed, type Sql } from "../store/mod.ts";
import { assertLabel, type Bans, normalizeAccount } from "./bans.ts";

/** Why a sign-in failed, as logged. */
export type LoginFailureReason =
  | "bad-password"
  | "unknown-account"
  | "disabled"
  | "banned"
  /** The account's own password, right, while its second factor is on (app passwords only). */
  | "app-password-required"
  /** An app password not valid for this protocol. */
  | "app-password-scope"
  /** The right password, then a wrong second-factor code (the web's two steps). */
  | "bad-second-factor"
  /** A second-factor code refused unchecked: too many wrong ones for the account lately. */
  | "second-factor-locked";

/** What sign-in needs to know about an account. */
export interface StoredCredentials {
  readonly id: number;
  /** Canonical address. */
  readonly address: string;
  /** Argon2id PHC string. */
  readonly passwordHash: string;
  readonly disabled: boolean;
  readonly isAdmin: boolean;
  /** True when the account's second factor is on (confirmed, not merely pending). */
  readonly twoFactor: boolean;
  /** The account's app password whose digest was asked for, if it has one. */
  readonly appPassword: { readonly id: number; readonly scopes: readonly string[] } | null;
}

/** Where sign-in finds credentials. */
export interface CredentialLookup {
  /**
   * The account with this normalised address (src/auth/bans.ts normalizeAccount), with its app
   * password of digest `appPasswordDigest` (src/crypto/app_password.ts) if it has one; null
   * when there is no such account.
   */
  find(account: string, appPasswordDigest: Uint8Array): Promise<StoredCredentials | null>;
  /** Records that app password `id` just signed in. */
  appPasswordUsed(id: number): Promise<void>;
  /**
   * Wrong second-factor codes (`bad-second-factor` failures) for the account `address` after
   * `since` and after its last successful sign-in.
   */
  secondFactorFailures(accountId: number, address: string, since: Date): Promise<number>;
}

/** The account that signed in. */
export interface SignedIn {
  readonly id: number;
  readonly address: string;
  readonly isAdmin: boolean;
}

/** The first step of the web's sign-in: the account, and whether a TOTP code is still due. */
export interface PasswordChecked {
  readonly account: SignedIn;
  /** True when the second factor is on: {@link Login.checkSecondFactor} completes the sign-in. */
  readonly secondFactorDue: boolean;
}

/** Where a sign-in comes from. */
export interface LoginContext {
  /** `smtp`, `imap`, `web`, …: lower-case letters, digits and hyphens. */
  readonly protocol: string;
  /** The client's address as the socket reports it. */
  readonly ip: string;
}

/** Wrong second-factor codes an account may get in {@link SECOND_FACTOR_WINDOW_MS}. */
export const MAX_SECOND_FACTOR_FAILURES = 10;
/** The window of {@link MAX_SECOND_FACTOR_FAILURES}: one hour. */
export const SECOND_FACTOR_WINDOW_MS = 3600_000;

/** Default time a successful verification is reused. */
export const DEFAULT_VERIFICATION_CACHE_MS = 5 * 60_000;
/** Default most verifications cached. */
export const DEFAULT_VERIFICATION_CACHE_SIZE = 10_000;

/**
 * Recent successful password verifications, in memory (see the module's security model).
 *
 * @example
 * ```ts
 * const login = new Login({ bans, credentials, log, cache: new VerificationCache() });
 * ```
 */
export class VerificationCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, number>();
  #key: Promise<CryptoKey> | null = null;

  constructor(
    options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_VERIFICATION_CACHE_MS;
    this.#maxEntries = options.maxEntries ?? DEFAULT_VERIFICATION_CACHE_SIZE;
    this.#now = options.now ?? Date.now;
  }

  /** True when this password verified against this hash within the time to live. */
  async has(account: string, passwordHash: string, password: string): Promise<boolean> {
    const id = await this.#id(account, passwordHash, password);
    const until = this.#entries.get(id);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#entries.delete(id);
    return false;
  }

  /** Remembers a successful verification. */
  async add(account: string, passwordHash: string, password: string): Promise<void> {
    const id = await this.#id(account, passwordHash, password);
    this.#entries.delete(id);
    this.#entries.set(id, this.#now() + this.#ttlMs);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldest);
    }
  }

  /** How many entries are held (expired ones included until they are next looked up). */
  get size(): number {
    return this.#entries.size;
  }

  /** Forgets everything (after a password or second-factor change, say). */
  clear(): void {
    this.#entries.clear();
  }

  async #id(account: string, passwordHash: string, password: string): Promise<string> {
    this.#key ??= crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]) as Promise<CryptoKey>;
    const data = new TextEncoder().encode(JSON.stringify([account, passwordHash, password]));
    const mac = await crypto.subtle.sign("HMAC", await this.#key, data);
    return new Uint8Array(mac).toBase64();
  }
}

/** What {@link Login} is built from. */
export interface LoginOptions {
  readonly bans: Bans;
  readonly credentials: CredentialLookup;
  readonly log: Logger;
  /** Counts sign-ins (src/ops/metrics.ts); none by default. */
  readonly metrics?: Metrics;
  /** Recent successes to accept without Argon2id; none by default. */
  readonly cache?: VerificationCache;
  /** Waits before a failure is answered; defaults to a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch; defaults to `Date.now`. */
  readonly now?: () => number;
}

/** Looks credentials up in the accounts and app_passwords tables. */
export function sqlCredentials(sql: Sql): CredentialLookup {
  return {
    find: async (account, digest) => {
      // One query whether or not the account exists, or the password is an app password.
      const [row] = await sql<
        {
          id: number;
          address: string;
          password_hash: string;
          disabled: boolean;
          is_admin: boolean;
          two_factor: boolean;
          app_password_id: number | null;
          scopes: string[] | null;
        }[]
      >`
        select a.id, a.address, a.password_hash, a.disabled, a.is_admin,
               a.totp_confirmed_at is not null as two_factor,
               p.id as app_password_id, p.scopes
        from accounts a
        left join app_passwords p on p.account_id = a.id and p.password_sha256 = ${digest}
        where a.address = ${account}`;
      if (row === undefined) return null;
      return {
        id: row.id,
        address: row.address,
        passwordHash: row.password_hash,
        disabled: row.disabled,
        isAdmin: row.is_admin,
        twoFactor: row.two_factor,
        appPassword: row.app_password_id === null
          ? null
          : { id: row.app_password_id, scopes: row.scopes ?? [] },
      };
    },
    appPasswordUsed: (id) => markAppPasswordUsed(sql, id),
    secondFactorFailures: async (accountId, address, since) => {
      const [row] = await sql<{ n: number }[]>`
        select count(*)::int as n from auth_failures
        where account = ${address} and reason = 'bad-second-factor'
          and at > greatest(${since}::timestamptz, coalesce(
            (select max(last_at) from auth_successes where account_id = ${accountId}),
            '-infinity'))`;
      return Number(row?.n ?? 0);
    },
  };
}

/**
 * Writes the stable failure line (see the module doc) for a sign-in that failed elsewhere than
 * in {@link Login} — a SASL SCRAM exchange, say — so that fail2ban sees it too. `ip` must be
 * canonical and `account` normalised (src/auth/bans.ts `normalizeAccount`).
 */
export function logAuthFailure(
  log: Logger,
  failure: { protocol: string; ip: string; account: string; reason: string },
): void {
  // The line fail2ban matches: keep the message, the level and the field order.
  log.warn("auth failed", {
    protocol: failure.protocol,
    ip: failure.ip,
    account: failure.account,
    reason: failure.reason,
  });
}

function timer(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/** Password sign-in with counting, delays and bans. */
export class Login {
  readonly #bans: Bans;
  readonly #credentials: CredentialLookup;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #cache: VerificationCache | null;
  readonly #now: () => number;
  /** Per account: the tail of its queue of second-factor checks (see checkSecondFactor). */
  readonly #secondFactorQueue = new Map<number, Promise<void>>();

  constructor(options: LoginOptions) {
    this.#cache = options.cache ?? null;
    this.#metrics = options.metrics ?? noMetrics;
    this.#bans = options.bans;
    this.#credentials = options.credentials;
    this.#log = options.log;
    this.#sleep = options.sleep ?? timer;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Checks `address` and `password`; resolves to the account, or to null after the failure's
   * delay. Usable detached (`deps.checkLogin = login.checkLogin`).
   *
   * @example
   * ```ts
   * const account = await login.checkLogin("alice@example.org", pw, { protocol: "imap", ip });
   * if (account === null) return no("[AUTHENTICATIONFAILED] Authentication failed");
   * ```
   * @throws {InvalidInputError} when `context.ip` is not an IP address or `context.protocol`
   *   is malformed (a bug in the caller, not the client's doing).
   */
  readonly checkLogin = async (
    address: string,
    password: string,
    context: LoginContext,
  ): Promise<SignedIn | null> => {
    const checked = await this.#check(address, password, context, false);
    return checked === null ? null : checked.account;
  };

  /**
   * The web's first step: like {@link checkLogin}, except that the account's own password of an
   * account with the second factor on is accepted as a first step (`secondFactorDue`), with
   * nothing counted or logged until {@link checkSecondFactor} decides. See the module doc.
   */
  readonly checkPassword = (
    address: string,
    password: string,
    context: LoginContext,
  ): Promise<PasswordChecked | null> => this.#check(address, password, context, true);

  /**
   * The web's second step, after {@link checkPassword} answered `secondFactorDue`: `verify`
   * checks the code (the store's TwoFactor.verify). True completes the sign-in; false is a
   * failure (`bad-second-factor`), counted and answered after its delay. A banned client is
   * refused before the code is checked.
   *
   * Per account, whatever the client: once it has had {@link MAX_SECOND_FACTOR_FAILURES} wrong
   * codes in {@link SECOND_FACTOR_WINDOW_MS} (since its last success), every code is refused
   * without being checked (`second-factor-locked`) until the oldest leaves the window. So
   * clients spread over many networks get at most that many guesses an hour (a 6-digit code:
   * about one chance in 100,000). An account's checks in this process run one at a time, so
   * parallel requests cannot all pass the count before any failure is recorded; nodes sharing
   * the database each serialise their own, so N nodes may overshoot by N - 1.
   */
  readonly checkSecondFactor = (
    account: Pick<SignedIn, "id" | "address">,
    verify: () => Promise<boolean>,
    context: LoginContext,
  ): Promise<boolean> => {
    assertLabel("protocol", context.protocol);
    const ip = formatIp(parseIp(context.ip));
    // Only the decision is queued; the failure's delay is slept outside the queue, so the
    // account's owner does not wait behind a guesser's delays.
    const previous = this.#secondFactorQueue.get(account.id) ?? Promise.resolve();
    const decided = previous.then(() => this.#secondFactor(account, verify, context.protocol, ip));
    const tail = decided.then(() => {}, () => {});
    this.#secondFactorQueue.set(account.id, tail);
    void tail.then(() => {
      if (this.#secondFactorQueue.get(account.id) === tail) {
        this.#secondFactorQueue.delete(account.id);
      }
    });
    return decided.then(async ({ ok, delayMs }) => {
      await this.#sleep(delayMs);
      return ok;
    });
  };

  /** checkSecondFactor's decision, and the delay before it is answered. */
  async #secondFactor(
    account: Pick<SignedIn, "id" | "address">,
    verify: () => Promise<boolean>,
    protocol: string,
    ip: string,
  ): Promise<{ ok: boolean; delayMs: number }> {
    if (await this.#bans.isBanned(ip)) {
      this.#failed(protocol, ip, account.address, "banned");
      return { ok: false, delayMs: this.#bans.policy.maxDelayMs };
    }
    const since = new Date(this.#now() - SECOND_FACTOR_WINDOW_MS);
    const failures = await this.#credentials.secondFactorFailures(
      account.id,
      account.address,
      since,
    );
    // Too many wrong codes for the account lately: refused without checking the code.
    const reason = failures >= MAX_SECOND_FACTOR_FAILURES
      ? "second-factor-locked"
      : await verify()
      ? null
      : "bad-second-factor";
    if (reason === null) {
      await this.#bans.recordSuccess(account.id, ip);
      this.#log.info("auth succeeded", { protocol, ip, account: account.address });
      this.#metrics.auth(protocol, "success");
      return { ok: true, delayMs: 0 };
    }
    this.#failed(protocol, ip, account.address, reason);
    const outcome = await this.#bans.recordFailure({
      protocol,
      ip,
      account: account.address,
      reason,
    });
    return { ok: false, delayMs: outcome.delayMs };
  }

  async #check(
    address: string,
    password: string,
    context: LoginContext,
    secondStep: boolean,
  ): Promise<PasswordChecked | null> {
    assertLabel("protocol", context.protocol);
    const ip = formatIp(parseIp(context.ip));
    const account = normalizeAccount(address);
    if (await this.#bans.isBanned(ip)) {
      this.#failed(context.protocol, ip, account, "banned");
      await this.#sleep(this.#bans.policy.maxDelayMs);
      return null;
    }
    const digest = await appPasswordDigest(password);
    const found = await this.#credentials.find(account, digest);
    let reason: LoginFailureReason;
    if (found === null) {
      await dummyVerify(password);
      reason = "unknown-account";
    } else if (found.disabled) {
      await dummyVerify(password);
      reason = "disabled";
    } else if (found.appPassword !== null) {
      if (found.appPassword.scopes.includes(context.protocol)) {
        await this.#credentials.appPasswordUsed(found.appPassword.id);
        return {
          account: await this.#succeeded(found, context.protocol, ip),
          secondFactorDue: false,
        };
      }
      await dummyVerify(password);
      reason = "app-password-scope";
    } else if (found.twoFactor) {
      // Never through the cache; outside the web's two steps, the outcome only chooses the
      // log's reason.
      const right = await verifyPassword(found.passwordHash, password);
      if (right && secondStep) {
        const account = { id: found.id, address: found.address, isAdmin: found.isAdmin };
        return { account, secondFactorDue: true };
      }
      reason = right ? "app-password-required" : "bad-password";
    } else if (await this.#verify(found, password)) {
      return {
        account: await this.#succeeded(found, context.protocol, ip),
        secondFactorDue: false,
      };
    } else {
      reason = "bad-password";
    }
    this.#failed(context.protocol, ip, account, reason);
    const outcome = await this.#bans.recordFailure({
      protocol: context.protocol,
      ip,
      account,
      reason,
    });
    await this.#sleep(outcome.delayMs);
    return null;
  }

  async #succeeded(found: StoredCredentials, protocol: string, ip: string): Promise<SignedIn> {
    await this.#bans.recordSuccess(found.id, ip);
    this.#log.info("auth succeeded", { protocol, ip, account: found.address });
    this.#metrics.auth(protocol, "success");
    return { id: found.id, address: found.address, isAdmin: found.isAdmin };
  }

  async #verify(found: StoredCredentials, password: string): Promise<boolean> {
    const cache = this.#cache;
    if (cache && await cache.has(found.address, found.passwordHash, password)) return true;
    const ok = await verifyPassword(found.passwordHash, password);
    if (ok && cache) await cache.add(found.address, found.passwordHash, password);
    return ok;
  }

  #failed(protocol: string, ip: string, account: string, reason: LoginFailureReason): void {
    logAuthFailure(this.#log, { protocol, ip, account, reason });
    this.#metrics.auth(protocol, "failure", reason);
  }
}
