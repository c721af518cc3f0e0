/**
 * Policy discovery (RFC 8461 §3.1): the TXT record at `_mta-sts.<domain>` says a domain has a
 * policy and which version of it (the id), so a sender knows when to fetch it again.
 *
 * @module
 */

import type { Resolver } from "../dns/mod.ts";
import { isStsRecord, parseRecord } from "./parse.ts";

/** What the TXT record says. */
export type Discovery =
  | { readonly status: "found"; readonly id: string }
  /** No usable record: none, several, or a malformed one (§3.1: as if no policy). */
  | { readonly status: "none"; readonly reason: string }
  /** The lookup failed for now. */
  | { readonly status: "temperror"; readonly reason: string };

/** Looks up and reads the `_mta-sts` TXT record of `domain` (a CNAME there is followed). */
export async function discover(resolver: Resolver, domain: string): Promise<Discovery> {
  const name = `_mta-sts.${domain}`;
  const lookup = await resolver.lookup(name, "TXT");
  if (lookup.status === "temperror") {
    return { status: "temperror", reason: `TXT lookup for ${name}: ${lookup.error ?? "failed"}` };
  }
  // RFC 8461 §3.1: records that do not begin with "v=STSv1;" are discarded; if the number
  // left is not one, or that one is invalid, the domain has no available policy.
  const records = lookup.records.map((r) => r.text).filter(isStsRecord);
  if (records.length === 0) return { status: "none", reason: `No MTA-STS record at ${name}` };
  if (records.length > 1) return { status: "none", reason: `Several MTA-STS records at ${name}` };
  const parsed = parseRecord(records[0]!);
  if (!parsed.ok) return { status: "none", reason: parsed.reason };
  return { status: "found", id: parsed.value.id };
}
