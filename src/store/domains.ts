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

/** Domain administration. */
export class Domains {
  constructor(private readonly sql: Sql) {}

  /** Adds a domain; ConflictError if it is hosted already. */
  async add(name: string): Promise<Domain> {
    const { ascii, unicode } = normalizeDomain(name);
    const [row] = await this.sql<DomainRow[]>`
      insert into domains (name, unicode_name) values (${ascii}, ${unicode})
      on conflict (name) do nothing
      returning id, name, unicode_name, created_at`;
    if (!row) throw new ConflictError(`Domain "${ascii}" is already hosted here`);
    return toDomain(row);
  }

  /** All domains, by name. */
  async list(): Promise<Domain[]> {
    const rows = await this.sql<DomainRow[]>`
      select id, name, unicode_name, created_at from domains order by name`;
    return rows.map(toDomain);
  }

  /** The domain named `name` (any case, Unicode or ASCII), or null. */
  async find(name: string): Promise<Domain | null> {
    const { ascii } = normalizeDomain(name);
    const [row] = await this.sql<DomainRow[]>`
      select id, name, unicode_name, created_at from domains where name = ${ascii}`;
    return row ? toDomain(row) : null;
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
  }
}
