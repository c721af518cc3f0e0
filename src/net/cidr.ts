/**
 * IP addresses and CIDR networks: strict parsing, canonical text, containment, and the key
 * under which flow control and brute-force defence count a peer.
 *
 * Invariants:
 * - Parsing is strict. IPv4 is the dotted quad of RFC 791 with decimal octets and no leading
 *   zeros ("010.1.1.1" could mean octal to other software, so it is refused, not guessed);
 *   IPv6 is the text form of RFC 4291 §2.2, with `::` at most once and an optional dotted quad
 *   in the last 32 bits. Zone ids (`fe80::1%eth0`, RFC 6874) and brackets are refused: a
 *   peer's address never carries them, and an allow or deny list must not depend on them.
 * - An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, RFC 4291 §2.5.5.2), which dual-stack
 *   sockets report for IPv4 peers, is the IPv4 address: same key, same lists, same bans. A
 *   CIDR inside `::ffff:0:0/96` becomes the IPv4 network it covers.
 * - IPv4 and IPv6 are separate spaces otherwise: an IPv6 network never contains an IPv4
 *   address, not even `::/0`.
 * - Text out is canonical: IPv6 as RFC 5952 §4 recommends (lower case, no leading zeros, the
 *   longest run of two or more zero groups as `::`, the first one on a tie), so equal addresses
 *   give equal strings and can key maps and database rows.
 * - A CIDR whose address has bits set beyond its prefix (`192.0.2.7/24`) is refused with the
 *   network it probably meant, never silently truncated.
 * - Nothing here touches `Deno.*`, `node:*` or timers.
 *
 * @module
 */

import { InvalidInputError } from "../util/errors.ts";

/** 4 or 6. */
export type IpVersion = 4 | 6;

/** An IP address: its version and its bits as an unsigned integer. */
export interface IpAddress {
  readonly version: IpVersion;
  readonly value: bigint;
}

/** A CIDR network: the address with all bits after `prefix` zero, and the prefix length. */
export interface Cidr {
  readonly version: IpVersion;
  readonly network: bigint;
  readonly prefix: number;
}

/**
 * IPv6 addresses are counted, limited and banned per /64: one customer's network usually gets a
 * /64 or more (RFC 6177), and a single host can hold any number of addresses inside it.
 */
export const IPV6_KEY_PREFIX = 64;

const BITS: Record<IpVersion, number> = { 4: 32, 6: 128 };
const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96, RFC 4291 §2.5.5.2
const MAPPED_MASK = ~0xffffffffn & ((1n << 128n) - 1n);

type Parsed = { ok: true; version: IpVersion; value: bigint } | { ok: false; why: string };

function parseIpv4(text: string): Parsed {
  const parts = text.split(".");
  if (parts.length !== 4) return { ok: false, why: "an IPv4 address has four parts" };
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) {
      return { ok: false, why: `"${part}" is not a decimal octet without leading zeros` };
    }
    const octet = Number(part);
    if (octet > 255) return { ok: false, why: `${octet} is more than 255` };
    value = (value << 8n) | BigInt(octet);
  }
  return { ok: true, version: 4, value };
}

function parseGroups(text: string, allowQuad: boolean): bigint[] | string {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: bigint[] = [];
  for (const [i, part] of parts.entries()) {
    if (allowQuad && i === parts.length - 1 && part.includes(".")) {
      const v4 = parseIpv4(part);
      if (!v4.ok) return v4.why;
      groups.push(v4.value >> 16n, v4.value & 0xffffn);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
      groups.push(BigInt(`0x${part}`));
    } else {
      return part === "" ? "empty group" : `"${part}" is not a group of 1 to 4 hex digits`;
    }
  }
  return groups;
}

