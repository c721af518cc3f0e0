/**
 * What reporting needs of a domain's DMARC record beyond what evaluation uses: where the record
 * was found (the policy domain), its `rua` URIs (RFC 7489 §6.3, §6.4) with their size limits
 * (§6.2 `!size`), and external destination verification (§7.1).
 *
 * @module
 */

import type { Resolver } from "../dns/mod.ts";
import { type DmarcRecord, organizationalDomain, parseDmarcRecord } from "../mailauth/mod.ts";

/** A DMARC record with its name and rua URIs. */
export interface ReportingPolicy {
  /** The domain whose `_dmarc` record this is (the Author Domain or its org domain). */
  readonly policyDomain: string;
  readonly record: DmarcRecord;
  /** The `rua` URIs as published, in order. */
  readonly rua: readonly string[];
}

/** A `mailto:` report destination (RFC 7489 §6.2). */
export interface ReportDestination {
  /** The address, percent-decoded. */
  readonly address: string;
  /** Its domain, lowercased. */
  readonly domain: string;
  /** The largest report the receiver takes, in octets; null without a limit. */
  readonly maxSize: number | null;
}

/** At most this many destinations are used per report (RFC 7489 §6.2 lets a sender limit). */
export const MAX_DESTINATIONS = 5;

const VERSION = /^v[ \t]*=[ \t]*DMARC1[ \t]*(;|$)/;

/** The tags of a DMARC record (RFC 7489 §6.4); the first of a repeated tag counts. */
function tags(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

/**
 * RFC 7489 §6.6.3 discovery again, keeping the record's name and its `rua`: `_dmarc.` + the
 * Author Domain, else its Organizational Domain's. Null without one usable record, or on a DNS
 * error (reports are best effort).
 */
export async function reportingPolicy(
  resolver: Resolver,
  authorDomain: string,
): Promise<ReportingPolicy | null> {
  const domain = authorDomain.toLowerCase().replace(/\.$/, "");
  const candidates = [domain];
  const org = organizationalDomain(domain);
  if (org !== domain) candidates.push(org);
  for (const name of candidates) {
    const lookup = await resolver.lookup(`_dmarc.${name}`, "TXT");
    if (lookup.status === "temperror") return null;
    const texts = lookup.records.map((r) => r.text).filter((t) => VERSION.test(t));
    if (texts.length === 0) continue;
    // §6.6.3 step 5: several records are no record.
    if (texts.length > 1) return null;
    const record = parseDmarcRecord(texts[0]!);
    if (record === null) return null;
    const rua = (tags(texts[0]!).get("rua") ?? "").split(",").map((u) => u.trim()).filter((u) =>
      u !== ""
    );
    return { policyDomain: name, record, rua };
  }
  return null;
}

const UNITS: Record<string, number> = { "": 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };

/**
 * The `mailto:` destinations of rua URIs (RFC 7489 §6.2: `URI [ "!" 1*DIGIT [ k|m|g|t ] ]`),
 * at most {@link MAX_DESTINATIONS}; other schemes and malformed URIs are left out.
 */
export function mailtoDestinations(uris: readonly string[]): ReportDestination[] {
  const out: ReportDestination[] = [];
  for (const uri of uris) {
    const match = /^mailto:([^!?]+)(?:\?[^!]*)?(?:!(\d{1,12})([kmgt]?))?$/i.exec(uri.trim());
    if (match === null) continue;
    let address: string;
    try {
      address = decodeURIComponent(match[1]!);
    } catch {
      continue;
    }
    // One plain address, no controls or separators smuggled in by percent-encoding.
    if (!/^[^\s@<>,;:"()\\[\]]+@[A-Za-z0-9.-]+$/.test(address)) continue;
    const domain = address.slice(address.lastIndexOf("@") + 1).toLowerCase().replace(/\.$/, "");
    const maxSize = match[2] === undefined
      ? null
      : Number(match[2]) * UNITS[(match[3] ?? "").toLowerCase()]!;
    if (out.some((d) => d.address.toLowerCase() === address.toLowerCase())) continue;
    out.push({ address, domain, maxSize });
    if (out.length === MAX_DESTINATIONS) break;
  }
  return out;
}

/** What {@link verifyDestination} found. */
export type Verification = "same-organization" | "verified" | "unverified" | "temperror";

/**
 * RFC 7489 §7.1: a destination outside the policy domain's Organizational Domain must agree to
 * receive its reports with a `v=DMARC1` TXT record at
 * `<policy-domain>._report._dmarc.<destination-domain>`.
 */
export async function verifyDestination(
  resolver: Resolver,
  policyDomain: string,
  destination: ReportDestination,
): Promise<Verification> {
  if (organizationalDomain(destination.domain) === organizationalDomain(policyDomain)) {
    return "same-organization";
  }
  const lookup = await resolver.lookup(
    `${policyDomain}._report._dmarc.${destination.domain}`,
    "TXT",
  );
  if (lookup.status === "temperror") return "temperror";
  return lookup.records.some((r) => VERSION.test(r.text)) ? "verified" : "unverified";
}
