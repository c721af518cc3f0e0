/**
 * xtext (RFC 3461 §4): the encoding of the DSN parameters ENVID and ORCPT and of the AUTH
 * parameter of MAIL (RFC 4954 §5).
 *
 * Invariants: {@link decodeXtext} is strict (upper-case hex only, no raw "=" or "+", no octets
 * outside "!" to "~") and throws nothing but {@link InvalidInputError}; the octets it decodes
 * must be UTF-8. `decodeXtext(encodeXtext(s)) === s` for every well-formed string `s`.
 *
 * @module
 */

import { InvalidInputError } from "../../util/errors.ts";

const PLUS = 0x2b;
const EQUALS = 0x3d;
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

// RFC 3461 §4: hexchar = ASCII "+" immediately followed by two upper case hexadecimal digits
function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  return -1;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}

/**
 * Decodes xtext to the text it carries.
 *
 * @example
 * ```ts
 * decodeXtext("a+2Bb+3Dc"); // "a+b=c"
 * ```
 * @throws {InvalidInputError} `Cannot decode xtext "x": …` for a bad "+" escape, a character
 *   outside xchar, or octets that are not UTF-8.
 */
export function decodeXtext(s: string): string {
  const octets = new Uint8Array(s.length);
  let length = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code === PLUS) {
      const high = hexDigit(s.charCodeAt(i + 1));
      const low = hexDigit(s.charCodeAt(i + 2));
      if (high < 0 || low < 0) {
        throw new InvalidInputError(
          `Cannot decode xtext ${quote(s)}: "+" must be followed by two upper-case hex digits`,
        );
      }
      octets[length++] = high * 16 + low;
      i += 2;
      continue;
    }
    // RFC 3461 §4: xchar = any ASCII CHAR between "!" (33) and "~" (126) inclusive, except
    // for "+" and "="
    if (code < 0x21 || code > 0x7e || code === EQUALS) {
      throw new InvalidInputError(
        `Cannot decode xtext ${quote(s)}: character ${JSON.stringify(s[i])} must be encoded`,
      );
    }
    octets[length++] = code;
  }
  try {
    return decoder.decode(octets.subarray(0, length));
  } catch {
    throw new InvalidInputError(`Cannot decode xtext ${quote(s)}: the octets are not UTF-8`);
  }
}

/**
 * Encodes text (as UTF-8 octets) as xtext: printable ASCII but "+" and "=" as itself, every
 * other octet as "+" and two upper-case hex digits (RFC 3461 §4).
 *
 * @example
 * ```ts
 * encodeXtext("a+b=c d"); // "a+2Bb+3Dc+20d"
 * ```
 */
export function encodeXtext(s: string): string {
  let out = "";
  for (const octet of encoder.encode(s)) {
    if (octet >= 0x21 && octet <= 0x7e && octet !== PLUS && octet !== EQUALS) {
      out += String.fromCharCode(octet);
    } else {
      out += `+${octet.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  return out;
}
