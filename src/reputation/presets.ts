/**
 * What well-known lists document, as data in the same shape as the `[[reputation.dnsbl]]` and
 * `[[reputation.uribl]]` config entries: the default lists of a production install, and the
 * return codes used when a configured zone names a known list without giving its own codes.
 *
 * Sources: the lists' own documentation of their return codes. A query Spamhaus refuses
 * (127.255.255.252 typo, .254 public or open resolver, .255 excessive queries) is a refusal
 * wherever it comes from (lists.ts); DNSWL's 127.0.0.255 is its "limit exceeded".
 *
 * @module
 */

import type { ListAction } from "./lists.ts";

/** One documented code or range (`127.0.0.4-127.0.0.7`) as written in config. */
export interface CodeEntry {
  readonly code: string;
  readonly meaning: string;
  readonly weight?: number | undefined;
  readonly action?: ListAction | undefined;
  readonly refused?: boolean | undefined;
}

/** A list as written in config (`[[reputation.dnsbl]]`). */
export interface ListEntry {
  readonly name: string;
  readonly zone: string;
  readonly weight?: number | undefined;
  readonly action?: ListAction | undefined;
  readonly codes?: readonly CodeEntry[] | undefined;
  /** URIBL only: query the registrable domain (default) or the host name. */
  readonly registrable?: boolean | undefined;
}

/** Spamhaus ZEN: SBL, CSS, XBL and PBL in one zone. */
export const SPAMHAUS_ZEN: ListEntry = {
  name: "spamhaus-zen",
  zone: "zen.spamhaus.org",
  weight: 3,
  action: "score",
  codes: [
    { code: "127.0.0.2", meaning: "SBL", action: "reject" },
    { code: "127.0.0.3", meaning: "SBL CSS", action: "reject" },
    { code: "127.0.0.4-127.0.0.7", meaning: "XBL", action: "reject" },
    { code: "127.0.0.9", meaning: "SBL DROP", action: "reject" },
    // End-user address ranges that should not send directly: suspicious, not proof.
    { code: "127.0.0.10-127.0.0.11", meaning: "PBL", weight: 3 },
  ],
};

/** Spamhaus DBL: domains found in spam. */
export const SPAMHAUS_DBL: ListEntry = {
  name: "spamhaus-dbl",
  zone: "dbl.spamhaus.org",
  weight: 6,
  action: "score",
  codes: [
    { code: "127.0.1.2", meaning: "spam domain", weight: 6 },
    { code: "127.0.1.4", meaning: "phish domain", weight: 10 },
    { code: "127.0.1.5", meaning: "malware domain", weight: 10 },
    { code: "127.0.1.6", meaning: "botnet C&C domain", weight: 10 },
    // Legitimate domains that were abused (a compromised site, a redirector): weaker.
    { code: "127.0.1.102-127.0.1.106", meaning: "abused legitimate domain", weight: 3 },
  ],
};

/** DNSWL.org's categories (the third octet of its codes): 2-15 and 20 are documented. */
const DNSWL_CATEGORIES = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 20];

/**
 * DNSWL.org: 127.0.<category>.<trust>. Trust 0 ("none": known, but also a source of spam) is
 * no trust: named in X-Spam-Status, weight 0, neither accepted nor exempt from greylisting.
 * Trust 1-3 (low, medium, high) vouches for the client. 127.0.0.255: query limit exceeded.
 * A range cannot say "last octet 0", so each category has its own two entries.
 */
export const DNSWL: ListEntry = {
  name: "dnswl",
  zone: "list.dnswl.org",
  weight: -2,
  action: "accept",
  codes: [
    { code: "127.0.0.255", meaning: "query limit exceeded", refused: true },
    ...DNSWL_CATEGORIES.flatMap((category): CodeEntry[] => [
      { code: `127.0.${category}.0`, meaning: "trust none", weight: 0, action: "score" },
      { code: `127.0.${category}.1-127.0.${category}.3`, meaning: "trusted" },
    ]),
  ],
};

/** The client lists of a production install. */
export const DEFAULT_DNSBL: readonly ListEntry[] = [SPAMHAUS_ZEN];
/** The domain lists of a production install. */
export const DEFAULT_URIBL: readonly ListEntry[] = [SPAMHAUS_DBL];

/** Known lists by zone, for zones configured without codes (a DQS key prefix allowed). */
export const KNOWN_LISTS: readonly (ListEntry & { readonly suffixes: readonly string[] })[] = [
  { ...SPAMHAUS_ZEN, suffixes: ["zen.spamhaus.org", "zen.dq.spamhaus.net"] },
  { ...SPAMHAUS_DBL, suffixes: ["dbl.spamhaus.org", "dbl.dq.spamhaus.net"] },
  { ...DNSWL, suffixes: ["list.dnswl.org"] },
];
