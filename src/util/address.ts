/**
 * Mail addresses: parsing, normalisation and the lookup key every part of Fumi uses.
 *
 * Syntax is RFC 5321 §4.1.2 (`Local-part "@" Domain`, the local part a Dot-string or a
 * Quoted-string) extended by RFC 6531 §3.3 to UTF-8 in the local part and domain. Limits are
 * RFC 5321 §4.5.3.1: local part ≤ 64 octets, domain ≤ 253 octets (labels ≤ 63), and the whole
 * address ≤ 254 octets (a 256-octet path less its angle brackets).
 *
 * Domains go through IDNA (UTS #46 as the WHATWG URL parser applies it) to lower-case A-labels;
 * the Unicode form is recovered with our own Punycode decoder, since neither Deno nor WHATWG
 * offers ToUnicode. Only plain host names are accepted: no address literals (`[192.0.2.1]`),
 * no IP addresses, no ports or paths, and a single label only for `localhost`.
 *
 * Invariants:
 * - {@link parseAddress} throws nothing but {@link InvalidInputError}, and its message quotes
 *   the input (JSON-escaped, cut at 100 characters): `Cannot parse address "x": missing domain`.
 * - `canonical` is the lookup key: local part NFC-normalised and lower-cased, written with the
 *   least quoting possible (RFC 5321 §4.1.2), `@`, ASCII domain. Parsing `canonical` gives the
 *   same `canonical` again. Fumi treats local parts case-insensitively, as nearly every mail
 *   system does (RFC 5321 §2.4 leaves it to the receiving host).
 * - The length limits hold for both the address as given and its canonical form (case mapping
 *   can change the length of UTF-8).
 * - Nothing here touches `Deno.*` or `node:*`.
 *
 * Not supported (yet): address literals, source routes, comments (CFWS) and display names —
 * those belong to message headers (src/mime), not to envelope addresses.
 *
 * @module
 */

import { InvalidInputError } from "./errors.ts";
import { decodePunycode } from "./punycode.ts";

/** A parsed mail address. */
export interface MailAddress {
  /** The local part's value, quotes and escapes removed, case and form as given. */
  readonly local: string;
  /** The domain in ASCII: lower case, A-labels for internationalised labels. */
  readonly domain: string;
  /** The domain with A-labels decoded to U-labels (equal to `domain` when all ASCII). */
  readonly unicodeDomain: string;
  /** Lookup key: NFC + lower-cased local part, minimally quoted, `@`, ASCII domain. */
  readonly canonical: string;
}

/** A domain name in its two IDNA forms. */
export interface DomainName {
  /** Lower case, A-labels (`xn--bcher-kva.example`). */
  readonly ascii: string;
  /** Lower case, U-labels (`bücher.example`). */
  readonly unicode: string;
}

/** RFC 5321 §4.5.3.1.1: maximum length of a local part, in octets. */
export const MAX_LOCAL_PART_OCTETS = 64;
/** RFC 5321 §4.5.3.1.2: maximum length of a domain, in octets. */
export const MAX_DOMAIN_OCTETS = 253;
/** RFC 1035 §2.3.4: maximum length of a label, in octets. */
export const MAX_LABEL_OCTETS = 63;
/** RFC 5321 §4.5.3.1.3: a path is ≤ 256 octets including "<" and ">", so 254 for an address. */
export const MAX_ADDRESS_OCTETS = 254;

// Longer input cannot be a valid address even with every character escaped; refusing it early
// bounds the work a hostile peer can cause.
const MAX_INPUT_LENGTH = 4 * MAX_ADDRESS_OCTETS;

type Outcome<T> = { readonly ok: true; readonly value: T } | {
  readonly ok: false;
  readonly problem: string;
};

const encoder = new TextEncoder();

function octets(s: string): number {
  return encoder.encode(s).length;
}

function quoteInput(input: string): string {
  return JSON.stringify(input.length > 100 ? `${input.slice(0, 100)}…` : input);
}

const WHITESPACE = /\p{White_Space}/u;
const CONTROL = /\p{Cc}/u;

// RFC 5321 §4.1.2 atext (RFC 5322 §3.2.3): ALPHA / DIGIT / the specials below;
// RFC 6531 §3.3 adds UTF8-non-ascii, of which we refuse whitespace (controls are refused
// for the whole address).
const ASCII_ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]$/;

