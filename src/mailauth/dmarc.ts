/**
 * DMARC (RFC 7489) for one Author Domain: the policy record and its discovery through the
 * Organizational Domain, identifier alignment, and the policy to apply with `p`, `sp` and
 * `pct`.
 *
 * The Organizational Domain is found with the Public Suffix List (RFC 7489 §3.2) of the npm
 * package tldts, ICANN and private sections both, as the list is meant to be used: one label
 * more than the longest matching public suffix. A name under no listed suffix is its own
 * last two labels (the list's default rule "*").
 *
 * Outcomes: `pass`, `fail`, `none` (no usable policy record: no DMARC processing, §6.6.3),
 * `temperror`: the record could not be fetched, or nothing aligned passed while an identifier
 * that would have aligned could not be checked (a DNS error on its SPF record or DKIM key,
 * §6.6.2). The result cannot be decided; the caller answers 451 unless the published policy
 * is `none`, so that the sender retries and neither a forgery is delivered nor genuine mail
 * refused for a DNS outage.
 *
 * @module
 */

import { getDomain } from "tldts";
import type { Resolver } from "../dns/mod.ts";

/** A DMARC policy (RFC 7489 §6.3 "p"). */
export type Policy = "none" | "quarantine" | "reject";

/** A parsed DMARC record: what evaluation needs of it (RFC 7489 §6.3). */
export interface DmarcRecord {
  readonly p: Policy;
  /** `sp`, or `p` when absent. */
  readonly sp: Policy;
  /** 0 to 100; default 100. */
  readonly pct: number;
  readonly adkim: "r" | "s";
  readonly aspf: "r" | "s";
}

/** The outcome for one Author Domain. */
export interface DmarcOutcome {
  /** The Author Domain evaluated. */
  readonly domain: string;
  readonly result: "pass" | "fail" | "none" | "temperror";
  /** The published policy that applies (`sp` for an inherited record), null without one. */
  readonly published: Policy | null;
  /** What to do: `published` after `pct` sampling for a failure, else `none`. */
  readonly policy: Policy;
  /** The aligned identifiers that made it pass. */
  readonly aligned: { readonly spf: string | null; readonly dkim: string | null };
  /** Why, for the Authentication-Results comment and logs. */
  readonly reason: string;
}

/** What evaluation looks at for one Author Domain. */
export interface DmarcInput {
  readonly authorDomain: string;
  /** The SPF-authenticated domain (MAIL FROM, or HELO for `<>`) when SPF passed, else null. */
  readonly spfDomain: string | null;
  /** The d= of every DKIM signature that verified. */
  readonly dkimDomains: readonly string[];
  /** The SPF identity's domain when its check ended in `temperror`, else null. */
  readonly spfTemperror?: string | null;
  /** The d= of every DKIM signature whose check ended in `temperror`. */
  readonly dkimTemperrors?: readonly string[];
  readonly resolver: Resolver;
  /** A number in [0, 1) for `pct` sampling; Math.random by default. */
  readonly random?: () => number;
}

/** The record as it applies: found at the Author Domain, or inherited from its org domain. */
export type Discovery =
  | { readonly kind: "found"; readonly record: DmarcRecord; readonly inherited: boolean }
  | { readonly kind: "none"; readonly reason: string }
  | { readonly kind: "temperror"; readonly reason: string };

/** RFC 7489 §3.2: the Organizational Domain of `domain` by the Public Suffix List. */
export function organizationalDomain(domain: string): string {
  const name = domain.toLowerCase().replace(/\.$/, "");
  return getDomain(name, { allowIcannDomains: true, allowPrivateDomains: true }) ?? name;
}

/**
 * RFC 7489 §3.1.1, §3.1.2: identifiers align strictly when equal, relaxedly when their
 * Organizational Domains are equal. Case-insensitive.
 */
export function aligns(identifier: string, authorDomain: string, mode: "r" | "s"): boolean {
  const a = identifier.toLowerCase().replace(/\.$/, "");
  const b = authorDomain.toLowerCase().replace(/\.$/, "");
  if (a === b) return true;
  return mode === "r" && organizationalDomain(a) === organizationalDomain(b);
}

/** RFC 7489 §6.4 dmarc-version: "v" *WSP "=" *WSP "DMARC1", as the first tag. */
const VERSION = /^v[ \t]*=[ \t]*DMARC1[ \t]*(;|$)/;

/** True for a TXT record that is a DMARC record at all (RFC 7489 §6.6.3 steps 2 and 4). */
export function isDmarcRecord(text: string): boolean {
  return VERSION.test(text);
}

/**
 * Parses a DMARC record (RFC 7489 §6.3, §6.4), or null when it has no valid policy and
 * must be ignored. §6.6.3 step 6: without a valid `p` (or with an invalid `sp`), a record
 * that names a valid `rua` is applied as `p=none`; otherwise it is ignored.
 */
