/**
 * The second factor of an account: a TOTP secret (src/crypto/totp.ts), sealed with the
 * account's data key and bound to its row (`accounts.totp_secret`).
 *
 * States: `off` (no secret), `pending` (enrolment begun: a secret exists, shown once to be put
 * into an authenticator, but nothing requires it yet) and `on` (a code made from it was
 * confirmed). Only `on` changes sign-in: IMAP and SMTP then accept app passwords only
 * (src/auth/login.ts), which reads the state from the database on every sign-in, so a change
 * here takes effect at once on every node.
 *
 * Each accepted code's time step is kept, and a code of the same or an earlier step is refused
 * afterwards (RFC 6238 §5.2): a code seen over someone's shoulder cannot be used again.
 *
 * @module
 */

import { matchTotp, newTotpSecret, totpBase32, totpUri } from "../crypto/totp.ts";
import { ConflictError, NotFoundError } from "../util/errors.ts";
import type { Sql } from "./db.ts";
import type { Vault } from "./vault.ts";

/** Whether an account has a second factor. */
export type TwoFactorState = "off" | "pending" | "on";

/** What a new enrolment shows the user, once. */
export interface TotpEnrolment {
  /** The secret in base32, to type into an authenticator. */
  readonly secret: string;
  /** The `otpauth://totp/…` URI, to show as a QR code. */
  readonly uri: string;
}

interface TotpRow {
  totp_secret: Uint8Array | null;
  totp_confirmed_at: Date | null;
}

function placement(accountId: number) {
  return { table: "accounts", column: "totp_secret", row: accountId };
}

function stateOf(row: TotpRow): TwoFactorState {
  if (row.totp_secret === null) return "off";
  return row.totp_confirmed_at === null ? "pending" : "on";
}

/** TOTP enrolment and checks, by account id. */
export class TwoFactor {
  readonly #sql: Sql;
  readonly #vault: Vault;
  readonly #now: () => number;

  constructor(sql: Sql, vault: Vault, now: () => number = Date.now) {
    this.#sql = sql;
    this.#vault = vault;
    this.#now = now;
  }

  /** The account's state; NotFoundError when there is no such account. */
  async state(accountId: number): Promise<TwoFactorState> {
    return stateOf(await this.#row(accountId));
  }

  /**
   * Begins enrolment with a new secret (replacing one still pending) and returns it for the
   * user's authenticator; `label` names the issuer and the account there. The second factor is
   * on only after {@link confirm}.
   *
   * @throws {ConflictError} when the second factor is on already (disable it first).
   */
  async begin(
    accountId: number,
    label: { issuer: string; account: string },
  ): Promise<TotpEnrolment> {
    const secret = newTotpSecret();
    try {
      const sealed = await this.#vault.seal(accountId, secret, placement(accountId));
      const [row] = await this.#sql<{ id: number }[]>`
        update accounts set totp_secret = ${sealed}, totp_confirmed_at = null,
                            totp_last_step = null
        where id = ${accountId} and totp_confirmed_at is null
        returning id`;
      if (!row) {
        await this.#row(accountId); // NotFoundError for a missing account
        throw new ConflictError(
          "Two-factor authentication is on already; disable it before enrolling again",
        );
      }
      return { secret: totpBase32(secret), uri: totpUri(secret, label) };
    } finally {
      secret.fill(0);
    }
  }

  /**
   * Turns the second factor on if `code` is the pending secret's code now (±1 step): true when
   * it did, false for a wrong code.
   *
   * @throws {ConflictError} when no enrolment is pending (none begun, or on already).
   */
  async confirm(accountId: number, code: string): Promise<boolean> {
    const row = await this.#row(accountId);
    if (stateOf(row) !== "pending") {
      throw new ConflictError(
        stateOf(row) === "on"
          ? "Two-factor authentication is on already"
          : "No two-factor enrolment is pending; begin one first",
      );
    }
    const step = await this.#match(accountId, row.totp_secret!, code);
    if (step === null) return false;
    // Only the secret that was checked: a concurrent new enrolment replaced it, and then not.
    const [done] = await this.#sql<{ id: number }[]>`
      update accounts set totp_confirmed_at = now(), totp_last_step = ${step}
      where id = ${accountId} and totp_confirmed_at is null and totp_secret = ${row.totp_secret}
      returning id`;
    return done !== undefined;
  }

  /**
   * True when the second factor is on and `code` is its code now (±1 step), of a later step
   * than any code accepted before; the step is then recorded. False otherwise, `off` and
   * `pending` included.
   */
  async verify(accountId: number, code: string): Promise<boolean> {
    const row = await this.#row(accountId);
    if (stateOf(row) !== "on") return false;
    const step = await this.#match(accountId, row.totp_secret!, code);
    if (step === null) return false;
    const [done] = await this.#sql<{ id: number }[]>`
      update accounts set totp_last_step = ${step}
      where id = ${accountId} and totp_confirmed_at is not null
        and totp_secret = ${row.totp_secret}
        and (totp_last_step is null or totp_last_step < ${step})
      returning id`;
    return done !== undefined;
  }

  /** Turns the second factor off (or abandons a pending enrolment); the state it had. */
  async disable(accountId: number): Promise<TwoFactorState> {
    const [row] = await this.#sql<TotpRow[]>`
      update accounts a set totp_secret = null, totp_confirmed_at = null, totp_last_step = null
      from accounts old
      where a.id = ${accountId} and old.id = a.id
      returning old.totp_secret, old.totp_confirmed_at`;
    if (!row) throw new NotFoundError(`No account with id ${accountId}`);
    return stateOf(row);
  }

  async #match(accountId: number, sealed: Uint8Array, code: string): Promise<number | null> {
    const secret = await this.#vault.open(sealed, placement(accountId));
    try {
      return matchTotp(secret, code, this.#now());
    } finally {
      secret.fill(0);
    }
  }

  async #row(accountId: number): Promise<TotpRow> {
    const [row] = await this.#sql<TotpRow[]>`
      select totp_secret, totp_confirmed_at from accounts where id = ${accountId}`;
    if (!row) throw new NotFoundError(`No account with id ${accountId}`);
    return row;
  }
}