function isAtext(ch: string): boolean {
  if (ch.length === 1 && ch.charCodeAt(0) < 0x80) return ASCII_ATEXT.test(ch);
  return !WHITESPACE.test(ch) && !CONTROL.test(ch);
}

/** True when `value` can be written as an RFC 5321 Dot-string, i.e. without quotes. */
function isDotString(value: string): boolean {
  if (value === "" || value.startsWith(".") || value.endsWith(".") || value.includes("..")) {
    return false;
  }
  for (const ch of value) {
    if (ch !== "." && !isAtext(ch)) return false;
  }
  return true;
}

/**
 * Writes a local-part value with the least quoting possible (RFC 5321 §4.1.2): as a Dot-string
 * when it is one, otherwise as a Quoted-string with `"` and `\` escaped.
 *
 * @example
 * ```ts
 * formatLocalPart("alice"); // "alice"
 * formatLocalPart("john doe"); // "\"john doe\""
 * ```
 */
export function formatLocalPart(value: string): string {
  if (isDotString(value)) return value;
  return `"${value.replace(/["\\]/g, "\\$&")}"`; // RFC 5321 §4.1.2 quoted-pairSMTP
}

/**
 * Writes an address back as text, with the ASCII domain (default) or the Unicode one.
 *
 * @example
 * ```ts
 * formatAddress(parseAddress("Ünal@Bücher.example")); // "Ünal@xn--bcher-kva.example"
 * ```
 */
export function formatAddress(
  address: Pick<MailAddress, "local" | "domain" | "unicodeDomain">,
  options: { readonly unicode?: boolean } = {},
): string {
  const domain = options.unicode === true ? address.unicodeDomain : address.domain;
  return `${formatLocalPart(address.local)}@${domain}`;
}

/** RFC 5321 §4.1.2 Dot-string, with RFC 6531 §3.3 UTF-8 atext. */
function checkDotString(text: string): Outcome<string> {
  for (const ch of text) {
    if (ch === "." || isAtext(ch)) continue;
    if (WHITESPACE.test(ch)) return { ok: false, problem: "local part contains whitespace" };
    return { ok: false, problem: `local part contains the character ${JSON.stringify(ch)}` };
  }
  if (text.startsWith(".")) return { ok: false, problem: "local part starts with a dot" };
  if (text.endsWith(".")) return { ok: false, problem: "local part ends with a dot" };
  if (text.includes("..")) return { ok: false, problem: "local part has consecutive dots" };
  return { ok: true, value: text };
}

/**
 * RFC 5321 §4.1.2 Quoted-string starting at index 0 of `input`; returns the value and the index
 * just after the closing quote.
 */
function scanQuotedString(input: string): Outcome<{ value: string; end: number }> {
  let value = "";
  let i = 1;
  while (i < input.length) {
    const cp = input.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(cp);
    if (ch === '"') return { ok: true, value: { value, end: i + 1 } };
    if (ch === "\\") {
      // RFC 5321 §4.1.2: quoted-pairSMTP = %d92 %d32-126
      const next = input.codePointAt(i + 1);
      if (next === undefined) break;
      if (next < 0x20 || next > 0x7e) {
        return { ok: false, problem: "local part has an invalid escape in its quoted string" };
      }
      value += String.fromCodePoint(next);
      i += 2;
      continue;
    }
    // RFC 5321 §4.1.2 qtextSMTP = %d32-33 / %d35-91 / %d93-126; RFC 6531 §3.3 adds
    // UTF8-non-ascii. A plain space is allowed here; other whitespace is not.
    if (cp !== 0x20 && WHITESPACE.test(ch)) {
      return { ok: false, problem: "local part contains whitespace" };
    }
    value += ch;
    i += ch.length;
  }
  return { ok: false, problem: "local part has an unterminated quoted string" };
}

