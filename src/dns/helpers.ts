/**
 * Lookups that callers make often and that take more than one query or some care: a host's
 * addresses (FCrDNS, MX hosts) and the PTR of an IP address.
 *
 * @module
 */

import { canonicalName } from "./message.ts";
import { type Lookup, type LookupOptions, type Resolver, reverseName } from "./resolver.ts";

/** A host's addresses, and whether any of its lookups failed for now. */
export interface Addresses {
  /** IPv6 addresses first, then IPv4. */
  readonly addresses: readonly string[];
  /** True when the name exists in neither lookup (both NXDOMAIN). */
  readonly nxdomain: boolean;
  /** Why a lookup failed for now; absent when both gave an answer. */
  readonly temporaryError?: string;
  /**
   * With `dnssec`: both answers (records or their absence) were validated (the AD bit), as DANE
   * asks of an MX host's addresses (RFC 7672 §2.2.2). Absent without `dnssec`.
   */
  readonly authenticated?: boolean;
}

/** Looks up AAAA and A of `host` together. */
export async function lookupAddresses(
  resolver: Resolver,
  host: string,
  options: LookupOptions = {},
): Promise<Addresses> {
  const name = canonicalName(host);
  const [v6, v4] = await Promise.all([
    resolver.lookup(name, "AAAA", options),
    resolver.lookup(name, "A", options),
  ]);
  const addresses = [...v6.records.map((r) => r.address), ...v4.records.map((r) => r.address)];
  const nxdomain = v6.status === "nxdomain" && v4.status === "nxdomain";
  const failed = [v6, v4].filter((l) => l.status === "temperror");
  const secure = options.dnssec ? { authenticated: v6.authenticated && v4.authenticated } : {};
  if (failed.length === 0) return { addresses, nxdomain, ...secure };
  const temporaryError = failed.map((l) => `${l.type} lookup for ${name}: ${l.error}`).join("; ");
  return { addresses, nxdomain, temporaryError, ...secure };
}

/** The PTR records of an IP address; null when `ip` is not one. */
export function lookupPtr(resolver: Resolver, ip: string): Promise<Lookup<"PTR">> | null {
  const name = reverseName(ip);
  return name === null ? null : resolver.lookup(name, "PTR");
}
