/**
 * Checks what a hosted domain has published in DNS against what it should (expected.ts):
 * `fumi domain check`. Each record is judged as receivers judge it, not by its exact text: an
 * SPF policy that authorises this server some other way is fine, two SPF records are not.
 *
 * Invariants:
 * - A failed lookup is "unknown", never "missing": only NXDOMAIN and NODATA prove absence.
 * - Findings on recommended records (PTR, TLS-RPT) are warnings; the others are errors.
 *
 * @module
 */

import { lookupAddresses, lookupPtr, type Resolver } from "../dns/mod.ts";
import type { ExpectedRecord } from "./expected.ts";

/** What was found for one record. */
export type FindingStatus = "ok" | "missing" | "wrong" | "warning" | "unknown";

/** One record's verdict. */
export interface Finding {
  readonly record: ExpectedRecord;
  readonly status: FindingStatus;
  /** What was seen, or why it is wrong; empty when ok. */
  readonly detail: string;
}

/** Checks every record of `records` (expected.ts) for `domain` served by `hostname`. */
export async function checkRecords(
  resolver: Resolver,
  records: readonly ExpectedRecord[],
  hostname: string,
): Promise<Finding[]> {
  const host = await lookupAddresses(resolver, hostname);
  const findings: Finding[] = [];
  for (const record of records) {
    const [status, detail] = await judge(resolver, record, hostname, host.addresses);
    // Recommended records only warn.
    const soft = record.recommended && (status === "missing" || status === "wrong");
    findings.push({ record, status: soft ? "warning" : status, detail });
  }
  return findings;
}

type Verdict = [FindingStatus, string];

async function judge(
  resolver: Resolver,
  record: ExpectedRecord,
  hostname: string,
  addresses: readonly string[],
): Promise<Verdict> {
  switch (record.kind) {
    case "address":
      return await address(resolver, hostname);
    case "ptr":
      return await ptr(resolver, hostname, addresses);
    case "mx":
      return await mx(resolver, record.name, hostname);
    case "spf":
      return spf(await texts(resolver, record.name, "v=spf1"), hostname, addresses);
    case "dkim":
      return dkim(await texts(resolver, record.name, "v=DKIM1"), record.value);
    case "dmarc":
      return dmarc(await texts(resolver, record.name, "v=DMARC1"));
    case "mta-sts":
      return mtaSts(await texts(resolver, record.name, "v=STSv1"), record.value);
    case "mta-sts-host":
      return await policyHost(resolver, record.name, addresses);
    case "tls-rpt":
      return tlsRpt(await texts(resolver, record.name, "v=TLSRPTv1"));
  }
}

async function address(resolver: Resolver, hostname: string): Promise<Verdict> {
  const found = await lookupAddresses(resolver, hostname);
  if (found.addresses.length > 0) return ["ok", found.addresses.join(", ")];
  if (found.temporaryError !== undefined) return ["unknown", found.temporaryError];
  return ["missing", `${hostname} has no A or AAAA record`];
}

/** FCrDNS: each address of the server names the server back (RFC 8601 §3 iprev). */
async function ptr(
  resolver: Resolver,
  hostname: string,
  addresses: readonly string[],
): Promise<Verdict> {
  if (addresses.length === 0) return ["unknown", `${hostname} has no address to look up`];
  const problems: string[] = [];
  for (const ip of addresses) {
    const answer = await lookupPtr(resolver, ip);
    if (answer === null) continue;
    if (answer.status === "temperror") return ["unknown", `PTR of ${ip}: ${answer.error}`];
    const names = answer.records.map((r) => canonical(r.target));
    if (!names.includes(canonical(hostname))) {
      problems.push(names.length === 0 ? `${ip} has no PTR` : `${ip} → ${names.join(", ")}`);
    }
  }
  return problems.length === 0 ? ["ok", ""] : ["wrong", problems.join("; ")];
}

async function mx(resolver: Resolver, domain: string, hostname: string): Promise<Verdict> {
  const answer = await resolver.lookup(domain, "MX");
  if (answer.status === "temperror") return ["unknown", `MX lookup: ${answer.error}`];
  const targets = answer.records.map((r) => canonical(r.exchange));
  if (targets.length === 0) return ["missing", "no MX record"];
  if (targets.includes(canonical(hostname))) return ["ok", ""];
  return ["wrong", `the MX names ${targets.join(", ")}, not ${hostname}`];
}

