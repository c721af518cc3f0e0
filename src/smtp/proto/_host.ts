/**
 * The HELO/EHLO argument: a domain or an address literal (RFC 5321 §4.1.1.1, §4.1.2, §4.1.3),
 * checked and normalised. Internal to smtp/proto; command.ts wraps it in its reply.
 *
 * @module
 */

import { MAX_DOMAIN_OCTETS, MAX_LABEL_OCTETS } from "../../util/address.ts";

// RFC 5321 §4.1.2: sub-domain = Let-dig [Ldh-str]; Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
// RFC 5321 §4.1.3: IPv4-address-literal = Snum 3("." Snum); Snum = 1*3DIGIT (0 to 255)
const IPV4 = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/;
// RFC 5321 §4.1.3: IPv6-addr in hex groups, "::", and an optional IPv4 tail
const IPV6_CHARS = /^[0-9a-f:.]+$/i;

/** Normalises an IPv4 literal's text (`192.0.2.001` → `192.0.2.1`), or null. */
export function normalizeIpv4(text: string): string | null {
  const match = IPV4.exec(text);
  if (match === null) return null;
  const parts = match.slice(1).map(Number);
  return parts.every((n) => n <= 255) ? parts.join(".") : null;
}

/**
 * Normalises an IPv6 address's text to RFC 5952 form (lower case, longest zero run as "::"),
 * or null. The WHATWG URL host parser does the parsing; the character check before it keeps
 * out zone identifiers and anything else the host parser would reinterpret.
 */
export function normalizeIpv6(text: string): string | null {
  if (!IPV6_CHARS.test(text) || !text.includes(":")) return null;
  const host = URL.parse(`http://[${text}]/`)?.hostname;
  return host === undefined ? null : host.slice(1, -1);
}

/**
 * `[192.0.2.1]` or `[IPv6:2001:db8::1]` (RFC 5321 §4.1.3), normalised, or null. General
 * address literals (`[tag:content]` with another standardised tag) are not accepted: no tag
 * but IPv6 has ever been registered.
 */
export function normalizeAddressLiteral(text: string): string | null {
  if (!text.startsWith("[") || !text.endsWith("]")) return null;
  const inner = text.slice(1, -1);
  // RFC 5321 §4.1.3: IPv6-address-literal = "IPv6:" IPv6-addr; ABNF strings are
  // case-insensitive (RFC 5234 §2.3).
  if (inner.slice(0, 5).toLowerCase() === "ipv6:") {
    const v6 = normalizeIpv6(inner.slice(5));
    return v6 === null ? null : `[IPv6:${v6}]`;
  }
  const v4 = normalizeIpv4(inner);
  return v4 === null ? null : `[${v4}]`;
}

/** One label as lower-case ASCII (A-label for a U-label), or null when it is not one. */
function asciiLabel(label: string): string | null {
  if (/^[\x21-\x7e]*$/.test(label)) {
    const lower = label.toLowerCase();
    return LDH_LABEL.test(lower) ? lower : null;
  }
  // RFC 6531 §3.3: sub-domain =/ U-label. IDNA ToASCII of the one label (UTS #46 through the
  // WHATWG host parser); the result must be a single LDH label again, which refuses mappings
  // to a dot, to an IP address, or to forbidden characters.
  if (/[\p{Cc}\p{White_Space}]/u.test(label) || !label.isWellFormed()) return null;
  const ascii = URL.parse(`http://${label}/`)?.hostname;
  return ascii !== undefined && LDH_LABEL.test(ascii) ? ascii : null;
}

/**
 * A domain as HELO/EHLO gives it, lower case with A-labels, or null. One trailing dot is
 * dropped (a fully qualified name as some clients write it). A single label ("localhost",
 * "mybox") is accepted: many clients send their bare host name, and RFC 5321 §4.1.4 says
 * a server must not refuse a message because the HELO name does not check out.
 */
export function normalizeHeloDomain(text: string): string | null {
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  if (name === "" || name.length > 4 * MAX_DOMAIN_OCTETS) return null;
  const labels: string[] = [];
  for (const label of name.split(".")) {
    const ascii = asciiLabel(label);
    // RFC 1035 §2.3.4: labels are at most 63 octets
    if (ascii === null || ascii.length > MAX_LABEL_OCTETS) return null;
    labels.push(ascii);
  }
  const domain = labels.join(".");
  // RFC 5321 §4.5.3.1.2: a domain is at most 255 octets; util/address.ts uses 253, the
  // longest name DNS can carry
  return domain.length > MAX_DOMAIN_OCTETS ? null : domain;
}
