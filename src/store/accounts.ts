/**
 * Accounts: a login and a mailbox owner, identified by its canonical address. Creating an
 * account creates, in one transaction, its row, its data key and its default mailboxes.
 *
 * Passwords are checked against the policy, then stored twice, each form one-way: an Argon2id
 * hash (for LOGIN, AUTH PLAIN and the web) and SCRAM-SHA-256 keys (for SASL SCRAM, which needs
 * keys derived from the password but cannot use Argon2id). The password itself is never kept.
 *
 * @module
 */

import { assertPasswordPolicy } from "../crypto/password_policy.ts";
import { hashPassword } from "../crypto/password.ts";
import { deriveScramCredentials, formatScram } from "../crypto/scram.ts";
import { type MailAddress, normalizeDomain, parseAddress } from "../util/address.ts";
import { ConflictError, NotFoundError } from "../util/errors.ts";
import type { Sql } from "./db.ts";
import type { Domains } from "./domains.ts";
import { createDefaultMailboxes } from "./mailboxes.ts";
import type { Vault } from "./vault.ts";

/** An account as administrators see it (no secrets). */
export interface Account {
  readonly id: number;
  readonly address: string;
  readonly domain: string;
  readonly displayName: string;
  readonly isAdmin: boolean;
  readonly disabled: boolean;
  /** Bytes; 0 means unlimited. */
  readonly quotaBytes: number;
  readonly usedBytes: number;
  readonly createdAt: Date;
}

/** Password rules (from the `[accounts]` config section). */
export interface PasswordPolicy {
  readonly minLength: number;
  readonly rejectCommon: boolean;
}

/** What a new account needs. */
export interface NewAccount {
  readonly address: string;
  readonly password: string;
  readonly quotaBytes?: number;
  readonly isAdmin?: boolean;
  readonly displayName?: string;
}

interface AccountRow {
  id: number;
  address: string;
  domain: string;
  display_name: string;
  is_admin: boolean;
  disabled: boolean;
  quota_bytes: number;
  used_bytes: number;
  created_at: Date;
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    address: row.address,
    domain: row.domain,
    displayName: row.display_name,
    isAdmin: row.is_admin,
    disabled: row.disabled,
    quotaBytes: row.quota_bytes,
    usedBytes: row.used_bytes,
    createdAt: row.created_at,
  };
}

const SELECT = `select a.id, a.address, d.name as domain, a.display_name, a.is_admin, a.disabled,
  a.quota_bytes, a.used_bytes, a.created_at from accounts a join domains d on d.id = a.domain_id`;

/** Account administration. */
export class Accounts {
  constructor(
    private readonly sql: Sql,
    private readonly vault: Vault,
    private readonly domains: Domains,
    private readonly policy: PasswordPolicy,
    private readonly defaultQuota: number,
  ) {}

  /** Creates an account with its data key and default mailboxes. */
  async create(input: NewAccount): Promise<Account> {
    const address = parseAddress(input.address);
    const domain = await this.domains.get(address.domain);
    assertPasswordPolicy(input.password, address.canonical, this.policy);
    const [hash, scram] = await Promise.all([
      hashPassword(input.password),
      deriveScramCredentials(input.password),
    ]);
    const id = await this.sql.begin(async (tx) => {
      const [alias] = await tx`select 1 from aliases where source = ${address.canonical} limit 1`;
      if (alias) {
        throw new ConflictError(`"${address.canonical}" is an alias; remove the alias first`);
      }
      const [row] = await tx<{ id: number }[]>`
        insert into accounts (domain_id, address, display_name, password_hash, scram_sha256,
                              is_admin, quota_bytes)
        values (${domain.id}, ${address.canonical}, ${input.displayName ?? ""}, ${hash},
                ${formatScram(scram)}, ${input.isAdmin ?? false},
                ${input.quotaBytes ?? this.defaultQuota})
        on conflict (address) do nothing
        returning id`;
      if (!row) throw new ConflictError(`Account "${address.canonical}" exists already`);
      await this.vault.createDataKey(tx, row.id);
      await createDefaultMailboxes(tx, row.id);
      return row.id;
    });
    return await this.getById(id);
  }

  /** All accounts, or those of one domain, by address. */
  async list(domainName?: string): Promise<Account[]> {
    if (domainName === undefined) {
      return (await this.sql.unsafe<AccountRow[]>(`${SELECT} order by a.address`)).map(toAccount);
    }
    const domain = await this.domains.get(domainName);
    const rows = await this.sql.unsafe<AccountRow[]>(
      `${SELECT} where a.domain_id = $1 order by a.address`,
      [domain.id],
    );
    return rows.map(toAccount);
  }

