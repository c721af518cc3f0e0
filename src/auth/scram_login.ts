/**
 * The account side of a SCRAM-SHA-256 sign-in (RFC 5802, RFC 7677): looking up the stored keys
 * for the server-first-message, checking the client's proof, and the brute-force defence of
 * src/auth/bans.ts around it. The wire format lives in src/auth/sasl/scram.ts; this module sees
 * only a user name, an AuthMessage and a proof.
 *
 * It gives the guarantees of {@link Login} (src/auth/login.ts), adapted to a two-step exchange:
 *
 * - No user enumeration. {@link ScramLogin.start} answers every name that is not banned with a
 *   salt and an iteration count. For an unknown account they are made up, but deterministically:
 *   the salt is an HMAC of the normalised name under a key that never leaves the process (so
 *   asking twice gives the same salt, as for a real account), its length is that of a real salt,
 *   and the iteration count is {@link SCRAM_DEFAULT_ITERATIONS}, what new accounts get. A
 *   disabled account answers with its real salt (its existence was visible while it was enabled
 *   and must not change the answer). The proof is then checked against keys that no proof can
 *   match, with the same HMAC and hash work as for a real account, and the failure is counted,
 *   logged and delayed exactly like a wrong password.
 * - An account whose second factor is on cannot sign in with SCRAM: the exchange is bound to
 *   the keys of the account's own password, which IMAP and SMTP then no longer accept, and an
 *   app password has no SCRAM keys (src/auth/login.ts explains; such clients use PLAIN over TLS
 *   with an app password). It is answered like a disabled account: with its real salt (turning
 *   2FA on must not change the answer, or the change would show), the proof checked against its
 *   real keys with the same work, and then refused like a wrong password, logged as
 *   `app-password-required` when the proof was right and `bad-password` when not.
 * - A banned client is refused at the start of the exchange, before any lookup, after the
 *   longest delay (`policy.maxDelayMs`), with the `banned` log line and nothing counted.
 * - Each failed proof is recorded (`Bans.recordFailure`, which may ban the client), logged with
 *   {@link logAuthFailure} (reasons `bad-password`, `unknown-account`, `disabled`,
 *   `app-password-required`), and answered
 *   only after the delay the failure's outcome gives. A success is recorded
 *   (`Bans.recordSuccess`), logged as `auth succeeded` at level `info`, and never delayed.
 * - An exchange abandoned between the two steps, or broken off by a malformed message, checks
 *   no proof and so learns the client nothing about the password; it is not counted.
 *
 * The fake-salt key is random per process by default, so two nodes give an unknown account
 * different salts; pass `secret` (the same on every node) to make them agree.
 *
 * @module
 */

import {
  computeServerSignature,
  parseScram,
  SCRAM_DEFAULT_ITERATIONS,
  SCRAM_SALT_LENGTH,
  type ScramCredentials,
  verifyClientProof,
} from "../crypto/scram.ts";
import { formatIp, parseIp } from "../net/cidr.ts";
import type { Logger } from "../ops/log.ts";
import { type Metrics, noMetrics } from "../ops/metrics.ts";
import type { Sql } from "../store/mod.ts";
import { assertLabel, type Bans, normalizeAccount } from "./bans.ts";
import {
  logAuthFailure,
  type LoginContext,
  type LoginFailureReason,
  type SignedIn,
} from "./login.ts";

/** What a SCRAM sign-in needs to know about an account. */
export interface StoredScramCredentials {
  readonly id: number;
  /** Canonical address. */
  readonly address: string;
  /** The `accounts.scram_sha256` text (src/crypto/scram.ts `formatScram`). */
  readonly scram: string;
  readonly disabled: boolean;
  readonly isAdmin: boolean;
  /** True when the account's second factor is on: SCRAM is then refused. */
  readonly twoFactor: boolean;
}

/** Finds an account's SCRAM credentials by its normalised address. */
export type ScramCredentialLookup = (account: string) => Promise<StoredScramCredentials | null>;

/** Looks SCRAM credentials up in the accounts table. */
export function sqlScramCredentials(sql: Sql): ScramCredentialLookup {
  return async (account) => {
    const [row] = await sql<
      {
        id: number;
        address: string;
        scram_sha256: string;
        disabled: boolean;
        is_admin: boolean;
        two_factor: boolean;
      }[]
    >`select id, address, scram_sha256, disabled, is_admin,
             totp_confirmed_at is not null as two_factor
      from accounts where address = ${account}`;
    if (row === undefined) return null;
    return {
      id: row.id,
      address: row.address,
      scram: row.scram_sha256,
      disabled: row.disabled,
      isAdmin: row.is_admin,
      twoFactor: row.two_factor,
    };
  };
}

/** What {@link ScramLogin} is built from. */
export interface ScramLoginOptions {
  readonly bans: Bans;
  readonly credentials: ScramCredentialLookup;
  readonly log: Logger;
  /** Counts sign-ins (src/ops/metrics.ts); none by default. */
  readonly metrics?: Metrics;
  /** Waits before a failure is answered; defaults to a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Key for the made-up salts of unknown accounts (at least 16 bytes); defaults to random bytes
   * drawn once per process.
   */
  readonly secret?: Uint8Array;
}

/** A proof that verified. */
export interface ScramVerified {
  readonly account: SignedIn;
  /** ServerSignature (RFC 5802 §3), sent base64-encoded as `v=` in server-final-message. */
  readonly serverSignature: Uint8Array;
}

