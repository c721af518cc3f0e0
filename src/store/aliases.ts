/**
 * Aliases and recipient resolution.
 *
 * An alias maps a source to one or more destinations, local or remote. A source is a canonical
 * address, or `@domain` for the domain's catch-all. Resolving a recipient tries, in order:
 * an account with that address; aliases with that source; the same two for the address without
 * its subaddress (`user+tag@` → `user@`, RFC 5233); the domain's catch-all. Alias destinations
 * are resolved again, to a bounded depth and without loops.
 *
 * @module
 */

import {
  canonicalLocalPart,
  formatLocalPart,
  type MailAddress,
  parseAddress,
  splitSubaddress,
} from "../util/address.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../util/errors.ts";
import type { Sql } from "./db.ts";
import type { Domains } from "./domains.ts";

/** One alias source and its destinations. */
export interface Alias {
  readonly source: string;
  readonly destinations: readonly string[];
}

/** Where mail for an address goes. */
export interface Resolution {
  /** Local accounts to deliver to (ids, no duplicates, enabled accounts only). */
  readonly accountIds: readonly number[];
  /** Remote addresses to forward to. */
  readonly remote: readonly string[];
}

/** How deep alias chains may go before resolution stops following them. */
export const MAX_ALIAS_DEPTH = 8;

/** Alias administration and recipient resolution. */
export class Aliases {
  constructor(private readonly sql: Sql, private readonly domains: Domains) {}

  /** Adds destinations to an alias (creating it). */
  async add(source: string, destinations: readonly string[]): Promise<Alias> {
    if (destinations.length === 0) {
      throw new InvalidInputError("An alias needs at least one destination");
    }
    const { key, domain } = parseSource(source);
    const hosted = await this.domains.get(domain);
    const targets = destinations.map((d) => parseAddress(d).canonical);
    if (targets.includes(key)) throw new InvalidInputError(`Alias "${key}" cannot point to itself`);
    await this.sql.begin(async (tx) => {
      const [account] = await tx`select 1 from accounts where address = ${key}`;
      if (account) throw new ConflictError(`"${key}" is an account; an alias cannot shadow it`);
      for (const target of targets) {
        await tx`insert into aliases (domain_id, source, destination)
                 values (${hosted.id}, ${key}, ${target}) on conflict do nothing`;
      }
    });
    return await this.get(key);
  }

  /** One alias with all its destinations; NotFoundError if there is none. */
  async get(source: string): Promise<Alias> {
    const { key } = parseSource(source);
    const rows = await this.sql<{ destination: string }[]>`
      select destination from aliases where source = ${key} order by destination`;
    if (rows.length === 0) throw new NotFoundError(`No alias "${key}"`);
    return { source: key, destinations: rows.map((r) => r.destination) };
  }

  /** All aliases, or those of one domain. */
  async list(domainName?: string): Promise<Alias[]> {
    const rows = domainName === undefined
      ? await this.sql<{ source: string; destination: string }[]>`
          select source, destination from aliases order by source, destination`
      : await this.sql<{ source: string; destination: string }[]>`
          select source, destination from aliases
          where domain_id = ${(await this.domains.get(domainName)).id}
          order by source, destination`;
    const grouped = new Map<string, string[]>();
    for (const row of rows) {
      const list = grouped.get(row.source) ?? [];
      list.push(row.destination);
      grouped.set(row.source, list);
    }
    return [...grouped].map(([source, destinations]) => ({ source, destinations }));
  }

  /** Removes an alias, or only the given destinations of it. */
  async remove(source: string, destinations: readonly string[] = []): Promise<void> {
    const { key } = parseSource(source);
    const targets = destinations.map((d) => parseAddress(d).canonical);
    const removed = targets.length === 0
      ? await this.sql`delete from aliases where source = ${key} returning 1`
      : await this.sql`delete from aliases where source = ${key} and destination in ${
        this.sql(targets)
      } returning 1`;
    if (removed.length === 0) {
      throw new NotFoundError(
        `No alias "${key}"${targets.length ? " with those destinations" : ""}`,
      );
    }
  }

  /** Resolves a recipient; null when its domain is hosted but nothing matches, or not hosted. */
  async resolve(recipient: string | MailAddress): Promise<Resolution | null> {
    const address = typeof recipient === "string" ? parseAddress(recipient) : recipient;
    if (!(await this.domains.find(address.domain))) return null;
    const accountIds = new Set<number>();
    const remote = new Set<string>();
    const found = await this.#expand(address, 0, new Set(), accountIds, remote);
    return found ? { accountIds: [...accountIds], remote: [...remote] } : null;
  }

  async #expand(
    address: MailAddress,
    depth: number,
    seen: Set<string>,
    accountIds: Set<number>,
    remote: Set<string>,
  ): Promise<boolean> {
    if (depth > MAX_ALIAS_DEPTH || seen.has(address.canonical)) return false;
    seen.add(address.canonical);
    if (!(await this.domains.find(address.domain))) {
      remote.add(address.canonical);
      return true;
    }
    const { base, tag } = splitSubaddress(address.local);
    const candidates = [address.canonical];
    if (tag !== null && base !== "") {
      candidates.push(`${formatLocalPart(canonicalLocalPart(base))}@${address.domain}`);
    }
    candidates.push(`@${address.domain}`);
    for (const candidate of candidates) {
      if (!candidate.startsWith("@")) {
        const [account] = await this.sql<{ id: number; disabled: boolean }[]>`
          select id, disabled from accounts where address = ${candidate}`;
        if (account) {
          if (!account.disabled) accountIds.add(account.id);
          return !account.disabled;
        }
      }
      const targets = await this.sql<{ destination: string }[]>`
        select destination from aliases where source = ${candidate}`;
      if (targets.length > 0) {
        let any = false;
        for (const { destination } of targets) {
          if (await this.#expand(parseAddress(destination), depth + 1, seen, accountIds, remote)) {
            any = true;
          }
        }
        return any;
      }
    }
    return false;
  }
}

/** An alias source: an address, or `@domain` for a catch-all. */
function parseSource(source: string): { key: string; domain: string } {
  if (source.startsWith("@")) {
    const { domain } = parseAddress(`postmaster${source}`);
    return { key: `@${domain}`, domain };
  }
  const address = parseAddress(source);
  return { key: address.canonical, domain: address.domain };
}
