/**
 * Punycode (RFC 3492): the Bootstring encoding that IDNA uses to carry a Unicode label in
 * ASCII (the part of an A-label after `xn--`).
 *
 * The WHATWG URL parser gives us IDNA ToASCII (`new URL("http://" + name).hostname`) but no
 * ToUnicode, so {@link decodePunycode} is what turns A-labels back into U-labels for display.
 * {@link encodePunycode} is the inverse, used by tests and by anyone who needs a label without a
 * full URL parse.
 *
 * Invariants: both functions are pure and total over their documented domain; anything outside
 * it throws {@link InvalidInputError}, never another error type. Inputs are bounded by
 * {@link PUNYCODE_MAX_INPUT} so the quadratic insertion step cannot be used to burn CPU.
 *
 * @module
 */

import { InvalidInputError } from "./errors.ts";

// RFC 3492 §5: parameter values for Punycode.
const BASE = 36;
const TMIN = 1;
const TMAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 0x80;
const DELIMITER = 0x2d; // "-"
const MAX_CODE_POINT = 0x10ffff;
// Overflow bound for the generalised variable-length integers (RFC 3492 §6.4). Any valid label
// stays far below it; JavaScript numbers are exact up to 2^53, so checks against this are exact.
const MAX_INT = 0x7fffffff;

/** Longest input (in UTF-16 code units) either function accepts; DNS labels are ≤ 63 octets. */
export const PUNYCODE_MAX_INPUT = 1024;

/** RFC 3492 §6.1: bias adaptation function. */
function adapt(delta: number, numPoints: number, firstTime: boolean): number {
  let d = firstTime ? Math.floor(delta / DAMP) : Math.floor(delta / 2);
  d += Math.floor(d / numPoints);
  let k = 0;
  while (d > ((BASE - TMIN) * TMAX) >> 1) {
    d = Math.floor(d / (BASE - TMIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - TMIN + 1) * d) / (d + SKEW));
}

/** RFC 3492 §5: the threshold t for position k. */
function threshold(k: number, bias: number): number {
  if (k <= bias) return TMIN;
  if (k >= bias + TMAX) return TMAX;
  return k - bias;
}

/** RFC 3492 §5: digit values — a–z (either case) are 0–25, 0–9 are 26–35. */
function digitValue(codeUnit: number): number {
  if (codeUnit >= 0x30 && codeUnit <= 0x39) return codeUnit - 0x30 + 26;
  if (codeUnit >= 0x41 && codeUnit <= 0x5a) return codeUnit - 0x41;
  if (codeUnit >= 0x61 && codeUnit <= 0x7a) return codeUnit - 0x61;
  return BASE;
}

/** The basic code point for digit d (lower case, as IDNA writes it). */
function digitChar(d: number): string {
  return String.fromCharCode(d < 26 ? 0x61 + d : 0x30 + d - 26);
}

function fail(input: string, reason: string): never {
  const shown = input.length > 80 ? `${input.slice(0, 80)}…` : input;
  throw new InvalidInputError(`Cannot decode Punycode ${JSON.stringify(shown)}: ${reason}`);
}

/**
 * Decodes a Punycode string (without the `xn--` prefix) to Unicode.
 *
 * @example
 * ```ts
 * decodePunycode("bcher-kva"); // "bücher"
 * ```
 * @throws {InvalidInputError} when the input is not valid Punycode or decodes to something
 * that is not a Unicode scalar value.
 */
export function decodePunycode(input: string): string {
  if (input.length > PUNYCODE_MAX_INPUT) fail(input, "input is too long");
  // RFC 3492 §6.2: everything before the last delimiter is copied as basic code points.
  let basicEnd = input.lastIndexOf(String.fromCharCode(DELIMITER));
  if (basicEnd < 0) basicEnd = 0;
  const output: number[] = [];
  for (let j = 0; j < basicEnd; j++) {
    const c = input.charCodeAt(j);
    if (c >= 0x80) fail(input, "non-basic code point before the delimiter");
    output.push(c);
  }
  let n = INITIAL_N;
  let i = 0;
  let bias = INITIAL_BIAS;
  // Skip the delimiter only when some basic code points were copied (RFC 3492 §6.2).
  let pos = basicEnd > 0 ? basicEnd + 1 : 0;
  while (pos < input.length) {
    const oldI = i;
    let w = 1;
    for (let k = BASE;; k += BASE) {
      if (pos >= input.length) fail(input, "truncated input");
      const digit = digitValue(input.charCodeAt(pos++));
      if (digit >= BASE) fail(input, "invalid digit");
      if (digit > Math.floor((MAX_INT - i) / w)) fail(input, "overflow");
      i += digit * w;
      const t = threshold(k, bias);
      if (digit < t) break;
      if (w > Math.floor(MAX_INT / (BASE - t))) fail(input, "overflow");
      w *= BASE - t;
    }
    const length = output.length + 1;
    bias = adapt(i - oldI, length, oldI === 0);
    if (Math.floor(i / length) > MAX_INT - n) fail(input, "overflow");
    n += Math.floor(i / length);
    i %= length;
    if (n > MAX_CODE_POINT || (n >= 0xd800 && n <= 0xdfff)) {
      fail(input, "decodes to an invalid code point");
    }
    output.splice(i, 0, n);
    i++;
  }
  return String.fromCodePoint(...output);
}

/**
 * Encodes a Unicode string to Punycode (without the `xn--` prefix). Case is kept as given;
 * IDNA callers lower-case first.
 *
 * @example
 * ```ts
 * encodePunycode("bücher"); // "bcher-kva"
 * ```
 * @throws {InvalidInputError} when the input holds an unpaired surrogate or is too long.
 */
export function encodePunycode(input: string): string {
  if (input.length > PUNYCODE_MAX_INPUT) fail(input, "input is too long");
  if (!input.isWellFormed()) fail(input, "unpaired surrogate");
  const codePoints = Array.from(input, (ch) => ch.codePointAt(0) ?? 0);
  // RFC 3492 §6.3: basic code points first, then the delimiter if there were any.
  let output = "";
  for (const c of codePoints) {
    if (c < 0x80) output += String.fromCharCode(c);
  }
  const basicCount = output.length;
  let handled = basicCount;
  if (basicCount > 0) output += String.fromCharCode(DELIMITER);
  let n = INITIAL_N;
  let delta = 0;
  let bias = INITIAL_BIAS;
  while (handled < codePoints.length) {
    let m = MAX_CODE_POINT + 1;
    for (const c of codePoints) {
      if (c >= n && c < m) m = c;
    }
    if (m - n > Math.floor((MAX_INT - delta) / (handled + 1))) fail(input, "overflow");
    delta += (m - n) * (handled + 1);
    n = m;
    for (const c of codePoints) {
      if (c < n) {
        delta++;
        if (delta > MAX_INT) fail(input, "overflow");
      }
      if (c === n) {
        let q = delta;
        for (let k = BASE;; k += BASE) {
          const t = threshold(k, bias);
          if (q < t) break;
          output += digitChar(t + ((q - t) % (BASE - t)));
          q = Math.floor((q - t) / (BASE - t));
        }
        output += digitChar(q);
        bias = adapt(delta, handled + 1, handled === basicCount);
        delta = 0;
        handled++;
      }
    }
    delta++;
    n++;
  }
  return output;
}