/** One exchange between its server-first-message and the client's proof. */
export interface ScramAttempt {
  /** The user name, normalised (src/auth/bans.ts `normalizeAccount`). */
  readonly account: string;
  /** The salt for server-first-message (`s=`). */
  readonly salt: Uint8Array;
  /** The iteration count for server-first-message (`i=`). */
  readonly iterations: number;
  /**
   * Checks the client's proof over `authMessage` (RFC 5802 §3). Resolves to the account and the
   * server's signature, or to null after the failure was recorded, logged and delayed. At most
   * one call per attempt.
   */
  verify(authMessage: string, clientProof: Uint8Array): Promise<ScramVerified | null>;
}

const KEY_LENGTH = 32;
const encoder = new TextEncoder();
let processSecret: Uint8Array | null = null;

function timer(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

async function hmac(key: Uint8Array, label: string, account: string): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  // The label keeps the salt and the stand-in keys independent of one another.
  const data = encoder.encode(`${label}\u0000${account}`);
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, data));
}

/** SCRAM-SHA-256 sign-in with counting, delays and bans. */
export class ScramLogin {
  readonly #bans: Bans;
  readonly #credentials: ScramCredentialLookup;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #secret: Uint8Array;

  /** @throws {RangeError} when `secret` is shorter than 16 bytes. */
  constructor(options: ScramLoginOptions) {
    if (options.secret !== undefined && options.secret.length < 16) {
      throw new RangeError(
        `The SCRAM secret must be at least 16 bytes, got ${options.secret.length}`,
      );
    }
    this.#bans = options.bans;
    this.#credentials = options.credentials;
    this.#log = options.log;
    this.#metrics = options.metrics ?? noMetrics;
    this.#sleep = options.sleep ?? timer;
    this.#secret = options.secret ??
      (processSecret ??= crypto.getRandomValues(new Uint8Array(KEY_LENGTH)));
  }

  /**
   * Begins an exchange for `username` (already prepared by the SASL layer): resolves to the
   * salt and iteration count to send, or to null for a banned client (after the longest delay).
   *
   * @example
   * ```ts
   * const attempt = await scram.start("alice@example.org", { protocol: "smtp", ip });
   * if (attempt === null) return failure;
   * // … server-first-message with attempt.salt and attempt.iterations, then:
   * const verified = await attempt.verify(authMessage, proof);
   * ```
   * @throws {InvalidInputError} when `context.ip` is not an IP address or `context.protocol`
   *   is malformed (a bug in the caller).
   * @throws {Error} when the account's stored SCRAM credentials cannot be parsed (a damaged
   *   row: an internal error, not the client's doing).
   */
  async start(username: string, context: LoginContext): Promise<ScramAttempt | null> {
    assertLabel("protocol", context.protocol);
    const ip = formatIp(parseIp(context.ip));
    const account = normalizeAccount(username);
    if (await this.#bans.isBanned(ip)) {
      logAuthFailure(this.#log, { protocol: context.protocol, ip, account, reason: "banned" });
      this.#metrics.auth(context.protocol, "failure", "banned");
      await this.#sleep(this.#bans.policy.maxDelayMs);
      return null;
    }
    const found = await this.#credentials(account);
    let credentials: ScramCredentials;
    let reason: LoginFailureReason | null;
    if (found === null) {
      credentials = await this.#standIn(account);
      reason = "unknown-account";
    } else {
      credentials = readStored(found);
      reason = found.disabled ? "disabled" : null;
    }
    let used = false;
    return {
      account,
      salt: credentials.salt,
      iterations: credentials.iterations,
      verify: async (authMessage, clientProof) => {
        if (used) throw new Error("ScramAttempt.verify() may be called only once");
        used = true;
        // The same work whatever the account: a stand-in's keys match no proof.
        const proofOk = await verifyClientProof(credentials.storedKey, authMessage, clientProof);
        const signature = await computeServerSignature(credentials.serverKey, authMessage);
        if (found !== null && reason === null && !found.twoFactor && proofOk) {
          await this.#bans.recordSuccess(found.id, ip);
          this.#log.info("auth succeeded", {
            protocol: context.protocol,
            ip,
            account: found.address,
          });
          this.#metrics.auth(context.protocol, "success");
          return {
            account: { id: found.id, address: found.address, isAdmin: found.isAdmin },
            serverSignature: signature,
          };
        }
        const why: LoginFailureReason = reason ??
          (found?.twoFactor && proofOk ? "app-password-required" : "bad-password");
        logAuthFailure(this.#log, { protocol: context.protocol, ip, account, reason: why });
        this.#metrics.auth(context.protocol, "failure", why);
        const outcome = await this.#bans.recordFailure({
          protocol: context.protocol,
          ip,
          account,
          reason: why,
        });
        await this.#sleep(outcome.delayMs);
        return null;
      },
    };
  }

  /** Made-up credentials for an unknown account: stable per name, matching no proof. */
  async #standIn(account: string): Promise<ScramCredentials> {
    const [salt, storedKey, serverKey] = await Promise.all([
      hmac(this.#secret, "salt", account),
      hmac(this.#secret, "stored-key", account),
      hmac(this.#secret, "server-key", account),
    ]);
    return {
      iterations: SCRAM_DEFAULT_ITERATIONS,
      salt: salt.slice(0, SCRAM_SALT_LENGTH),
      storedKey,
      serverKey,
    };
  }
}

function readStored(found: StoredScramCredentials): ScramCredentials {
  try {
    return parseScram(found.scram);
  } catch (error) {
    // A damaged row is the server's problem: an internal error, not a user-facing message.
    throw new Error(`The SCRAM credentials of account ${found.id} cannot be read`, {
      cause: error,
    });
  }
}