  /** The account with this address (any case, Unicode or ASCII domain), or null. */
  async find(address: string | MailAddress): Promise<Account | null> {
    const canonical = typeof address === "string"
      ? parseAddress(address).canonical
      : address.canonical;
    const rows = await this.sql.unsafe<AccountRow[]>(`${SELECT} where a.address = $1`, [canonical]);
    return rows[0] ? toAccount(rows[0]) : null;
  }

  /** Like {@link find}, but NotFoundError when absent. */
  async get(address: string): Promise<Account> {
    const account = await this.find(address);
    if (!account) throw new NotFoundError(`No account "${parseAddress(address).canonical}"`);
    return account;
  }

  /** The account with this id; NotFoundError when absent. */
  async getById(id: number): Promise<Account> {
    const rows = await this.sql.unsafe<AccountRow[]>(`${SELECT} where a.id = $1`, [id]);
    if (!rows[0]) throw new NotFoundError(`No account with id ${id}`);
    return toAccount(rows[0]);
  }

  /** Sets a new password (policy checked). */
  async setPassword(address: string, password: string): Promise<void> {
    const account = await this.get(address);
    assertPasswordPolicy(password, account.address, this.policy);
    const [hash, scram] = await Promise.all([
      hashPassword(password),
      deriveScramCredentials(password),
    ]);
    await this.sql`update accounts set password_hash = ${hash}, scram_sha256 = ${
      formatScram(scram)
    },
                   password_changed_at = now() where id = ${account.id}`;
  }

  /** Disables or enables sign-in and delivery for an account. */
  async setDisabled(address: string, disabled: boolean): Promise<void> {
    const account = await this.get(address);
    await this.sql`update accounts set disabled = ${disabled} where id = ${account.id}`;
  }

  /** Sets an account's quota in bytes (0: unlimited). */
  async setQuota(address: string, quotaBytes: number): Promise<void> {
    const account = await this.get(address);
    await this.sql`update accounts set quota_bytes = ${quotaBytes} where id = ${account.id}`;
  }

  /**
   * Sets the extra addresses an account may use as sender on submission: canonical addresses,
   * or `@domain` for every address of a domain. Replaces the previous list; returns the new one.
   */
  async setAllowedSenders(address: string, senders: readonly string[]): Promise<string[]> {
    const account = await this.get(address);
    const list = [...new Set(senders.map(normalizeAllowedSender))].sort();
    await this.sql`update accounts set allowed_senders = ${list}::text[] where id = ${account.id}`;
    return list;
  }

  /** The extra sender addresses and `@domain` patterns of an account (see {@link setAllowedSenders}). */
  async allowedSenders(accountId: number): Promise<string[]> {
    const [row] = await this.sql<{ allowed_senders: string[] }[]>`
      select allowed_senders from accounts where id = ${accountId}`;
    if (!row) throw new NotFoundError(`No account with id ${accountId}`);
    return row.allowed_senders;
  }

  /**
   * Of `accountIds`, those a message of `size` bytes would take over quota (quota set and
   * `used + size > quota`): the check before accepting a message, which delivery repeats under
   * lock.
   */
  async roomFor(accountIds: readonly number[], size: number): Promise<number[]> {
    if (accountIds.length === 0) return [];
    const rows = await this.sql<{ id: number }[]>`
      select id from accounts
      where id = any(${accountIds as number[]}::bigint[])
        and quota_bytes > 0 and used_bytes + ${size} > quota_bytes
      order by id`;
    return rows.map((r) => r.id);
  }

  /** The ids of the enabled administrators, by id. */
  async administratorIds(): Promise<number[]> {
    const rows = await this.sql<{ id: number }[]>`
      select id from accounts where is_admin and not disabled order by id`;
    return rows.map((r) => r.id);
  }

  /** Deletes an account with all its mail and its data key. */
  async remove(address: string): Promise<void> {
    const account = await this.get(address);
    await this.sql`delete from accounts where id = ${account.id}`;
    this.vault.forget(account.id);
  }
}

/** An allowed sender as stored: a canonical address, or `@` and an ASCII domain. */
function normalizeAllowedSender(entry: string): string {
  const text = entry.trim();
  if (text.startsWith("@")) return `@${normalizeDomain(text.slice(1)).ascii}`;
  return parseAddress(text).canonical;
}