function checkDomain(input: string): Outcome<DomainName> {
  if (input === "") return { ok: false, problem: "missing domain" };
  if (input.startsWith("[")) {
    return { ok: false, problem: "address literals are not supported" };
  }
  for (const ch of input) {
    if (ch.charCodeAt(0) < 0x80) {
      if (/^[A-Za-z0-9.-]$/.test(ch)) continue;
      if (ch === " ") return { ok: false, problem: "domain contains whitespace" };
      if (CONTROL.test(ch)) return { ok: false, problem: "domain contains a control character" };
      return { ok: false, problem: `domain contains the character ${JSON.stringify(ch)}` };
    }
    if (WHITESPACE.test(ch)) return { ok: false, problem: "domain contains whitespace" };
    if (CONTROL.test(ch)) return { ok: false, problem: "domain contains a control character" };
  }
  // IDNA ToASCII (UTS #46 via the WHATWG host parser): maps, NFC-normalises, lower-cases and
  // Punycode-encodes; refuses invalid A-labels and disallowed code points.
  const ascii = URL.parse(`http://${input}/`)?.hostname;
  if (ascii === undefined) return { ok: false, problem: "domain is not a valid host name" };
  if (ascii.startsWith(".")) return { ok: false, problem: "domain starts with a dot" };
  if (ascii.endsWith(".")) return { ok: false, problem: "domain ends with a dot" };
  if (ascii.includes("..")) return { ok: false, problem: "domain has consecutive dots" };
  const labels = ascii.split(".");
  for (const label of labels) {
    if (label.length > MAX_LABEL_OCTETS) {
      return { ok: false, problem: `domain has a label longer than ${MAX_LABEL_OCTETS} octets` };
    }
    // RFC 5321 §4.1.2 sub-domain = Let-dig [Ldh-str] (after IDNA, so A-labels qualify).
    if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(label)) {
      return {
        ok: false,
        problem: `domain label ${JSON.stringify(label)} must be letters, digits and inner hyphens`,
      };
    }
  }
  // The host parser turns IPv4 forms (including "0x7f.1") into dotted quads; a numeric last
  // label cannot be a top-level domain (RFC 3696 §2).
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? "")) {
    return { ok: false, problem: "IP addresses are not supported" };
  }
  if (ascii.length > MAX_DOMAIN_OCTETS) {
    return { ok: false, problem: `domain is longer than ${MAX_DOMAIN_OCTETS} octets` };
  }
  if (labels.length === 1 && ascii !== "localhost") {
    return { ok: false, problem: "domain needs at least two labels (only localhost has one)" };
  }
  // IDNA ToUnicode: the host parser has validated every A-label, so decoding succeeds; the
  // round trip below guards against a label it would not produce again.
  const unicode = labels.map((label) =>
    label.startsWith("xn--") ? decodePunycode(label.slice(4)) : label
  ).join(".");
  if (unicode !== ascii && URL.parse(`http://${unicode}/`)?.hostname !== ascii) {
    return { ok: false, problem: "domain has an invalid A-label" };
  }
  return { ok: true, value: { ascii, unicode } };
}

/**
 * Converts a domain name to its ASCII (A-label) and Unicode (U-label) forms, both lower case.
 * Accepts only plain host names: LDH labels after IDNA, at least two labels (or `localhost`),
 * no trailing dot, no IP addresses, ports or paths.
 *
 * @example
 * ```ts
 * normalizeDomain("Bücher.Example"); // { ascii: "xn--bcher-kva.example", unicode: "bücher.example" }
 * ```
 * @throws {InvalidInputError} `Cannot parse domain "x": …`
 */
export function normalizeDomain(name: string): DomainName {
  const problem = name.length > MAX_INPUT_LENGTH
    ? `domain is longer than ${MAX_DOMAIN_OCTETS} octets`
    : !name.isWellFormed()
    ? "domain is not valid Unicode text"
    : null;
  const result: Outcome<DomainName> = problem === null ? checkDomain(name) : { ok: false, problem };
  if (!result.ok) {
    throw new InvalidInputError(`Cannot parse domain ${quoteInput(name)}: ${result.problem}`);
  }
  return result.value;
}

