/**
 * ACME's rows (migrations/0004_acme.sql): accounts with sealed keys, pending HTTP-01 key
 * authorizations, and the renewal state of ACME certificates. Queries only; decisions live in
 * `issuer.ts` and `schedule.ts`.
 *
 * The account key is sealed with the system's data key (owner null) and bound to
 * `acme_accounts.key#id`, so a ciphertext copied to another row does not open.
 *
 * @module
 */

import type { Placement } from "../crypto/envelope.ts";
import type { KeyAlgorithm } from "../crypto/x509.ts";
import type { Sql } from "../store/db.ts";
import type { Vault } from "../store/vault.ts";
import { generateAccountKey } from "./jws.ts";

/** A stored account, key still sealed. */
export interface AccountRow {
  readonly id: number;
  readonly directoryUrl: string;
  readonly sealedKey: Uint8Array;
  readonly accountUrl: string | null;
  readonly email: string | null;
  readonly caPem: string | null;
}

/** An ACME certificate with what its renewal needs. */
export interface RenewalRow {
  readonly certificateId: number;
  readonly name: string;
  readonly names: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly directoryUrl: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly failures: number;
  readonly nextAttemptAt: Date | null;
  readonly lastError: string | null;
}

/** Where an account key's ciphertext lives. */
export function accountKeyPlacement(id: number): Placement {
  return { table: "acme_accounts", column: "key", row: id };
}

interface DbAccount {
  id: number;
  directory_url: string;
  key: Uint8Array;
  account_url: string | null;
  email: string | null;
  ca_pem: string | null;
}

function toAccount(row: DbAccount): AccountRow {
  return {
    id: row.id,
    directoryUrl: row.directory_url,
    sealedKey: row.key,
    accountUrl: row.account_url,
    email: row.email,
    caPem: row.ca_pem,
  };
}

/** The account for `directoryUrl`, or null. */
export async function findAccount(sql: Sql, directoryUrl: string): Promise<AccountRow | null> {
  const [row] = await sql<DbAccount[]>`
    select id, directory_url, key, account_url, email, ca_pem
    from acme_accounts where directory_url = ${directoryUrl}`;
  return row ? toAccount(row) : null;
}

/**
 * The account for `directoryUrl`, created with a new sealed key when there is none. Two callers
 * racing create one row: the loser's insert does nothing and it reads the winner's.
 */
export async function ensureAccount(
  sql: Sql,
  vault: Vault,
  directoryUrl: string,
): Promise<AccountRow> {
  const existing = await findAccount(sql, directoryUrl);
  if (existing) return existing;
  const [next] = await sql<{ id: number }[]>`
    select nextval(pg_get_serial_sequence('acme_accounts', 'id')) as id`;
  const id = next!.id;
  const pkcs8 = await generateAccountKey();
  const sealed = await vault.seal(null, pkcs8, accountKeyPlacement(id));
  pkcs8.fill(0);
  await sql`insert into acme_accounts (id, directory_url, key)
            values (${id}, ${directoryUrl}, ${sealed})
            on conflict (directory_url) do nothing`;
  return (await findAccount(sql, directoryUrl))!;
}

/** Records what the server said about the account, and the trust used to reach it. */
export async function updateAccount(
  sql: Sql,
  id: number,
  fields: { accountUrl: string; email: string | null; caPem: string | null },
): Promise<void> {
  await sql`update acme_accounts
            set account_url = ${fields.accountUrl}, email = ${fields.email},
                ca_pem = ${fields.caPem}, updated_at = now()
            where id = ${id}`;
}

/**
 * Publishes a key authorization for the HTTP-01 responder of every node, for `ttlSeconds` of
 * the database's clock.
 */
export async function putChallenge(
  sql: Sql,
  token: string,
  keyAuthorization: string,
  ttlSeconds: number,
): Promise<void> {
  await sql`insert into acme_challenges (token, key_authorization, expires_at)
            values (${token}, ${keyAuthorization}, now() + make_interval(secs => ${ttlSeconds}))
            on conflict (token) do update
            set key_authorization = excluded.key_authorization, expires_at = excluded.expires_at`;
}

/** Withdraws key authorizations, and any that expired (left by a crash). */
export async function removeChallenges(sql: Sql, tokens: readonly string[]): Promise<void> {
  await sql`delete from acme_challenges
            where token = any(${tokens as string[]}::text[]) or expires_at < now()`;
}

/** The key authorization for `token`, or null (unknown or expired). */
export async function findChallenge(sql: Sql, token: string): Promise<string | null> {
  const [row] = await sql<{ key_authorization: string }[]>`
    select key_authorization from acme_challenges
    where token = ${token} and expires_at > now()`;
  return row?.key_authorization ?? null;
}

/**
 * Remembers how certificate `certificateId` was issued, so that it is renewed the same way;
 * clears the failure state (a successful issue or renewal).
 */
export async function recordIssued(
  sql: Sql,
  certificateId: number,
  directoryUrl: string,
  keyAlgorithm: KeyAlgorithm,
  at: Date,
): Promise<void> {
  await sql`
    insert into acme_certificates (certificate_id, directory_url, key_algorithm, renewed_at,
                                   last_attempt_at)
    values (${certificateId}, ${directoryUrl}, ${keyAlgorithm}, ${at}, ${at})
    on conflict (certificate_id) do update
    set directory_url = excluded.directory_url, key_algorithm = excluded.key_algorithm,
        failures = 0, next_attempt_at = null, last_error = null,
        renewed_at = excluded.renewed_at, last_attempt_at = excluded.last_attempt_at`;
}

/** Records a failed renewal and when to try again. */
export async function recordFailure(
  sql: Sql,
  certificateId: number,
  failures: number,
  at: Date,
  nextAttemptAt: Date,
  error: string,
): Promise<void> {
  await sql`update acme_certificates
            set failures = ${failures}, last_attempt_at = ${at},
                next_attempt_at = ${nextAttemptAt}, last_error = ${error.slice(0, 2000)}
            where certificate_id = ${certificateId}`;
}

interface DbRenewal {
  certificate_id: number;
  name: string;
  names: string[];
  not_before: Date;
  not_after: Date;
  directory_url: string;
  key_algorithm: KeyAlgorithm;
  failures: number;
  next_attempt_at: Date | null;
  last_error: string | null;
}

/** Every certificate ACME renews (source still 'acme'), or the one named `name`. */
export async function renewals(sql: Sql, name?: string): Promise<RenewalRow[]> {
  const rows = await sql<DbRenewal[]>`
    select c.id as certificate_id, c.name, c.names, c.not_before, c.not_after,
           a.directory_url, a.key_algorithm, a.failures, a.next_attempt_at, a.last_error
    from certificates c join acme_certificates a on a.certificate_id = c.id
    where c.source = 'acme' ${name === undefined ? sql`` : sql`and c.name = ${name}`}
    order by c.name`;
  return rows.map((row) => ({
    certificateId: row.certificate_id,
    name: row.name,
    names: row.names,
    notBefore: row.not_before,
    notAfter: row.not_after,
    directoryUrl: row.directory_url,
    keyAlgorithm: row.key_algorithm,
    failures: row.failures,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
  }));
}
