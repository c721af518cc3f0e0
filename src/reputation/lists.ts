/**
 * DNS lists (RFC 5782): what a list is, which answers mean what, and the names to ask.
 *
 * A list is a zone; a client address or a domain is listed when `<query>.<zone>` has an A
 * record in 127.0.0.0/8 (RFC 5782 §2.1, §3.1). Each answer address is a return code the list
 * documents; a {@link DnsList} maps its codes to a meaning, a weight and an action. Answers
 * in 127.255.255.0/24 are refusals (RFC 5782 §2.3 reserves 127.0.0.1 as the test entry;
 * lists such as Spamhaus answer 127.255.255.252/254/255 when they refuse to serve the
 * resolver asking), never listings.
 *
 * @module
 */

import { CidrList, formatIp, tryParseIp } from "../net/cidr.ts";

/** What a hit on a list does. */
export type ListAction =
  /** Refuse at once: at connect for client lists, at MAIL or DATA for domain lists. */
  | "reject"
  /** Name the hit in the X-Spam-Status field, without adding to the score. */
  | "tag"
  /** Add the weight to the message's score. */
  | "score"
  /** An allow-list (DNSWL): the client is trusted, no penalties and no greylisting. */
  | "accept";

/** One documented return code, or a range of them. */
export interface ReturnCode {
  /** First and last answer address, as 32-bit numbers. */
  readonly first: number;
  readonly last: number;
  /** What the list says the code means (`SBL`, `XBL`, `phish domain`). */
  readonly meaning: string;
  /** Overrides the list's weight for this code. */
  readonly weight?: number;
  /** Overrides the list's action for this code. */
  readonly action?: ListAction;
  /** The list refuses to answer us (query limit, public resolver): not a listing. */
  readonly refused?: boolean;
}

/** A DNS list as configured. */
export interface DnsList {
  /** Names the list in logs, reply texts and the X-Spam-Status field. */
  readonly name: string;
  /** The zone queried (a DQS key prefix included, if any). */
  readonly zone: string;
  /** Client addresses (DNSBL, DNSWL) or domain names (URIBL, DBL). */
  readonly kind: "ip" | "domain";
  /** Documented return codes; empty: every 127.0.0.0/8 answer is a listing. */
  readonly codes: readonly ReturnCode[];
  readonly weight: number;
  readonly action: ListAction;
  /** For domain lists: ask for the registrable domain (true) or the host name as found. */
  readonly registrable?: boolean;
}

/** A listing: the list, the code it answered and what that comes to. */
export interface ListHit {
  readonly list: string;
  /** The name queried without the zone (reversed address or domain). */
  readonly query: string;
  /** The address or domain that is listed. */
  readonly subject: string;
  readonly code: string;
  readonly meaning: string;
  readonly weight: number;
  readonly action: ListAction;
}

/** What one list's answer means. */
export type Interpretation =
  | { readonly kind: "listed"; readonly hits: readonly Omit<ListHit, "query" | "subject">[] }
  | { readonly kind: "not-listed" }
  /** The list refuses to serve us: disable it. */
  | { readonly kind: "refused"; readonly code: string }
  /** Answers outside 127.0.0.0/8: a broken list or a resolver rewriting NXDOMAIN. */
  | { readonly kind: "invalid"; readonly codes: readonly string[] };

/** 127.255.255.0/24: refusals, never listings. */
const REFUSAL_NET = 0x7fffff00;

/** An IPv4 address as a 32-bit number, or null. */
export function ipv4Number(text: string): number | null {
  const ip = tryParseIp(text);
  return ip === null || ip.version !== 4 ? null : Number(ip.value);
}

/**
 * What the answer addresses of a lookup mean for `list`. Unknown codes of a list that
 * documents its codes are ignored (a list may add codes that this configuration does not use).
 */
export function interpret(list: DnsList, answers: readonly string[]): Interpretation {
  const numbers = answers.map((a) => ({ text: a, value: ipv4Number(a) }));
  // RFC 5782 §2.1: listings are in 127.0.0.0/8; anything else is not a DNSBL answer.
  const invalid = numbers.filter((n) => n.value === null || n.value >>> 24 !== 127);
  if (invalid.length > 0) return { kind: "invalid", codes: invalid.map((n) => n.text) };
  const hits: Omit<ListHit, "query" | "subject">[] = [];
  for (const { text, value } of numbers) {
    const code = list.codes.find((c) => value! >= c.first && value! <= c.last);
    if (code?.refused || (value! & 0xffffff00) === REFUSAL_NET) {
      return { kind: "refused", code: text };
    }
    if (code === undefined && list.codes.length > 0) continue;
    hits.push({
      list: list.name,
      code: text,
      meaning: code?.meaning ?? "listed",
      weight: code?.weight ?? list.weight,
      action: code?.action ?? list.action,
    });
  }
  return hits.length === 0 ? { kind: "not-listed" } : { kind: "listed", hits };
}

/**
 * The name to query for a client address, without the zone: IPv4 octets reversed
 * (RFC 5782 §2.1), IPv6 as 32 reversed nibbles (RFC 5782 §2.4). Null for a non-address.
 *
 * @example
 * ```ts
 * addressQuery("192.0.2.99"); // "99.2.0.192"
 * addressQuery("2001:db8::1"); // "1.0.0.0. … .8.b.d.0.1.0.0.2" (32 nibbles)
 * ```
 */
export function addressQuery(ip: string): string | null {
  const parsed = tryParseIp(ip);
  if (parsed === null) return null;
  if (parsed.version === 4) return formatIp(parsed).split(".").reverse().join(".");
  // RFC 5782 §2.4: every nibble of the 128-bit address, least significant first.
  const hex = parsed.value.toString(16).padStart(32, "0");
  return [...hex].reverse().join(".");
}

/** Parses `127.0.0.2` or `127.0.0.4-127.0.0.7` into a range; null when it is neither. */
export function parseCodeRange(text: string): { first: number; last: number } | null {
  const [a, b, extra] = text.split("-").map((s) => s.trim());
  if (a === undefined || extra !== undefined) return null;
  const first = ipv4Number(a);
  const last = b === undefined ? first : ipv4Number(b);
  if (first === null || last === null || last < first) return null;
  return { first, last };
}

/**
 * Networks no DNS list knows anything about (RFC 6890: private-use, shared address space,
 * link-local, "this network", unique-local, multicast): asking would only leak our clients'
 * internal addresses to the list. Loopback stays askable: RFC 5782 §5 test entries are in
 * 127.0.0.0/8, and so are the tests' clients.
 */
const UNLISTABLE = new CidrList([
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "224.0.0.0/3",
  "::/128",
  "fc00::/7",
  "fe80::/10",
  "ff00::/8",
]);

/** True when a client address is worth asking a DNS list about (see {@link UNLISTABLE}). */
export function listableAddress(ip: string): boolean {
  const parsed = tryParseIp(ip);
  return parsed !== null && !UNLISTABLE.contains(parsed);
}
