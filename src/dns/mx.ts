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
 *
 * @module
 */

import { lookupAddresses } from "./helpers.ts";
import { canonicalName } from "./message.ts";
import type { Resolver } from "./resolver.ts";

/** One host to try, in order. */
export interface MxHost {
  /** The exchange's name (or the domain itself for an implicit MX). */
  readonly host: string;
  readonly preference: number;
  /** IPv6 addresses first, then IPv4. Empty when the host has none or its lookup failed. */
  readonly addresses: readonly string[];
  /** Why the host's addresses could not be found for now; absent when they could. */
  readonly temporaryError?: string;
}

/** The outcome of {@link mxHosts}. */
export type MxResult =
  | { readonly status: "ok"; readonly implicit: boolean; readonly hosts: readonly MxHost[] }
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
}

/** Finds the hosts that take mail for `domain`, in the order to try them. */
export async function mxHosts(
  resolver: Resolver,
  domain: string,
  options: MxOptions = {},
): Promise<MxResult> {
  const name = canonicalName(domain);
  const mx = await resolver.lookup(name, "MX");
  if (mx.status === "temperror") {
    return { status: "temperror", reason: `MX lookup for ${name}: ${mx.error ?? "failed"}` };
  }
  if (mx.status === "nxdomain") {
    return { status: "no-domain", reason: `Domain ${name} does not exist` };
  }
  if (mx.status === "nodata") {
    // RFC 5321 §5.1: no MX, so the domain itself is the mail host, if it has an address.
    const host = await resolveHost(resolver, name, 0);
    if (host.temporaryError !== undefined && host.addresses.length === 0) {
      return { status: "temperror", reason: host.temporaryError };
    }
    if (host.addresses.length === 0) {
      return { status: "no-mail-host", reason: `Domain ${name} has no MX and no address` };
    }
    return { status: "ok", implicit: true, hosts: [host] };
  }
  // RFC 7505 §3: one MX whose exchange is the root, "." (read as ""): no mail, ever.
  if (mx.records.length === 1 && mx.records[0]!.exchange === "") return { status: "null-mx" };
  const records = shuffleEqual(
    mx.records.filter((r) => r.exchange !== ""),
    options.random ?? Math.random,
  );
  const hosts = await Promise.all(
    records.map((r) => resolveHost(resolver, r.exchange, r.preference)),
  );
  return { status: "ok", implicit: false, hosts };
}

async function resolveHost(resolver: Resolver, host: string, preference: number): Promise<MxHost> {
  const { addresses, temporaryError } = await lookupAddresses(resolver, host);
  return temporaryError === undefined
    ? { host, preference, addresses }
    : { host, preference, addresses, temporaryError };
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
