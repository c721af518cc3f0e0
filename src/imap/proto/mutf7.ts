/**
 * Modified UTF-7 (RFC 3501 §5.1.3), the encoding of mailbox names for IMAP4rev1 clients that
 * have not enabled UTF8=ACCEPT (RFC 9051 §6.3.1, RFC 6855). Printable ASCII but "&" stands
 * for itself, "&" is "&-", and every run of other characters is "&", its UTF-16 in base64
 * with "," for "/" and no padding, and "-".
 *
 * Invariants: {@link encodeMailboxName} writes the one canonical form, and
 * {@link decodeMailboxName} accepts only that form (null for anything else), so two different
 * strings never name the same mailbox: `decode(encode(s)) === s` for every well-formed `s`,
 * and `encode(decode(t)) === t` for every `t` that decodes.
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
const VALUE = new Map([...ALPHABET].map((c, i) => [c, i]));
const AMPERSAND = 0x26;

function printable(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

function encodeRun(units: string): string {
  let out = "";
  let bits = 0;
  let buffer = 0;
  for (let i = 0; i < units.length; i++) {
    buffer = (buffer << 16) | units.charCodeAt(i);
    bits += 16;
    while (bits >= 6) {
      bits -= 6;
      out += ALPHABET[(buffer >> bits) & 0x3f];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (6 - bits)) & 0x3f];
  return out;
}

/**
 * Encodes a mailbox name (any Unicode string) in modified UTF-7. Lone surrogates, which no
 * UTF-8 name can hold, become U+FFFD.
 *
 * @example
 * ```ts
 * encodeMailboxName("~peter/mail/台北/日本語"); // "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
 * encodeMailboxName("Tom & Jerry"); // "Tom &- Jerry"
 * ```
 */
export function encodeMailboxName(utf8: string): string {
  const name = utf8.toWellFormed();
  let out = "";
  let i = 0;
  while (i < name.length) {
    const code = name.charCodeAt(i);
    if (printable(code)) {
      out += code === AMPERSAND ? "&-" : name[i];
      i++;
      continue;
    }
    let j = i + 1;
    while (j < name.length && !printable(name.charCodeAt(j))) j++;
    out += `&${encodeRun(name.slice(i, j))}-`;
    i = j;
  }
  return out;
}

/** The UTF-16 units of one base64 run, or null when it is not whole units. */
function decodeRun(run: string): string | null {
  let out = "";
  let bits = 0;
  let buffer = 0;
  for (const c of run) {
    const value = VALUE.get(c);
    if (value === undefined) return null;
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 16) {
      bits -= 16;
      out += String.fromCharCode((buffer >> bits) & 0xffff);
      buffer &= (1 << bits) - 1;
    }
  }
  // The canonical encoding pads the last unit with fewer than six zero bits.
  return bits < 6 && buffer === 0 ? out : null;
}

/**
 * Decodes a modified UTF-7 mailbox name; null when it is not in the canonical form RFC 3501
 * §5.1.3 requires: characters outside printable ASCII, an unterminated or empty shift other
 * than "&-", base64 used for printable ASCII, adjacent shifts ("-&"), leftover bits, or
 * UTF-16 that is not well formed.
 *
 * @example
 * ```ts
 * decodeMailboxName("~peter/mail/&U,BTFw-/&ZeVnLIqe-"); // "~peter/mail/台北/日本語"
 * decodeMailboxName("&AGE-"); // null ("a" must be written as itself)
 * ```
 */
export function decodeMailboxName(mutf7: string): string | null {
  let out = "";
  let i = 0;
  while (i < mutf7.length) {
    const code = mutf7.charCodeAt(i);
    if (!printable(code)) return null;
    if (code !== AMPERSAND) {
      out += mutf7[i];
      i++;
      continue;
    }
    const end = mutf7.indexOf("-", i + 1);
    if (end < 0) return null; // RFC 3501 §5.1.3: names "MUST end in US-ASCII"
    if (end === i + 1) {
      out += "&";
    } else {
      const run = decodeRun(mutf7.slice(i + 1, end));
      if (run === null || !run.isWellFormed()) return null;
      out += run;
    }
    i = end + 1;
  }
  // Printable ASCII in base64, or two shifts side by side, re-encode differently.
  return encodeMailboxName(out) === mutf7 ? out : null;
}