// RFC 4291 §2.2: x:x:x:x:x:x:x:x, "::" for one or more zero groups, d.d.d.d in the last 32 bits.
function parseIpv6(text: string): Parsed {
  if (text.includes("%")) return { ok: false, why: "zone ids are not accepted" };
  const halves = text.split("::");
  if (halves.length > 2) return { ok: false, why: `"::" appears more than once` };
  const [head = "", tail] = halves;
  const first = parseGroups(head, tail === undefined);
  if (typeof first === "string") return { ok: false, why: first };
  const last = tail === undefined ? [] : parseGroups(tail, true);
  if (typeof last === "string") return { ok: false, why: last };
  const count = first.length + last.length;
  if (tail === undefined ? count !== 8 : count > 7) {
    return { ok: false, why: "an IPv6 address has eight groups" };
  }
  const groups = [...first, ...new Array<bigint>(8 - count).fill(0n), ...last];
  return { ok: true, version: 6, value: groups.reduce((acc, g) => (acc << 16n) | g, 0n) };
}

function parseRaw(text: string): Parsed {
  if (text.length > 45) return { ok: false, why: "too long" }; // longest: 8 groups + a quad
  if (text.includes(":")) return parseIpv6(text);
  if (/^[0-9.]+$/.test(text)) return parseIpv4(text);
  return { ok: false, why: "not an IPv4 or IPv6 address" };
}

function isMapped(value: bigint): boolean {
  return (value & MAPPED_MASK) === MAPPED_PREFIX;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}

/** The address in `text`, or null. IPv4-mapped IPv6 addresses come back as IPv4. */
export function tryParseIp(text: string): IpAddress | null {
  const parsed = parseRaw(text);
  if (!parsed.ok) return null;
  if (parsed.version === 6 && isMapped(parsed.value)) {
    return { version: 4, value: parsed.value & 0xffffffffn };
  }
  return { version: parsed.version, value: parsed.value };
}

/**
 * Parses an IPv4 or IPv6 address.
 *
 * @example
 * ```ts
 * formatIp(parseIp("::FFFF:192.0.2.1")); // "192.0.2.1"
 * formatIp(parseIp("2001:DB8:0:0:0:0:0:1")); // "2001:db8::1"
 * ```
 * @throws {InvalidInputError} `Cannot parse IP address "x": …`
 */
export function parseIp(text: string): IpAddress {
  const parsed = parseRaw(text);
  if (!parsed.ok) {
    throw new InvalidInputError(`Cannot parse IP address ${quote(text)}: ${parsed.why}`);
  }
  return tryParseIp(text)!;
}

/** The canonical text of an address (RFC 5952 §4 for IPv6). */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((ip.value >> shift) & 0xffn)).join(".");
  }
  const groups = Array.from({ length: 8 }, (_, i) => (ip.value >> BigInt(112 - 16 * i)) & 0xffffn);
  // RFC 5952 §4.2: compress the longest run of at least two zero groups, the first on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0n) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0n) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16)); // §4.3: lower case; §4.1: no leading zeros
  if (bestStart === -1) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** The canonical text of the address in `text`, or null when it is not one. */
export function normalizeIp(text: string): string | null {
  const ip = tryParseIp(text);
  return ip === null ? null : formatIp(ip);
}

function hostMask(version: IpVersion, prefix: number): bigint {
  return (1n << BigInt(BITS[version] - prefix)) - 1n;
}

type ParsedCidr = { ok: true; cidr: Cidr } | { ok: false; why: string };

function parseCidrRaw(text: string): ParsedCidr {
  const slash = text.lastIndexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const address = parseRaw(addressText);
  if (!address.ok) return address;
  let version = address.version;
  let value = address.value;
  let prefix = BITS[version];
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > BITS[version]) {
      return { ok: false, why: `the prefix length must be 0 to ${BITS[version]}` };
    }
    prefix = Number(prefixText);
  }
  if (version === 6 && prefix >= 96 && isMapped(value)) {
    [version, value, prefix] = [4, value & 0xffffffffn, prefix - 96];
  }
  const mask = hostMask(version, prefix);
  if ((value & mask) !== 0n) {
    const meant = formatCidr({ version, network: value & ~mask, prefix });
    return { ok: false, why: `bits are set after the prefix; did you mean ${meant}?` };
  }
  return { ok: true, cidr: { version, network: value, prefix } };
}

