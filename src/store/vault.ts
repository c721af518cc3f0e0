/**
 * The vault: column encryption with per-account data keys (DEKs) wrapped by master keys (KEKs).
 *
 * - A ciphertext's key id is the id of the data key that sealed it; the data key's row names
 *   the master key that wraps it. Rotating the master key re-wraps data keys only, never mail.
 * - {@link Vault.open} refuses to start unless the ring holds every master key the database
 *   uses and each opens its recorded check value: a wrong key stops start-up instead of
 *   producing garbage or a half-working server.
 * - Unwrapped data keys are cached in memory as non-extractable CryptoKeys.
 * - `fumi keys rotate` may run beside a live server: a new data key is always wrapped with the
 *   primary the database names at that moment, and a master key id the ring lacks makes the
 *   vault re-read its key source once (the rotation writes the new key there first).
 *
 * @module
 */

import { importAesKey, keyIdOf, open, type Placement, seal } from "../crypto/envelope.ts";
import {
  makeCheckValue,
  type MasterKey,
  type MasterKeyRing,
  verifyCheckValue,
} from "../crypto/master_key.ts";
import { ConfigError, FumiError } from "../util/errors.ts";
import type { Sql, TxSql } from "./db.ts";

/** The master key does not fit the database. */
export class MasterKeyError extends ConfigError {}

/** Who a data key belongs to: an account id, or null for the system's own secrets. */
export type KeyOwner = number | null;

interface DataKey {
  readonly id: number;
  readonly key: CryptoKey;
}

/** Formats a key id as administrators see it. */
export function formatKeyId(id: number): string {
  return id.toString(16).padStart(8, "0");
}

/** Encrypts and decrypts columns. */
export class Vault {
  readonly #sql: Sql;
  #ring: MasterKeyRing;
  readonly #reload: (() => Promise<MasterKeyRing>) | null;
  readonly #byId = new Map<number, DataKey>();
  readonly #byOwner = new Map<KeyOwner, DataKey>();

  private constructor(
    sql: Sql,
    ring: MasterKeyRing,
    reload: (() => Promise<MasterKeyRing>) | null,
  ) {
    this.#sql = sql;
    this.#ring = ring;
    this.#reload = reload;
  }

  /**
   * Checks the ring against the database and opens the vault. On a database that has no master
   * key yet, records the ring's primary. `source` names where the ring came from; `reload`
   * reads it again.
   */
  static async open(
    sql: Sql,
    ring: MasterKeyRing,
    source: string,
    reload: (() => Promise<MasterKeyRing>) | null = null,
  ): Promise<Vault> {
    await sql`insert into master_keys (kek_id, state, check_value)
              select ${ring.primary.id}, 'primary', ${await makeCheckValue(ring.primary)}
              where not exists (select 1 from master_keys)
              on conflict do nothing`;
    const rows = await sql<{ kek_id: number; state: string; check_value: Uint8Array }[]>`
      select kek_id, state, check_value from master_keys where state <> 'retired'`;
    const have = ring.keys.map((k) => formatKeyId(k.id)).join(", ");
    for (const row of rows) {
      const key = ring.byId(row.kek_id);
      if (key === undefined) {
        throw new MasterKeyError(
          `The master key does not match this database: it needs key ${
            formatKeyId(row.kek_id)
          }, but ${source} holds ${have}. Use the master key this database was created with`,
        );
      }
      if (!(await verifyCheckValue(key, row.check_value))) {
        throw new MasterKeyError(
          `Master key ${formatKeyId(row.kek_id)} from ${source} fails this database's check value`,
        );
      }
    }
    if (!rows.some((r) => r.state === "primary")) {
      throw new MasterKeyError("The database records no primary master key");
    }
    return new Vault(sql, ring, reload);
  }

  /** Creates the data key of a new account inside the caller's transaction. */
  async createDataKey(tx: TxSql, owner: KeyOwner): Promise<void> {
    // Lock the primary's row so a rotation cannot demote it before this transaction commits.
    const [primary] = await tx<{ kek_id: number }[]>`
      select kek_id from master_keys where state = 'primary' for share`;
    if (!primary) throw new MasterKeyError("The database records no primary master key");
    const master = await this.#masterKey(primary.kek_id);
    const [next] = await tx<{ id: number }[]>`
      select nextval(pg_get_serial_sequence('data_keys', 'id'))::int as id`;
    const id = next!.id;
    const raw = crypto.getRandomValues(new Uint8Array(32));
    const wrapped = await seal(master.key, master.id, raw, dataKeyPlacement(id));
    raw.fill(0);
    await tx`insert into data_keys (id, account_id, kek_id, wrapped)
             overriding system value
             values (${id}, ${owner}, ${master.id}, ${wrapped})
             on conflict do nothing`;
  }

