/**
 * Server secrets: random values the server creates once and every node then shares (the
 * `server_secrets` table, sealed with the system data key).
 *
 * @module
 */

import type { Sql } from "./db.ts";
import type { Vault } from "./vault.ts";

/** Random secrets by name, created on first use. */
export class Secrets {
  constructor(private readonly sql: Sql, private readonly vault: Vault) {}

  /**
   * The secret called `name` (32 random bytes), created on first use. Two nodes asking at once
   * get the same value: the first insert wins and both read it back.
   */
  async get(name: string): Promise<Uint8Array> {
    const placement = { table: "server_secrets", column: "value", row: name };
    const fresh = crypto.getRandomValues(new Uint8Array(32));
    const sealed = await this.vault.seal(null, fresh, placement);
    fresh.fill(0);
    await this.sql`insert into server_secrets (name, value) values (${name}, ${sealed})
                   on conflict (name) do nothing`;
    const [row] = await this.sql<{ value: Uint8Array }[]>`
      select value from server_secrets where name = ${name}`;
    return await this.vault.open(row!.value, placement);
  }
}