/** The network in `text` (`192.0.2.0/24`, `2001:db8::/32`, or a bare address), or null. */
export function tryParseCidr(text: string): Cidr | null {
  const parsed = parseCidrRaw(text);
  return parsed.ok ? parsed.cidr : null;
}

/**
 * Parses a CIDR network. A bare address is the network of that one address (/32 or /128).
 *
 * @example
 * ```ts
 * formatCidr(parseCidr("2001:DB8::/32")); // "2001:db8::/32"
 * formatCidr(parseCidr("::ffff:192.0.2.0/120")); // "192.0.2.0/24"
 * parseCidr("192.0.2.7/24"); // throws: … did you mean 192.0.2.0/24?
 * ```
 * @throws {InvalidInputError} `Cannot parse CIDR "x": …`
 */
export function parseCidr(text: string): Cidr {
  const parsed = parseCidrRaw(text);
  if (!parsed.ok) throw new InvalidInputError(`Cannot parse CIDR ${quote(text)}: ${parsed.why}`);
  return parsed.cidr;
}

/** `network/prefix` in canonical text, the prefix always written. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ version: cidr.version, value: cidr.network })}/${cidr.prefix}`;
}

/** The network of exactly this address. */
export function hostCidr(ip: IpAddress): Cidr {
  return { version: ip.version, network: ip.value, prefix: BITS[ip.version] };
}

/** True when `ip` lies in `cidr` (never across IPv4 and IPv6). */
export function contains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.version !== ip.version) return false;
  return (ip.value & ~hostMask(cidr.version, cidr.prefix)) === cidr.network;
}

/** True when `inner` lies wholly in `outer`. */
export function covers(outer: Cidr, inner: Cidr): boolean {
  return outer.version === inner.version && outer.prefix <= inner.prefix &&
    contains(outer, { version: inner.version, value: inner.network });
}

/**
 * The unit a peer is counted and banned as: an IPv4 address itself, an IPv6 address's /64
 * ({@link IPV6_KEY_PREFIX}).
 */
export function keyCidr(ip: IpAddress): Cidr {
  if (ip.version === 4) return hostCidr(ip);
  const prefix = IPV6_KEY_PREFIX;
  return { version: 6, network: ip.value & ~hostMask(6, prefix), prefix };
}

/**
 * {@link keyCidr} as text: `"192.0.2.7"` for IPv4, `"2001:db8:1:2::/64"` for IPv6.
 *
 * @example
 * ```ts
 * ipKey(parseIp("2001:db8:1:2:aaaa::1")) === ipKey(parseIp("2001:db8:1:2::ffff")); // true
 * ```
 */
export function ipKey(ip: IpAddress): string {
  return ip.version === 4 ? formatIp(ip) : formatCidr(keyCidr(ip));
}

/** A fixed list of networks (an allow or deny list). */
export class CidrList {
  readonly #cidrs: readonly Cidr[];

  /** @throws {InvalidInputError} when an entry is not a CIDR. */
  constructor(entries: readonly (string | Cidr)[] = []) {
    this.#cidrs = entries.map((entry) => typeof entry === "string" ? parseCidr(entry) : entry);
  }

  /** How many networks the list holds. */
  get size(): number {
    return this.#cidrs.length;
  }

  /** The networks, in the order given. */
  get entries(): readonly Cidr[] {
    return this.#cidrs;
  }

  /** True when some network of the list contains `ip`. */
  contains(ip: IpAddress): boolean {
    return this.#cidrs.some((cidr) => contains(cidr, ip));
  }
}