  /** Encrypts a value for `owner`, bound to its placement. */
  async seal(owner: KeyOwner, plaintext: Uint8Array, placement: Placement): Promise<Uint8Array> {
    const dataKey = await this.#dataKeyOf(owner);
    return seal(dataKey.key, dataKey.id, plaintext, placement);
  }

  /**
   * A sealing function bound to `owner`'s data key, loaded now: what it seals later needs no
   * database (inside a transaction on the embedded database, which serves one connection at
   * a time, a key lookup would wait for that very transaction).
   */
  async sealerFor(
    owner: KeyOwner,
  ): Promise<(plaintext: Uint8Array, placement: Placement) => Promise<Uint8Array>> {
    const dataKey = await this.#dataKeyOf(owner);
    return (plaintext, placement) => seal(dataKey.key, dataKey.id, plaintext, placement);
  }

  /** Decrypts a value sealed by {@link seal} for the same placement. */
  async open(ciphertext: Uint8Array, placement: Placement): Promise<Uint8Array> {
    const dataKey = await this.#dataKeyById(keyIdOf(ciphertext));
    return open(dataKey.key, ciphertext, placement);
  }

  /** Drops cached keys of an owner (after the account is deleted). */
  forget(owner: KeyOwner): void {
    const dataKey = this.#byOwner.get(owner);
    this.#byOwner.delete(owner);
    if (dataKey) this.#byId.delete(dataKey.id);
  }

  async #dataKeyOf(owner: KeyOwner): Promise<DataKey> {
    const cached = this.#byOwner.get(owner);
    if (cached) return cached;
    let rows = await this.#selectOwnerKey(owner);
    if (rows.length === 0 && owner === null) {
      // In a transaction, so the primary's `for share` lock holds until the key is inserted.
      await this.#sql.begin((tx) => this.createDataKey(tx, null));
      rows = await this.#selectOwnerKey(null);
    }
    const row = rows[0];
    if (!row) throw new FumiError(`No data key for account ${owner}`);
    return this.#remember(row, owner);
  }

  #selectOwnerKey(owner: KeyOwner) {
    return owner === null
      ? this.#sql<
        KeyRow[]
      >`select id, account_id, kek_id, wrapped from data_keys where account_id is null`
      : this.#sql<
        KeyRow[]
      >`select id, account_id, kek_id, wrapped from data_keys where account_id = ${owner}`;
  }

  async #dataKeyById(id: number): Promise<DataKey> {
    const cached = this.#byId.get(id);
    if (cached) return cached;
    const [row] = await this.#sql<KeyRow[]>`
      select id, account_id, kek_id, wrapped from data_keys where id = ${id}`;
    if (!row) throw new FumiError(`Data key ${id} does not exist (its account was deleted?)`);
    return this.#remember(row, row.account_id);
  }

  async #masterKey(id: number): Promise<MasterKey> {
    let key = this.#ring.byId(id);
    if (key === undefined && this.#reload !== null) {
      this.#ring = await this.#reload();
      key = this.#ring.byId(id);
    }
    if (key === undefined) {
      throw new MasterKeyError(
        `Master key ${formatKeyId(id)} is not available; restart Fumi with the current master key`,
      );
    }
    return key;
  }

  async #remember(row: KeyRow, owner: KeyOwner): Promise<DataKey> {
    const master = await this.#masterKey(row.kek_id);
    const raw = await open(master.key, row.wrapped, dataKeyPlacement(row.id));
    const dataKey = { id: row.id, key: await importAesKey(raw) };
    raw.fill(0);
    this.#byId.set(dataKey.id, dataKey);
    this.#byOwner.set(owner, dataKey);
    return dataKey;
  }
}

/** A row of `data_keys`. */
export interface KeyRow {
  id: number;
  account_id: number | null;
  kek_id: number;
  wrapped: Uint8Array;
}

/** Where a wrapped data key lives, bound into its ciphertext. */
export function dataKeyPlacement(id: number): Placement {
  return { table: "data_keys", column: "wrapped", row: id };
}
