/**
 * The resolver abstraction every caller uses: one `lookup(name, type)` whose result says
 * plainly which of four things happened, because mail needs to tell them apart
 * (RFC 7208 §5 "none" versus "temperror", RFC 5321 §5.1 bounce versus retry):
 *
 * - `ok`: records of the type exist;
 * - `nodata`: the name exists but has no records of the type (NOERROR, empty answer);
 * - `nxdomain`: the name does not exist (RCODE 3);
 * - `temperror`: no usable answer (timeouts, SERVFAIL, REFUSED, broken replies) — try later.
 *
 * A lookup never rejects for a DNS outcome; it rejects only on a programming error.
 *
 * @module
 */

import {
  canonicalName,
  type CnameRecord,
  type DnsRecord,
  type RecordOf,
  type RecordType,
  type SoaRecord,
} from "./message.ts";

/** What happened to a lookup. */
export type LookupStatus = "ok" | "nodata" | "nxdomain" | "temperror";

/** A lookup's result. */
export interface Lookup<T extends RecordType = RecordType> {
  /** The name asked for, in canonical form (lower case, no trailing dot). */
  readonly name: string;
  readonly type: T;
  readonly status: LookupStatus;
  /** The response code's name (`NOERROR`, `NXDOMAIN`, `SERVFAIL` …); null when nothing answered. */
  readonly rcode: string | null;
  /** The records of the type at the end of the CNAME chain, TTLs as they are now. */
  readonly records: readonly RecordOf<T>[];
  /** The CNAME chain from the name, in order, as the answer gave it (not chased further). */
  readonly cnames: readonly CnameRecord[];
  /** The AD bit: the server validated the answer with DNSSEC (RFC 4035 §3.2.3). */
  readonly authenticated: boolean;
  /** For negative answers, the zone's SOA from the authority section (RFC 2308 §3). */
  readonly soa: SoaRecord | null;
  /** For `temperror`, why. */
  readonly error?: string;
}

/** How one lookup is asked. */
export interface LookupOptions {
  /** Ask for DNSSEC (the DO bit); needed for DANE, where only `authenticated` answers count. */
  readonly dnssec?: boolean;
}

/** Anything that answers lookups: the stub resolver, its cache, a fake in tests. */
export interface Resolver {
  lookup<T extends RecordType>(name: string, type: T, options?: LookupOptions): Promise<Lookup<T>>;
}

/** The most CNAMEs followed inside one answer. */
const MAX_CHAIN = 16;

/**
 * Reads the records a query asked for out of an answer section: follows the CNAME chain from
 * the name (RFC 1034 §3.6.2, §4.3.2) and takes the records of the type at its end.
 */
export function selectAnswer<T extends RecordType>(
  name: string,
  type: T,
  answers: readonly DnsRecord[],
): { records: RecordOf<T>[]; cnames: CnameRecord[] } {
  let owner = canonicalName(name);
  const cnames: CnameRecord[] = [];
  if (type !== "CNAME") {
    const seen = new Set([owner]);
    for (let hop = 0; hop < MAX_CHAIN; hop++) {
      const alias = answers.find((r): r is CnameRecord => r.type === "CNAME" && r.name === owner);
      if (alias === undefined || seen.has(alias.target)) break;
      cnames.push(alias);
      owner = alias.target;
      seen.add(owner);
    }
  }
  const records = answers.filter((r): r is RecordOf<T> => r.type === type && r.name === owner);
  return { records, cnames };
}

/** A `temperror` result. */
export function temporaryFailure<T extends RecordType>(
  name: string,
  type: T,
  error: string,
  rcode: string | null = null,
): Lookup<T> {
  return {
    name: canonicalName(name),
    type,
    status: "temperror",
    rcode,
    records: [],
    cnames: [],
    authenticated: false,
    soa: null,
    error,
  };
}

/** The name for a reverse (PTR) lookup of an IP address (RFC 1035 §3.5, RFC 3596 §2.5). */
export function reverseName(ip: string): string | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) {
    const octets = v4.slice(1).map(Number);
    if (octets.some((n) => n > 255)) return null;
    return `${octets.reverse().join(".")}.in-addr.arpa`;
  }
  const groups = expandIpv6(ip);
  if (groups === null) return null;
  const nibbles = groups.map((g) => g.toString(16).padStart(4, "0")).join("");
  return `${[...nibbles].reverse().join(".")}.ip6.arpa`;
}

function expandIpv6(ip: string): number[] | null {
  if (!/^[0-9a-f:]+$/i.test(ip) || ip.split("::").length > 2) return null;
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const all = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...right];
  if (all.some((g) => g.length === 0 || g.length > 4)) return null;
  return all.map((g) => parseInt(g, 16));
}