export function parseDmarcRecord(text: string): DmarcRecord | null {
  if (!isDmarcRecord(text)) return null;
  const tags = new Map<string, string>();
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    // §6.3: unknown tags are ignored; the first of a repeated tag counts.
    if (!tags.has(name)) tags.set(name, part.slice(eq + 1).trim());
  }
  const policy = (value: string | undefined): Policy | null => {
    const v = value?.toLowerCase();
    return v === "none" || v === "quarantine" || v === "reject" ? v : null;
  };
  const p = policy(tags.get("p"));
  const spText = tags.get("sp");
  const sp = spText === undefined ? p : policy(spText);
  const pctText = tags.get("pct");
  // §6.3 pct: an integer from 0 to 100; anything else is a syntax error, the default applies.
  const pct = pctText !== undefined && /^\d{1,3}$/.test(pctText) && Number(pctText) <= 100
    ? Number(pctText)
    : 100;
  const mode = (value: string | undefined) => value?.toLowerCase() === "s" ? "s" : "r";
  if (p === null || sp === null) {
    // §6.6.3 step 6.
    const rua = tags.get("rua") ?? "";
    if (!/^\s*mailto:[^,\s]+@[^,\s]+/i.test(rua)) return null;
    return {
      p: "none",
      sp: "none",
      pct,
      adkim: mode(tags.get("adkim")),
      aspf: mode(tags.get("aspf")),
    };
  }
  return { p, sp, pct, adkim: mode(tags.get("adkim")), aspf: mode(tags.get("aspf")) };
}

/**
 * RFC 7489 §6.6.3 policy discovery: `_dmarc.` + the Author Domain; when that holds no DMARC
 * record, `_dmarc.` + its Organizational Domain. Several records at the name chosen, or
 * none, mean no DMARC processing.
 */
export async function discoverPolicy(resolver: Resolver, authorDomain: string): Promise<Discovery> {
  const own = await records(resolver, authorDomain);
  if (own.kind === "temperror") return own;
  let found = own.records;
  let inherited = false;
  const org = organizationalDomain(authorDomain);
  if (found.length === 0 && org !== authorDomain) {
    // Step 3: the Organizational Domain's record.
    const parent = await records(resolver, org);
    if (parent.kind === "temperror") return parent;
    found = parent.records;
    inherited = true;
  }
  if (found.length === 0) return { kind: "none", reason: "no DMARC record" };
  if (found.length > 1) return { kind: "none", reason: "several DMARC records" }; // Step 5
  const record = parseDmarcRecord(found[0]!);
  if (record === null) return { kind: "none", reason: "DMARC record without a valid policy" };
  return { kind: "found", record, inherited };
}

async function records(
  resolver: Resolver,
  domain: string,
): Promise<{ kind: "ok"; records: string[] } | { kind: "temperror"; reason: string }> {
  const lookup = await resolver.lookup(`_dmarc.${domain}`, "TXT");
  if (lookup.status === "temperror") {
    return { kind: "temperror", reason: `DNS error for _dmarc.${domain}` };
  }
  const texts = lookup.records.map((r) => r.text);
  return { kind: "ok", records: texts.filter(isDmarcRecord) };
}

/** The next lower policy, for a message `pct` leaves out (RFC 7489 §6.6.4). */
const LOWER: Record<Policy, Policy> = { reject: "quarantine", quarantine: "none", none: "none" };

/**
 * Evaluates DMARC for one Author Domain: discovery, alignment of the passing SPF and DKIM
 * identifiers, and the policy to apply.
 */
export async function evaluateDmarc(input: DmarcInput): Promise<DmarcOutcome> {
  return applyPolicy(input, await discoverPolicy(input.resolver, input.authorDomain));
}

/**
 * Evaluates DMARC for one Author Domain whose policy discovery is done: alignment of the
 * passing SPF and DKIM identifiers, and the policy to apply. Discovery may start before the
 * identifiers are known (src/mailauth/authenticate.ts starts it with SPF and DKIM).
 */
export function applyPolicy(
  input: Omit<DmarcInput, "resolver">,
  discovery: Discovery,
): DmarcOutcome {
  const domain = input.authorDomain;
  const none = { spf: null, dkim: null };
  if (discovery.kind !== "found") {
    return {
      domain,
      result: discovery.kind,
      published: null,
      policy: "none",
      aligned: none,
      reason: discovery.reason,
    };
  }
  const { record, inherited } = discovery;
  // §6.3 sp: the policy for subdomains, when the record was the Organizational Domain's.
  const published = inherited ? record.sp : record.p;
  // §3.1.2, §3.1.1: one aligned, authenticated identifier is enough (§4.2).
  const spf = input.spfDomain !== null && aligns(input.spfDomain, domain, record.aspf)
    ? input.spfDomain.toLowerCase()
    : null;
  const dkim = input.dkimDomains.find((d) => aligns(d, domain, record.adkim))?.toLowerCase() ??
    null;
  if (spf !== null || dkim !== null) {
    return {
      domain,
      result: "pass",
      published,
      policy: "none",
      aligned: { spf, dkim },
      reason: "aligned",
    };
  }
  // §6.6.2: an identifier that would have aligned but could not be checked (a DNS error on
  // its SPF record or DKIM key) leaves the result undecided, not failed.
  const spfCut = input.spfTemperror && aligns(input.spfTemperror, domain, record.aspf)
    ? input.spfTemperror
    : null;
  const dkimCut = (input.dkimTemperrors ?? []).find((d) => aligns(d, domain, record.adkim));
  if (spfCut !== null || dkimCut !== undefined) {
    return {
      domain,
      result: "temperror",
      published,
      policy: "none",
      aligned: none,
      reason: dkimCut !== undefined
        ? `DNS error for the DKIM key of ${dkimCut}`
        : `DNS error for the SPF record of ${spfCut}`,
    };
  }
  // §6.6.4: with pct below 100, a sampled-out failure gets the next lower policy.
  const sampled = record.pct >= 100 || (input.random ?? Math.random)() * 100 < record.pct;
  const policy = sampled ? published : LOWER[published];
  const reason = sampled
    ? "no aligned identifier"
    : `no aligned identifier; pct=${record.pct} left it out`;
  return { domain, result: "fail", published, policy, aligned: none, reason };
}
