/**
 * DKIM keys per domain (the `dkim_keys` table, migrations/0008_dkim_keys.sql).
 *
 * Life of a key: `active` (signs; one per algorithm and domain) → `retired` by a rotation (no
 * longer signs, still published so that mail signed shortly before still verifies) →
 * `removed` by the administrator (no longer published; its private key is deleted, its row
 * kept so that the selector is never given out again for the domain).
 *
 * Selectors: `fumi-rsa-YYYYMMDD` and `fumi-ed-YYYYMMDD` (UTC date of creation); a second
 * rotation on the same day adds `-2`, a third `-3`, and so on, the same suffix for both, so
 * a rotation's pair is easy to see. They are single DNS labels of at most 21 characters.
 *
 * Private keys are sealed with the system data key (owner null), bound to their row; they are
 * unsealed only by {@link DkimKeys.signingKeys}, into non-extractable CryptoKeys.
 *
 * @module
 */

import {
  DKIM_ALGORITHMS,
  type DkimAlgorithm,
  type DkimKeyPair,
  type DkimSigningKey,
  generateDkimKeyPair,
  importDkimPrivateKey,
} from "../crypto/dkim_keys.ts";
import { ConflictError, NotFoundError } from "../util/errors.ts";
import type { Sql } from "./db.ts";
import type { Domains } from "./domains.ts";
import type { Vault } from "./vault.ts";

/** Where a DKIM key is in its life. */
export type DkimKeyState = "active" | "retired" | "removed";

/** A DKIM key as administrators see it (never the private key). */
export interface DkimKey {
  readonly id: number;
  /** The domain's ASCII name. */
  readonly domain: string;
  readonly selector: string;
  readonly algorithm: DkimAlgorithm;
  /** As published in `p=`. */
  readonly publicKey: Uint8Array;
  readonly state: DkimKeyState;
  readonly createdAt: Date;
  readonly retiredAt: Date | null;
}

/** What a rotation did. */
export interface DkimRotation {
  /** The new active keys, RSA first. */
  readonly created: readonly DkimKey[];
  /** The keys that were active before and are now retired (still published), RSA first. */
  readonly retired: readonly DkimKey[];
}

interface KeyRow {
  id: number;
  selector: string;
  algorithm: DkimAlgorithm;
  public_key: Uint8Array;
  state: DkimKeyState;
  created_at: Date;
  retired_at: Date | null;
}

const SELECTOR_TAG: Record<DkimAlgorithm, string> = {
  "rsa-sha256": "rsa",
  "ed25519-sha256": "ed",
};

function placement(id: number) {
  return { table: "dkim_keys", column: "private_key", row: id };
}

/** The UTC date of `ms` as YYYYMMDD. */
function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replaceAll("-", "");
}

/**
 * The selectors of a new pair made on the day of `now`: the first suffix (none, then `-2`,
 * `-3`, …) under which neither is taken.
 */
export function nextSelectors(
  now: number,
  taken: ReadonlySet<string>,
): Record<DkimAlgorithm, string> {
  for (let n = 1;; n++) {
    const suffix = n === 1 ? "" : `-${n}`;
    const names = Object.fromEntries(
      DKIM_ALGORITHMS.map((a) => [a, `fumi-${SELECTOR_TAG[a]}-${day(now)}${suffix}`]),
    ) as Record<DkimAlgorithm, string>;
    if (!Object.values(names).some((name) => taken.has(name))) return names;
  }
}

/** DKIM keys by domain. */
export class DkimKeys {
  readonly #sql: Sql;
  readonly #vault: Vault;
  readonly #domains: Domains;
  readonly #now: () => number;
  /** Imported private keys by row id: a row's key never changes, so they stay valid. */
  readonly #imported = new Map<number, CryptoKey>();

  constructor(sql: Sql, vault: Vault, domains: Domains, now: () => number = Date.now) {
    this.#sql = sql;
    this.#vault = vault;
    this.#domains = domains;
    this.#now = now;
  }

