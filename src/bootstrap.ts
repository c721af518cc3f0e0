/**
 * First start: on a database without accounts, create an administrator so that someone can
 * sign in. The address is `admin@<mail domain>` (or FUMI_ADMIN_ADDRESS), the password comes
 * from FUMI_ADMIN_PASSWORD or is generated, shown once and must be changed at first sign-in.
 * `postmaster@` of the domain is aliased to it: RFC 5321 §4.5.1 requires that address.
 *
 * @module
 */

import { checkPasswordPolicy } from "./crypto/password_policy.ts";
import type { Config } from "./config/mod.ts";
import { generatePassword } from "./crypto/random_password.ts";
import { AuditLog, type Store } from "./store/mod.ts";
import { type MailAddress, parseAddress } from "./util/address.ts";
import { ConfigError, ConflictError, InvalidInputError } from "./util/errors.ts";

/** The administrator created at first start. */
export interface FirstAdministrator {
  readonly address: string;
  /** Set when Fumi generated the password (to print once); null when it came from the environment. */
  readonly generatedPassword: string | null;
}

/** The mail domain of a host name: `mail.example.org` → `example.org`; `localhost` stays. */
export function mailDomainOf(hostname: string): string {
  const labels = hostname.split(".");
  return labels.length >= 3 ? labels.slice(1).join(".") : hostname;
}

/** Creates the first administrator if the database has no account; null otherwise. */
export async function ensureAdministrator(
  store: Store,
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): Promise<FirstAdministrator | null> {
  const [row] = await store.sql`select 1 from accounts limit 1`;
  if (row) return null;
  const address = parseConfigured(
    "FUMI_ADMIN_ADDRESS",
    env.FUMI_ADMIN_ADDRESS?.trim() || `admin@${mailDomainOf(config.hostname)}`,
  );
  const given = env.FUMI_ADMIN_PASSWORD;
  const password = given || generatePassword();
  if (given) {
    const problems = checkPasswordPolicy(given, address, {
      minLength: config.accounts.password_min_length,
      rejectCommon: config.accounts.reject_common_passwords,
    });
    if (problems.length) throw new ConfigError(`FUMI_ADMIN_PASSWORD: ${problems.join("; ")}`);
  }
  try {
    if (!(await store.domains.find(address.domain))) await store.domains.add(address.domain);
    const account = await store.accounts.create({
      address: address.canonical,
      password,
      isAdmin: true,
      displayName: "Administrator",
    });
    if (!given) {
      await store.sql`update accounts set password_must_change = true where id = ${account.id}`;
    }
    const postmaster = `postmaster@${account.domain}`;
    if (account.address !== postmaster && !(await store.accounts.find(postmaster))) {
      await store.aliases.add(postmaster, [account.address]);
    }
    const details = { admin: true, firstStart: true };
    await new AuditLog(store.sql).append({
      actor: "system",
      action: "account.add",
      target: account.address,
      details,
      source: "system",
    });
    return { address: account.address, generatedPassword: given ? null : password };
  } catch (error) {
    // Another node starting on the same database created it first.
    if (error instanceof ConflictError) return null;
    throw error;
  }
}

function parseConfigured(variable: string, value: string): MailAddress {
  try {
    return parseAddress(value);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new ConfigError(`${variable}: ${error.message}`);
    throw error;
  }
}
