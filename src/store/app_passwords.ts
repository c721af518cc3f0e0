/**
 * App passwords: one per mail client, named by the user (unique per account), limited to the
 * protocols in its scopes, made by the server (src/crypto/app_password.ts), shown once and then
 * kept only as a SHA-256 digest (see migrations/0007_two_factor.sql for why not Argon2id).
 * Revoking deletes the row: the client's next sign-in fails.
 *
 * Sign-in checks them in src/auth/login.ts, which looks the digest up in the same query as the
 * account and marks the password used through {@link markAppPasswordUsed}.
 *
 * @module
 */

import { appPasswordDigest, generateAppPassword } from "../crypto/app_password.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../util/errors.ts";
import type { Sql } from "./db.ts";

/** The protocols an app password may be used for. */
export const APP_PASSWORD_SCOPES = ["imap", "smtp"] as const;
/** One of {@link APP_PASSWORD_SCOPES}. */
export type AppPasswordScope = typeof APP_PASSWORD_SCOPES[number];
/** Longest name, in characters. */
export const MAX_APP_PASSWORD_NAME = 64;

/** An app password as its owner sees it (never the password). */
export interface AppPassword {
  readonly id: number;
  readonly name: string;
  readonly scopes: readonly AppPasswordScope[];
  readonly createdAt: Date;
  /** Last successful sign-in with it, to the minute; null when never used. */
  readonly lastUsedAt: Date | null;
}

/** A new app password: the one time its text is known. */
export interface CreatedAppPassword {
  readonly appPassword: AppPassword;
  readonly password: string;
}

interface Row {
  id: number;
  name: string;
  scopes: string[];
  created_at: Date;
  last_used_at: Date | null;
}

function toAppPassword(row: Row): AppPassword {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes.filter(isScope),
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

function isScope(value: string): value is AppPasswordScope {
  return (APP_PASSWORD_SCOPES as readonly string[]).includes(value);
}

/**
 * Parses a scope list such as `imap,smtp` (sorted, without repeats).
 *
 * @throws {InvalidInputError} for an empty list or an unknown scope.
 */
export function parseScopes(text: string | readonly string[]): AppPasswordScope[] {
  const items = (typeof text === "string" ? text.split(",") : text).map((s) =>
    s.trim().toLowerCase()
  );
  const scopes = new Set<AppPasswordScope>();
  for (const item of items) {
    if (!isScope(item)) {
      throw new InvalidInputError(
        `Unknown scope "${item}"; use ${APP_PASSWORD_SCOPES.join(", ")} or a list of them`,
      );
    }
    scopes.add(item);
  }
  if (scopes.size === 0) throw new InvalidInputError("An app password needs at least one scope");
  return APP_PASSWORD_SCOPES.filter((s) => scopes.has(s));
}

/**
 * Checks an app password's name: 1 to {@link MAX_APP_PASSWORD_NAME} characters, no control
 * characters, trimmed.
 *
 * @throws {InvalidInputError} otherwise.
 */
export function normalizeAppPasswordName(name: string): string {
  const trimmed = name.trim().normalize("NFC");
  // deno-lint-ignore no-control-regex
  if (trimmed === "" || /[\u0000-\u001f\u007f-\u009f]/.test(trimmed)) {
    throw new InvalidInputError(`Invalid app password name ${JSON.stringify(name)}`);
  }
  if ([...trimmed].length > MAX_APP_PASSWORD_NAME) {
    throw new InvalidInputError(
      `App password names are at most ${MAX_APP_PASSWORD_NAME} characters`,
    );
  }
  return trimmed;
}

/**
 * Records that app password `id` signed in now. At most one write a minute per password: mail
 * clients open several connections at once and reconnect often, and the minute is precision
 * enough for "last used".
 */
export async function markAppPasswordUsed(sql: Sql, id: number): Promise<void> {
  await sql`update app_passwords set last_used_at = now()
            where id = ${id}
              and (last_used_at is null or last_used_at < now() - interval '1 minute')`;
}

const COLUMNS = "id, name, scopes, created_at, last_used_at";

/** App passwords, by account id. */
export class AppPasswords {
  constructor(private readonly sql: Sql) {}

  /**
   * Makes a new app password for the account; its text is returned only here.
   *
   * @throws {ConflictError} when the account has one of that name already.
   * @throws {InvalidInputError} for a bad name or scope list.
   */
  async create(
    accountId: number,
    name: string,
    scopes: readonly string[] = APP_PASSWORD_SCOPES,
  ): Promise<CreatedAppPassword> {
    const cleanName = normalizeAppPasswordName(name);
    const cleanScopes = parseScopes(scopes);
    const password = generateAppPassword();
    const digest = await appPasswordDigest(password);
    const [row] = await this.sql<Row[]>`
      insert into app_passwords (account_id, name, scopes, password_sha256)
      values (${accountId}, ${cleanName}, ${cleanScopes}::text[], ${digest})
      on conflict (account_id, name) do nothing
      returning id, name, scopes, created_at, last_used_at`;
    if (!row) throw new ConflictError(`An app password named "${cleanName}" exists already`);
    return { appPassword: toAppPassword(row), password };
  }

  /** The account's app passwords, by name. */
  async list(accountId: number): Promise<AppPassword[]> {
    const rows = await this.sql.unsafe<Row[]>(
      `select ${COLUMNS} from app_passwords where account_id = $1 order by name, id`,
      [accountId],
    );
    return rows.map(toAppPassword);
  }

  /**
   * Deletes the account's app password called `name`: it signs in no more.
   *
   * @throws {NotFoundError} when there is none of that name.
   */
  async revoke(accountId: number, name: string): Promise<void> {
    const cleanName = normalizeAppPasswordName(name);
    const rows = await this.sql`
      delete from app_passwords where account_id = ${accountId} and name = ${cleanName}
      returning id`;
    if (rows.length === 0) throw new NotFoundError(`No app password named "${cleanName}"`);
  }

  /**
   * The account's app password that `password` is, if its scopes include `scope`, marked used
   * (its `lastUsedAt` is that of the use before this one); otherwise null. Sign-in does this
   * with its brute-force defence in src/auth/login.ts; this is the plain check.
   */
  async verify(
    accountId: number,
    password: string,
    scope: AppPasswordScope,
  ): Promise<AppPassword | null> {
    const digest = await appPasswordDigest(password);
    const [row] = await this.sql<Row[]>`
      select id, name, scopes, created_at, last_used_at from app_passwords
      where account_id = ${accountId} and password_sha256 = ${digest} and ${scope} = any(scopes)`;
    if (!row) return null;
    await markAppPasswordUsed(this.sql, row.id);
    return toAppPassword(row);
  }
}
