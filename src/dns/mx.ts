/**
 * Where mail for a domain goes (RFC 5321 §5.1): its MX hosts by preference, each with its
 * addresses, or a clear reason there are none.
 *
 * - MX records are sorted by preference; hosts of equal preference are shuffled, to spread
 *   the load as RFC 5321 §5.1 asks.
 * - No MX records (NODATA) but an A or AAAA at the domain: the domain itself is the one host
 *   (the implicit MX, RFC 5321 §5.1).
 * - A single MX with the root as its exchange is a null MX (RFC 7505 §3): the domain accepts
 *   no mail, a permanent failure. A "." among other MX records is skipped (RFC 7505 §3 says it
 *   must not be there).
 * - A name that does not exist (NXDOMAIN) is permanent; a temporary failure of the MX lookup
 *   is temporary, never a reason to fall back to the implicit MX.
 * - Each host's addresses: IPv6 first, then IPv4. A host whose lookups failed temporarily says
 *   so, so that the queue retries rather than bounces when no host could be reached.
 * - With `dnssec` (for DANE, RFC 7672 §2.2), every lookup asks for DNSSEC, and the result and
 *   each host say whether their answers were validated; without it they say nothing.
 *
 * @module
 */

import { lookupAddresses } from "./helpers.ts";
import { canonicalName } from "./message.ts";
import type { LookupOptions, Resolver } from "./resolver.ts";

/** One host to try, in order. */
export interface MxHost {
  /** The exchange's name (or the domain itself for an implicit MX). */
  readonly host: string;
  readonly preference: number;
  /** IPv6 addresses first, then IPv4. Empty when the host has none or its lookup failed. */
  readonly addresses: readonly string[];
  /** Why the host's addresses could not be found for now; absent when they could. */
  readonly temporaryError?: string;
  /** With `dnssec`: the host's address answers were validated (RFC 7672 §2.2.2). */
  readonly authenticated?: boolean;
}

/** The outcome of {@link mxHosts}. */
export type MxResult =
  | {
    readonly status: "ok";
    readonly implicit: boolean;
    readonly hosts: readonly MxHost[];
    /**
     * With `dnssec`: the MX RRset (or, for an implicit MX, its secure absence) was validated,
     * which DANE needs before it looks for TLSA records (RFC 7672 §2.2.1).
     */
    readonly authenticated?: boolean;
  }
  /** RFC 7505: the domain says it accepts no mail. Permanent. */
  | { readonly status: "null-mx" }
  /** The domain does not exist, or has neither MX nor addresses. Permanent. */
  | { readonly status: "no-domain" | "no-mail-host"; readonly reason: string }
  /** The lookup of the domain's MX failed for now; try later. */
  | { readonly status: "temperror"; readonly reason: string };

/** What {@link mxHosts} needs from the world. */
export interface MxOptions {
  /** A number in [0, 1), for shuffling hosts of equal preference; tests pass their own. */
  readonly random?: () => number;
  /** Ask for DNSSEC and report what was validated (DANE). */
  readonly dnssec?: boolean;
}

/** Finds the hosts that take mail for `domain`, in the order to try them. */
export async function mxHosts(
  resolver: Resolver,
  domain: string,
  options: MxOptions = {},
): Promise<MxResult> {
  const name = canonicalName(domain);
  const lookup = options.dnssec ? { dnssec: true } : {};
  const mx = await resolver.lookup(name, "MX", lookup);
  const secure = options.dnssec ? { authenticated: mx.authenticated } : {};
  if (mx.status === "temperror") {
    return { status: "temperror", reason: `MX lookup for ${name}: ${mx.error ?? "failed"}` };
  }
  if (mx.status === "nxdomain") {
    return { status: "no-domain", reason: `Domain ${name} does not exist` };
  }
  if (mx.status === "nodata") {
    // RFC 5321 §5.1: no MX, so the domain itself is the mail host, if it has an address.
    const host = await resolveHost(resolver, name, 0, lookup);
    if (host.temporaryError !== undefined && host.addresses.length === 0) {
      return { status: "temperror", reason: host.temporaryError };
    }
    if (host.addresses.length === 0) {
      return { status: "no-mail-host", reason: `Domain ${name} has no MX and no address` };
    }
    return { status: "ok", implicit: true, hosts: [host], ...secure };
  }
  // RFC 7505 §3: one MX whose exchange is the root, "." (read as ""): no mail, ever.
  if (mx.records.length === 1 && mx.records[0]!.exchange === "") return { status: "null-mx" };
  const records = shuffleEqual(
    mx.records.filter((r) => r.exchange !== ""),
    options.random ?? Math.random,
  );
  const hosts = await Promise.all(
    records.map((r) => resolveHost(resolver, r.exchange, r.preference, lookup)),
  );
  return { status: "ok", implicit: false, hosts, ...secure };
}

async function resolveHost(
  resolver: Resolver,
  host: string,
  preference: number,
  options: LookupOptions,
): Promise<MxHost> {
  const { addresses, temporaryError, authenticated } = await lookupAddresses(
    resolver,
    host,
    options,
  );
  return {
    host,
    preference,
    addresses,
    ...(temporaryError === undefined ? {} : { temporaryError }),
    ...(authenticated === undefined ? {} : { authenticated }),
  };
}

/** Sorts by preference, shuffling each group of equal preference (Fisher–Yates). */
function shuffleEqual<R extends { readonly preference: number }>(
  records: readonly R[],
  random: () => number,
): R[] {
  const shuffled = [...records];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  return shuffled.sort((a, b) => a.preference - b.preference); // stable: keeps the shuffle
}
