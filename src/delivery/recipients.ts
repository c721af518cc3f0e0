/**
 * Recipients and senders: where mail for an address goes, whether it fits, and which sender
 * addresses an account may use on submission.
 *
 * The SMTP session asks {@link Recipients.resolve} at RCPT time, so an unknown recipient is
 * refused there, with a 550, and never bounced later (no backscatter).
 *
 * Who may send as whom ({@link Recipients.ownsSender}): an account owns its own address, its
 * subaddresses (`user+tag@`, RFC 5233), the explicit aliases whose resolution reaches it, and
 * the entries an administrator allowed it (`accounts.allowed_senders`: addresses, or `@domain`
 * for a whole domain). A catch-all alias (`@domain`) does NOT make its owner the owner of every
 * address of the domain: receiving mail for unknown names is no licence to send as any of them,
 * including as other accounts of the domain. The null sender `<>` is nobody's on submission:
 * it is for bounces, which users do not send.
 *
 * @module
 */

import type { Store } from "../store/mod.ts";
import {
  canonicalLocalPart,
  formatLocalPart,
  type MailAddress,
  splitSubaddress,
} from "../util/address.ts";
import { NotFoundError } from "../util/errors.ts";

/** Where mail for a recipient goes. */
export type RecipientResolution =
  | LocalResolution
  | { readonly kind: "remote" }
  | { readonly kind: "unknown" };

/** A recipient of a hosted domain: the accounts it reaches and the addresses it forwards to. */
export interface LocalResolution {
  readonly kind: "local";
  /** Enabled accounts, no duplicates; empty when the address only forwards. */
  readonly accountIds: readonly number[];
  /** Canonical addresses of other domains that aliases forward to. */
  readonly remote: readonly string[];
}

/** The part of the store recipients are resolved with. */
export type RecipientStore = Pick<Store, "domains" | "accounts" | "aliases">;

/** Resolves recipients and checks senders over the store. */
export class Recipients {
  constructor(private readonly store: RecipientStore) {}

  /**
   * Resolves a RCPT address: `local` for an address of a hosted domain that reaches an enabled
   * account or forwards somewhere; `remote` when the domain is not hosted; `unknown` for a
   * hosted domain without such a user (a disabled account counts as none).
   *
   * Postmaster (RFC 5321 §4.5.1): the bare `<Postmaster>` (RFC 5321 §4.1.1.3), and
   * `postmaster@` of any hosted domain that has no account or alias of that name, reach the
   * enabled administrators.
   */
  async resolve(address: MailAddress | "postmaster"): Promise<RecipientResolution> {
    if (address === "postmaster") return await this.#postmaster();
    if (!(await this.store.domains.find(address.domain))) return { kind: "remote" };
    const found = await this.store.aliases.resolve(address);
    if (found && (found.accountIds.length > 0 || found.remote.length > 0)) {
      return { kind: "local", accountIds: found.accountIds, remote: found.remote };
    }
    // RFC 5321 §4.1.1.3: "Postmaster" is case-insensitive.
    if (canonicalLocalPart(address.local) === "postmaster") return await this.#postmaster();
    return { kind: "unknown" };
  }

  /** Of `accountIds`, those a message of `size` bytes would take over quota. */
  async overQuota(accountIds: readonly number[], size: number): Promise<number[]> {
    return await this.store.accounts.roomFor(accountIds, size);
  }

  /**
   * Whether the account may use `address` as MAIL FROM or From: on submission (see the module
   * documentation for the rules). Null (`<>`) is never owned.
   */
  async ownsSender(accountId: number, address: MailAddress | null): Promise<boolean> {
    if (address === null) return false;
    const account = await this.store.accounts.getById(accountId);
    if (account.disabled) return false;
    const candidates = [address.canonical];
    const { base, tag } = splitSubaddress(address.local);
    if (tag !== null && base !== "") {
      // RFC 5233: user+tag@ is user@'s.
      candidates.push(`${formatLocalPart(canonicalLocalPart(base))}@${address.domain}`);
    }
    if (candidates.includes(account.address)) return true;
    const allowed = new Set(await this.store.accounts.allowedSenders(accountId));
    if (allowed.has(`@${address.domain}`) || candidates.some((c) => allowed.has(c))) return true;
    for (const candidate of candidates) {
      // Only an alias of exactly this source counts: resolve() would also try the catch-all.
      if (!(await this.#isAlias(candidate))) continue;
      const reached = await this.store.aliases.resolve(candidate);
      if (reached?.accountIds.includes(accountId)) return true;
    }
    return false;
  }

  async #postmaster(): Promise<RecipientResolution> {
    const accountIds = await this.store.accounts.administratorIds();
    return accountIds.length === 0
      ? { kind: "unknown" }
      : { kind: "local", accountIds, remote: [] };
  }

  async #isAlias(source: string): Promise<boolean> {
    try {
      await this.store.aliases.get(source);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }
}