  /**
   * Makes new active keys (RSA-2048 and Ed25519) for the domain and retires the active ones,
   * which stay published until {@link remove}d. The first call for a domain (from `fumi domain
   * add`) simply creates its keys.
   */
  async rotate(domainName: string): Promise<DkimRotation> {
    const domain = await this.#domains.get(domainName);
    // Key generation and the data key's lookup come first: RSA generation takes a while, and
    // on the embedded database a lookup inside the transaction would wait for it.
    const pairs: DkimKeyPair[] = [];
    for (const algorithm of DKIM_ALGORITHMS) pairs.push(await generateDkimKeyPair(algorithm));
    const seal = await this.#vault.sealerFor(null);
    try {
      return await this.#sql.begin(async (tx) => {
        // One rotation at a time per domain (two at once would both pick the same selectors).
        await tx`select id from domains where id = ${domain.id} for update`;
        const rows = await tx<{ selector: string }[]>`
          select selector from dkim_keys where domain_id = ${domain.id}`;
        const selectors = nextSelectors(this.#now(), new Set(rows.map((r) => r.selector)));
        const retired = await tx<KeyRow[]>`
          update dkim_keys set state = 'retired', retired_at = now()
          where domain_id = ${domain.id} and state = 'active'
          returning id, selector, algorithm, public_key, state, created_at, retired_at`;
        const created: KeyRow[] = [];
        for (const pair of pairs) {
          const [next] = await tx<{ id: number }[]>`
            select nextval(pg_get_serial_sequence('dkim_keys', 'id'))::int as id`;
          const id = next!.id;
          const sealed = await seal(pair.privateKey, placement(id));
          const [row] = await tx<KeyRow[]>`
            insert into dkim_keys (id, domain_id, selector, algorithm, private_key, public_key)
            overriding system value
            values (${id}, ${domain.id}, ${selectors[pair.algorithm]}, ${pair.algorithm},
                    ${sealed}, ${pair.publicKey})
            returning id, selector, algorithm, public_key, state, created_at, retired_at`;
          created.push(row!);
        }
        const toKey = (row: KeyRow) => this.#toKey(domain.name, row);
        const order = (row: KeyRow) => DKIM_ALGORITHMS.indexOf(row.algorithm);
        retired.sort((a, b) => order(a) - order(b) || a.id - b.id);
        return { created: created.map(toKey), retired: retired.map(toKey) };
      });
    } finally {
      for (const pair of pairs) pair.privateKey.fill(0);
    }
  }

  /** The keys to publish in DNS: active and retired ones, active first, newest first. */
  async published(domainName: string): Promise<DkimKey[]> {
    const domain = await this.#domains.get(domainName);
    const rows = await this.#sql<KeyRow[]>`
      select id, selector, algorithm, public_key, state, created_at, retired_at
      from dkim_keys where domain_id = ${domain.id} and state <> 'removed'
      order by state = 'active' desc, created_at desc, id`;
    return rows.map((row) => this.#toKey(domain.name, row));
  }

  /**
   * Stops publishing a retired key and deletes its private key; its selector stays taken.
   *
   * @throws {NotFoundError} when the domain has no such selector (or it is removed already).
   * @throws {ConflictError} when the key is active (rotate first).
   */
  async remove(domainName: string, selector: string): Promise<DkimKey> {
    const domain = await this.#domains.get(domainName);
    const name = selector.toLowerCase();
    const [row] = await this.#sql<KeyRow[]>`
      update dkim_keys set state = 'removed', private_key = null, removed_at = now()
      where domain_id = ${domain.id} and selector = ${name} and state = 'retired'
      returning id, selector, algorithm, public_key, state, created_at, retired_at`;
    if (row) {
      this.#imported.delete(row.id);
      return this.#toKey(domain.name, row);
    }
    const [existing] = await this.#sql<{ state: DkimKeyState }[]>`
      select state from dkim_keys where domain_id = ${domain.id} and selector = ${name}`;
    if (existing?.state === "active") {
      throw new ConflictError(
        `DKIM selector "${name}" of ${domain.name} is active and signs mail; rotate first (fumi dkim rotate ${domain.name})`,
      );
    }
    throw new NotFoundError(
      `${domain.name} publishes no DKIM selector "${name}"; see: fumi dkim show ${domain.name}`,
    );
  }

  /**
   * The active keys of a domain, unsealed for signing (RSA first); empty when it has none.
   * What the submission path passes to `signMessage` (src/dkim/sign.ts).
   *
   * @throws {NotFoundError} when the domain is not hosted here.
   */
  async signingKeys(domainName: string): Promise<DkimSigningKey[]> {
    const domain = await this.#domains.get(domainName);
    const rows = await this.#sql<
      { id: number; selector: string; algorithm: DkimAlgorithm; private_key: Uint8Array }[]
    >`
      select id, selector, algorithm, private_key from dkim_keys
      where domain_id = ${domain.id} and state = 'active'
      order by algorithm desc`; // 'rsa-sha256' before 'ed25519-sha256'
    const keys: DkimSigningKey[] = [];
    for (const row of rows) {
      let privateKey = this.#imported.get(row.id);
      if (privateKey === undefined) {
        const pkcs8 = await this.#vault.open(row.private_key, placement(row.id));
        try {
          privateKey = await importDkimPrivateKey(row.algorithm, pkcs8);
        } finally {
          pkcs8.fill(0);
        }
        this.#imported.set(row.id, privateKey);
      }
      keys.push({
        domain: domain.name,
        selector: row.selector,
        algorithm: row.algorithm,
        privateKey,
      });
    }
    return keys;
  }

  #toKey(domain: string, row: KeyRow): DkimKey {
    return {
      id: row.id,
      domain,
      selector: row.selector,
      algorithm: row.algorithm,
      publicKey: row.public_key,
      state: row.state,
      createdAt: row.created_at,
      retiredAt: row.retired_at,
    };
  }
}
