/**
 * The Author Domains of a message: the domains DMARC is evaluated for (RFC 7489 §3.1), read
 * from the From header field so that no reading of it a mail reader might choose escapes
 * evaluation ("Composition Kills", USENIX Security 2020: ambiguous From fields that one
 * program reads as one domain and another as a different one).
 *
 * Rules:
 * - No From field, or more than one: a permanent error (RFC 5322 §3.6 allows exactly one;
 *   RFC 7489 §6.6.1: such messages "are typically rejected").
 * - A From field without a mailbox (an empty group, a bare display name), or with a mailbox
 *   whose domain is not a host name: a permanent error (§6.6.1: no domain to evaluate).
 * - Every mailbox's domain is an Author Domain, and so is the domain of anything that looks
 *   like an address elsewhere in the field: in a display name (also after RFC 2047 decoding),
 *   a comment, or text a lenient parser would take for a second mailbox. A mail reader may
 *   show any of them as the sender, so each must pass DMARC. Several domains are evaluated
 *   one by one and the strictest failing policy applies (§6.6.1).
 * - More than {@link MAX_AUTHOR_DOMAINS} domains: a permanent error (bounded DNS work).
 *
 * Pure: header bytes in, domains out.
 *
 * @module
 */

import {
  decodedName,
  decodeEncodedWords,
  getFields,
  type HeaderBlock,
  isGroupEnd,
  isGroupStart,
  parseAddressList,
} from "../mime/mod.ts";
import { normalizeDomain } from "../util/address.ts";

/** The Author Domains, or why there are none to evaluate. */
export type AuthorDomains =
  /** A-labels, lower case, in order of appearance; the first is the mailbox's. */
  | { readonly kind: "ok"; readonly domains: readonly string[] }
  | { readonly kind: "permerror"; readonly reason: string };

/** More domains than this in one From field is a permanent error. */
export const MAX_AUTHOR_DOMAINS = 5;

/** What looks like `local@domain` anywhere in text: what a lenient reader could show. */
const ADDRESS_LIKE = /[^\s<>()\[\],;:"@\\]+@([^\s<>()\[\],;:"@\\]+)/g;

/**
 * The Author Domains of a parsed header block.
 *
 * @example
 * ```ts
 * authorDomains(parseHeader(enc.encode('From: "ceo@bank.example" <x@evil.example>\r\n\r\n')));
 * // { kind: "ok", domains: ["evil.example", "bank.example"] }
 * ```
 */
export function authorDomains(block: HeaderBlock): AuthorDomains {
  const fields = getFields(block, "From");
  if (fields.length === 0) return { kind: "permerror", reason: "no From field" };
  if (fields.length > 1) {
    // RFC 5322 §3.6: exactly one From; RFC 7489 §6.6.1.
    return { kind: "permerror", reason: `${fields.length} From fields` };
  }
  const value = fields[0]!;
  const items = parseAddressList(value).filter((i) => !isGroupStart(i) && !isGroupEnd(i));
  const domains: string[] = [];
  const add = (raw: string): string | null => {
    const domain = hostName(raw);
    if (domain === null) return `From domain "${clip(raw)}" is not a host name`;
    if (!domains.includes(domain)) domains.push(domain);
    return null;
  };
  for (const item of items) {
    if (item.host === null || item.host === "") {
      return { kind: "permerror", reason: "From mailbox without a domain" };
    }
    const problem = add(item.host);
    if (problem !== null) return { kind: "permerror", reason: problem };
  }
  if (domains.length === 0) return { kind: "permerror", reason: "From field without a mailbox" };
  // Display names, comments and stray text: as written and with encoded words decoded.
  const texts = [value, decodeEncodedWords(value), ...items.map((i) => decodedName(i) ?? "")];
  for (const text of texts) {
    for (const match of text.matchAll(ADDRESS_LIKE)) {
      const domain = hostName(match[1]!);
      // Text that is not a host name after the "@" names no domain a reader would show.
      if (domain !== null && !domains.includes(domain)) domains.push(domain);
    }
  }
  if (domains.length > MAX_AUTHOR_DOMAINS) {
    return { kind: "permerror", reason: `${domains.length} domains in the From field` };
  }
  return { kind: "ok", domains };
}

/** A domain as DNS knows it (A-labels, lower case, no trailing dot), or null. */
function hostName(raw: string): string | null {
  const text = raw.trim().replace(/\.$/, "");
  try {
    const { ascii } = normalizeDomain(text);
    return ascii.includes(".") ? ascii : null;
  } catch {
    return null; // a literal, an IP address, or not a domain at all
  }
}

function clip(text: string): string {
  // deno-lint-ignore no-control-regex -- control characters are what is replaced
  return text.replace(/[\x00-\x1f\x7f"]/g, "?").slice(0, 64);
}