/** The TXT records at `name` that begin with `version` (the others are not ours to judge). */
async function texts(
  resolver: Resolver,
  name: string,
  version: string,
): Promise<string[] | string> {
  const answer = await resolver.lookup(name, "TXT");
  if (answer.status === "temperror") return `TXT lookup for ${name}: ${answer.error}`;
  const prefix = version.toLowerCase();
  return answer.records.map((r) => r.text).filter((text) => {
    const lower = text.trim().toLowerCase();
    return lower === prefix || lower.startsWith(`${prefix} `) || lower.startsWith(`${prefix};`);
  });
}

function one(found: string[] | string, what: string): Verdict | string {
  if (typeof found === "string") return ["unknown", found];
  if (found.length === 0) return ["missing", `no ${what} record`];
  if (found.length > 1) return ["wrong", `${found.length} ${what} records; there must be one`];
  return found[0]!;
}

/**
 * RFC 7208 §4.5: exactly one record, or receivers give permerror. It must let this server send
 * (`mx`, `a:` its name, or its addresses) and end in `-all` or `~all`; `+all` lets anyone.
 */
function spf(found: string[] | string, hostname: string, addresses: readonly string[]): Verdict {
  const record = one(found, "SPF");
  if (typeof record !== "string") return record;
  const terms = record.toLowerCase().split(/\s+/).slice(1);
  const all = terms.find((t) => /^[-~?+]?all$/.test(t));
  if (all === undefined || all === "+all" || all === "all" || all === "?all") {
    return ["wrong", `"${record}" does not end in -all or ~all`];
  }
  const host = canonical(hostname);
  const allows = terms.some((t) => {
    const term = t.replace(/^\+/, "");
    return term === "mx" || term === `a:${host}` ||
      addresses.some((ip) => term === `ip4:${ip}` || term === `ip6:${ip}`);
  });
  if (allows) return ["ok", ""];
  if (terms.some((t) => /^\+?(include|redirect)[:=]/.test(t))) {
    return ["warning", `"${record}" may allow this server through include or redirect`];
  }
  return ["wrong", `"${record}" does not allow ${hostname} to send`];
}

/** The key in `p=` must be the one Fumi signs with (RFC 6376 §3.6.1). */
function dkim(found: string[] | string, expectedValue: string): Verdict {
  const record = one(found, "DKIM key");
  if (typeof record !== "string") return record;
  const want = tag(expectedValue.replace(/" "/g, "").replace(/"/g, ""), "p");
  const got = tag(record, "p");
  if (got === null || got === "") return ["wrong", "the record has no key (p=)"];
  return got === want ? ["ok", ""] : ["wrong", "the published key is not Fumi's key"];
}

/** RFC 7489 §6.3: one record, with a policy; p=none only monitors. */
function dmarc(found: string[] | string): Verdict {
  const record = one(found, "DMARC");
  if (typeof record !== "string") return record;
  const policy = tag(record, "p")?.toLowerCase();
  if (policy !== "none" && policy !== "quarantine" && policy !== "reject") {
    return ["wrong", `"${record}" has no valid p= policy`];
  }
  if (policy === "none") return ["warning", "p=none only monitors; forged mail is delivered"];
  return ["ok", ""];
}

/** RFC 8461 §3.1: one record whose id is our policy's; another id keeps senders on an old one. */
function mtaSts(found: string[] | string, expectedValue: string): Verdict {
  const record = one(found, "MTA-STS");
  if (typeof record !== "string") return record;
  const want = tag(expectedValue.replace(/"/g, ""), "id");
  const got = tag(record, "id");
  return got === want
    ? ["ok", ""]
    : ["wrong", `id=${got ?? "(none)"}, but the policy served now has id=${want}`];
}

/** mta-sts.<domain> must reach this server, which serves the policy (RFC 8461 §3.3). */
async function policyHost(
  resolver: Resolver,
  name: string,
  addresses: readonly string[],
): Promise<Verdict> {
  const found = await lookupAddresses(resolver, name);
  if (found.temporaryError !== undefined && found.addresses.length === 0) {
    return ["unknown", found.temporaryError];
  }
  if (found.addresses.length === 0) return ["missing", `${name} has no address`];
  if (found.addresses.some((a) => addresses.includes(a))) return ["ok", ""];
  return ["wrong", `${name} is ${found.addresses.join(", ")}, not this server`];
}

/** RFC 8460 §3: one record with a rua. */
function tlsRpt(found: string[] | string): Verdict {
  const record = one(found, "TLS-RPT");
  if (typeof record !== "string") return record;
  return tag(record, "rua") ? ["ok", ""] : ["wrong", `"${record}" has no rua=`];
}

/** A tag's value in a `tag=value; …` list (DKIM, DMARC, TLS-RPT), or null. */
function tag(record: string, name: string): string | null {
  for (const part of record.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim().toLowerCase() === name) {
      return part.slice(eq + 1).replace(/\s+/g, "");
    }
  }
  return null;
}

function canonical(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}
