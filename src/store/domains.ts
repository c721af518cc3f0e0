/**
 * Domains Fumi receives mail for. Names are stored in ASCII (IDNA A-labels, lower case) and
 * shown in Unicode.
 *
 * @module
 */

import { normalizeDomain } from "../util/address.ts";
import { ConflictError, NotFoundError } from "../util/errors.ts";
import type { Sql } from "./db.ts";

/** A hosted domain. */
export interface Domain {
  readonly id: number;
  /** ASCII form, as in DNS. */
  readonly name: string;
  readonly unicodeName: string;
  readonly createdAt: Date;
}

interface DomainRow {
  id: number;
  name: string;
  unicode_name: string;
  created_at: Date;
}

function toDomain(row: DomainRow): Domain {
  return { id: row.id, name: row.name, unicodeName: row.unicode_name, createdAt: row.created_at };
}

/** How long a lookup of {@link Domains.find} is reused (see there). */
export const DOMAIN_CACHE_MS = 5_000;
/** Most names remembered; beyond it the cache starts over. */
const DOMAIN_CACHE_SIZE = 1_000;

/** Domain administration. */
export class Domains {
  readonly #cache = new Map<string, { domain: Domain | null; until: number }>();

  constructor(
    private readonly sql: Sql,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds a domain; ConflictError if it is hosted already. */
  async add(name: string): Promise<Domain> {
    const { ascii, unicode } = normalizeDomain(name);
    const [row] = await this.sql<DomainRow[]>`
      insert into domains (name, unicode_name) values (${ascii}, ${unicode})
      on conflict (name) do nothing
      returning id, name, unicode_name, created_at`;
    if (!row) throw new ConflictError(`Domain "${ascii}" is already hosted here`);
    this.#cache.clear();
    return toDomain(row);
  }

  /** All domains, by name. */
  async list(): Promise<Domain[]> {
    const rows = await this.sql<DomainRow[]>`
      select id, name, unicode_name, created_at from domains order by name`;
    return rows.map(toDomain);
  }

  /**
   * The domain named `name` (any case, Unicode or ASCII), or null. Every RCPT asks, several
   * times, so answers are reused for {@link DOMAIN_CACHE_MS}: a domain added or removed by
   * another process is seen by this one within that time (at once when done through this
   * object).
   */
  async find(name: string): Promise<Domain | null> {
    const key = name.toLowerCase();
    const cached = this.#cache.get(key);
    if (cached !== undefined && cached.until > this.now()) return cached.domain;
    const { ascii } = normalizeDomain(name);
    const [row] = await this.sql<DomainRow[]>`
      select id, name, unicode_name, created_at from domains where name = ${ascii}`;
    const domain = row ? toDomain(row) : null;
    if (this.#cache.size >= DOMAIN_CACHE_SIZE) this.#cache.clear();
    this.#cache.set(key, { domain, until: this.now() + DOMAIN_CACHE_MS });
    return domain;
  }

  /** The domain named `name`; NotFoundError with a hint otherwise. */
  async get(name: string): Promise<Domain> {
    const domain = await this.find(name);
    if (!domain) {
      const { ascii } = normalizeDomain(name);
      throw new NotFoundError(
        `Domain "${ascii}" is not hosted here; add it with: fumi domain add ${ascii}`,
      );
    }
    return domain;
  }

  /** Removes a domain and its aliases; refused while it has accounts. */
  async remove(name: string): Promise<void> {
    const domain = await this.get(name);
    await this.sql.begin(async (tx) => {
      const [row] = await tx<{ n: number }[]>`
        select count(*)::int as n from accounts where domain_id = ${domain.id}`;
      if (row!.n > 0) {
        throw new ConflictError(
          `Domain "${domain.name}" still has ${
            row!.n
          } account(s); remove them first (fumi user list ${domain.name})`,
        );
      }
      await tx`delete from domains where id = ${domain.id}`;
    });
    this.#cache.clear();
  }
}