function analyse(input: string): Outcome<MailAddress> {
  if (input === "") return { ok: false, problem: "address is empty" };
  if (input.length > MAX_INPUT_LENGTH) {
    return { ok: false, problem: `address is longer than ${MAX_ADDRESS_OCTETS} octets` };
  }
  if (!input.isWellFormed()) return { ok: false, problem: "address is not valid Unicode text" };
  if (CONTROL.test(input)) return { ok: false, problem: "address contains a control character" };

  let local: string;
  let domainText: string;
  if (input.startsWith('"')) {
    const quoted = scanQuotedString(input);
    if (!quoted.ok) return quoted;
    const { value, end } = quoted.value;
    if (end === input.length) return { ok: false, problem: "missing domain" };
    if (input[end] !== "@") {
      return { ok: false, problem: "local part has text after its quoted string" };
    }
    if (value === "") return { ok: false, problem: "local part is empty" };
    local = value;
    domainText = input.slice(end + 1);
  } else {
    const at = input.indexOf("@");
    if (at < 0) return { ok: false, problem: "missing domain" };
    if (at === 0) return { ok: false, problem: "missing local part" };
    const dotString = checkDotString(input.slice(0, at));
    if (!dotString.ok) return dotString;
    local = dotString.value;
    domainText = input.slice(at + 1);
  }

  if (domainText.includes("@")) return { ok: false, problem: 'address has more than one "@"' };
  const domain = checkDomain(domainText);
  if (!domain.ok) return domain;
  const { ascii, unicode } = domain.value;

  const folded = canonicalLocalPart(local);
  const localOctets = Math.max(octets(formatLocalPart(local)), octets(formatLocalPart(folded)));
  if (localOctets > MAX_LOCAL_PART_OCTETS) {
    // RFC 5321 §4.5.3.1.1
    return { ok: false, problem: `local part is longer than ${MAX_LOCAL_PART_OCTETS} octets` };
  }
  if (localOctets + 1 + ascii.length > MAX_ADDRESS_OCTETS) {
    // RFC 5321 §4.5.3.1.3
    return { ok: false, problem: `address is longer than ${MAX_ADDRESS_OCTETS} octets` };
  }
  return {
    ok: true,
    value: {
      local,
      domain: ascii,
      unicodeDomain: unicode,
      canonical: `${formatLocalPart(folded)}@${ascii}`,
    },
  };
}

/**
 * Parses a mail address (`local@domain`, no angle brackets, no display name).
 *
 * @example
 * ```ts
 * parseAddress("Alice+News@Bücher.Example");
 * // { local: "Alice+News", domain: "xn--bcher-kva.example",
 * //   unicodeDomain: "bücher.example", canonical: "alice+news@xn--bcher-kva.example" }
 * ```
 * @throws {InvalidInputError} `Cannot parse address "x": missing domain` and the like.
 */
export function parseAddress(input: string): MailAddress {
  const result = analyse(input);
  if (!result.ok) {
    throw new InvalidInputError(`Cannot parse address ${quoteInput(input)}: ${result.problem}`);
  }
  return result.value;
}

/**
 * Like {@link parseAddress}, but returns `null` for input that is not a valid address.
 */
export function tryParseAddress(input: string): MailAddress | null {
  const result = analyse(input);
  return result.ok ? result.value : null;
}

/**
 * The lookup form of a local part, as used in {@link MailAddress.canonical} (before quoting):
 * NFC-normalised and lower-cased. Apply it to a base from {@link splitSubaddress} before
 * building a lookup key.
 */
export function canonicalLocalPart(local: string): string {
  return local.normalize("NFC").toLowerCase().normalize("NFC"); // NFC again: case mapping can denormalise
}

/**
 * Splits a local part into its base and subaddress tag (RFC 5233 §4's `:user` and `:detail`)
 * at the first occurrence of `separator`. A local part that starts with the separator has no
 * tag (its base would be empty); `"alice+"` has the empty tag `""`.
 *
 * @example
 * ```ts
 * splitSubaddress("alice+lists"); // { base: "alice", tag: "lists" }
 * splitSubaddress("alice"); // { base: "alice", tag: null }
 * ```
 * @throws {InvalidInputError} when `separator` is empty.
 */
export function splitSubaddress(
  local: string,
  separator = "+",
): { base: string; tag: string | null } {
  if (separator === "") throw new InvalidInputError("Subaddress separator must not be empty");
  const index = local.indexOf(separator);
  if (index <= 0) return { base: local, tag: null };
  return { base: local.slice(0, index), tag: local.slice(index + separator.length) };
}
