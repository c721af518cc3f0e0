/**
 * The Author Domains of a message: the domains DMARC is evaluated for (RFC 7489 §3.1), read
 * from the From header field so that no reading of it a mail reader might choose escapes
 * evaluation ("Composition Kills", USENIX Security 2020: ambiguous From fields that one
 * program reads as one domain and another as a different one).
 *
 * Rules:
 * - No From field, or more than one: a permanent error (RFC 5322 §3.6 allows exactly one;
 *   RFC 7489 §6.6.1: such messages "are typically rejected"). So is a header block longer
 *   than the parser keeps ({@link MAX_HEADER_FIELDS}): a second From field could hide there.
 * - A From field without a mailbox (an empty group, a bare display name), or with a mailbox
 *   whose domain is not a host name: a permanent error (§6.6.1: no domain to evaluate).
 * - Every mailbox's domain is an Author Domain (RFC 7489 §3.1: the addr-spec's domain); its
 *   policy applies as published.
 * - The domain of anything that looks like an address elsewhere in the field — a display
 *   name (also after RFC 2047 decoding), a comment, text a lenient parser would take for a
 *   second mailbox — is a displayed domain: a reader may show it as the sender, so it is
 *   evaluated too, but it is no Author Domain, so its failure files the message to Junk and
 *   never refuses it (help desks and web forms put the author's address in the name). The
 *   text is read as a reader would show it: NFKC (fullwidth "＠"), invisible characters
 *   removed, quoted-pairs unescaped, and the longest host name after the "@" taken.
 * - More than {@link MAX_AUTHOR_DOMAINS} domains of either kind together: a permanent error
 *   (bounded DNS work), found as soon as the next domain is added (bounded CPU work).
 *
 * Pure: header bytes in, domains out; linear in the size of the field.
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
  MAX_ADDRESSES,
  MAX_HEADER_FIELDS,
  parseAddressList,
} from "../mime/mod.ts";
import { normalizeDomain } from "../util/address.ts";

/** The Author Domains, or why there are none to evaluate. */
export type AuthorDomains =
  | {
    readonly kind: "ok";
    /** The mailboxes' domains: A-labels, lower case, in order of appearance. */
    readonly domains: readonly string[];
    /** Domains seen elsewhere in the field (display names, comments), not among `domains`. */
    readonly displayed: readonly string[];
  }
  | { readonly kind: "permerror"; readonly reason: string };

/** More domains than this in one From field is a permanent error. */
export const MAX_AUTHOR_DOMAINS = 5;

/** Removed before the scan: what a reader does not show (RFC 5198 §2 control characters too). */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}]/gu;
/** A host name as a reader would take it: letters, digits, hyphens, dots. */
const HOST_PREFIX = /^[\p{L}\p{N}\p{M}.-]+/u;
const ASCII_HOST_PREFIX = /^[A-Za-z0-9.-]+/;

/**
 * The Author Domains of a parsed header block.
 *
 * @example
 * ```ts
 * authorDomains(parseHeader(enc.encode('From: "ceo@bank.example" <x@evil.example>\r\n\r\n')));
 * // { kind: "ok", domains: ["evil.example"], displayed: ["bank.example"] }
 * ```
 */
export function authorDomains(block: HeaderBlock): AuthorDomains {
  if (block.fields.length >= MAX_HEADER_FIELDS) {
    // The parser keeps MAX_HEADER_FIELDS fields: a From field after them would go uncounted.
    return { kind: "permerror", reason: "too many header fields to find the From field" };
  }
  const fields = getFields(block, "From");
  if (fields.length === 0) return { kind: "permerror", reason: "no From field" };
  if (fields.length > 1) {
    // RFC 5322 §3.6: exactly one From; RFC 7489 §6.6.1.
    return { kind: "permerror", reason: `${fields.length} From fields` };
  }
  const value = fields[0]!;
  const parsed = parseAddressList(value);
  if (parsed.length >= MAX_ADDRESSES) {
    // The parser stops at MAX_ADDRESSES: a mailbox after them would go unevaluated.
    return { kind: "permerror", reason: "too many addresses in the From field" };
  }
  const items = parsed.filter((i) => !isGroupStart(i) && !isGroupEnd(i));
  const domains = new Set<string>();
  const displayed = new Set<string>();
  const tooMany = () => domains.size + displayed.size > MAX_AUTHOR_DOMAINS;
  const overflow = (): AuthorDomains => ({
    kind: "permerror",
    reason: `more than ${MAX_AUTHOR_DOMAINS} domains in the From field`,
  });
  for (const item of items) {
    if (item.host === null || item.host === "") {
      return { kind: "permerror", reason: "From mailbox without a domain" };
    }
    const domain = hostName(item.host);
    if (domain === null) {
      return { kind: "permerror", reason: `From domain "${clip(item.host)}" is not a host name` };
    }
    domains.add(domain);
    if (tooMany()) return overflow();
  }
  if (domains.size === 0) return { kind: "permerror", reason: "From field without a mailbox" };
  // Display names, comments and stray text: as written and with encoded words decoded.
  const texts = [value, decodeEncodedWords(value), ...items.map((i) => decodedName(i) ?? "")];
  for (const text of texts) {
    for (const domain of shownDomains(text)) {
      if (domains.has(domain)) continue;
      displayed.add(domain);
      if (tooMany()) return overflow();
    }
  }
  return { kind: "ok", domains: [...domains], displayed: [...displayed] };
}

/**
 * The domains a reader could show after an "@" in `text`: the text as displayed (NFKC, no
 * invisible characters, quoted-pairs unescaped), and after each "@" that follows a visible
 * character the longest host name, leading dots skipped. Linear: each "@" is looked at once.
 */
function* shownDomains(text: string): Generator<string> {
  const shown = text.normalize("NFKC").replace(INVISIBLE, "").replace(/\\(.)/gu, "$1")
    .replace(/[\u3002\uff0e\uff61]/g, ".");
  for (let at = shown.indexOf("@"); at !== -1; at = shown.indexOf("@", at + 1)) {
    if (at === 0 || /[\s<>()\[\],;:"@]/.test(shown[at - 1]!)) continue; // no local part
    // At most a domain's length: a longer name is no host name anyway.
    const rest = shown.slice(at + 1, at + 1 + 300).replace(/^\.+/, "");
    const domain = prefixHost(HOST_PREFIX.exec(rest)?.[0]) ??
      prefixHost(ASCII_HOST_PREFIX.exec(rest)?.[0]);
    if (domain !== null) yield domain;
  }
}

function prefixHost(prefix: string | undefined): string | null {
  return prefix === undefined ? null : hostName(prefix.replace(/[.-]+$/, ""));
}

/** An ASCII host name of two labels or more (RFC 1035 §2.3.1, RFC 1123 §2.1). */
const ASCII_HOST =
  /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** A domain as DNS knows it (A-labels, lower case, no trailing dot), or null. */
function hostName(raw: string): string | null {
  const text = raw.trim().replace(/\.$/, "");
  if (!text.includes(".")) return null;
  // Plain ASCII needs no IDNA processing (and the scan meets many such names).
  if (/^[\x21-\x7e]*$/.test(text) && !text.toLowerCase().includes("xn--")) {
    return ASCII_HOST.test(text) && !/^[\d.]+$/.test(text) ? text.toLowerCase() : null;
  }
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
