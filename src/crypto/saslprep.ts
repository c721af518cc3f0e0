/**
 * Preparation of passwords with the PRECIS OpaqueString profile (RFC 8265 §4.2), which
 * replaces SASLprep (RFC 4013) for SASL mechanisms and is what makes a password typed in
 * different Unicode forms (precomposed or decomposed accents, a no-break space for a space)
 * hash to the same value.
 *
 * Steps, in the order RFC 8264 §7 prescribes:
 * 1. Width mapping: none (RFC 8265 §4.2.1).
 * 2. Additional mapping: every non-ASCII space (general category Zs) becomes U+0020.
 * 3. Case mapping: none — passwords stay case-sensitive.
 * 4. Normalisation: NFC.
 * 5. Directionality: none.
 * 6. Behavioural rules of the FreeformClass base class (RFC 8264 §4.3): disallowed code points
 *    are rejected; an empty result is rejected (RFC 8265 §4.2.2).
 *
 * Status: partial. The CONTEXTJ/CONTEXTO rules (RFC 5892 Appendix A) for the join controls and
 * the few context-dependent exceptions are not evaluated: those code points are accepted, which
 * errs on letting people with Persian or Indic keyboards in. Unassigned code points are
 * accepted too (RFC 8264 would treat them as disallowed); this keeps passwords stable across
 * Unicode versions of the runtime instead of locking an account out after an upgrade.
 *
 * Security: error messages say which class of character is wrong, never the password or the
 * offending code point.
 *
 * @module
 */

import { InvalidInputError } from "../util/errors.ts";

// RFC 8265 §4.2.1: non-ASCII spaces (Zs other than U+0020) are mapped to U+0020.
const NON_ASCII_SPACE = /(?!\u0020)\p{Zs}/gu;

// RFC 8264 §9.11: ASCII7, printable ASCII, always valid (checked first, as in §8's order).
const ASCII_PRINTABLE = /^[\u0020-\u007e]*$/;

/** A FreeformClass rule that disallows code points, with what to tell the user. */
interface DisallowRule {
  readonly pattern: RegExp;
  readonly problem: string;
}

// Checked in RFC 8264 §8 order after ASCII7; the join controls (§9.8, CONTEXTJ) sit inside
// Default_Ignorable_Code_Point and are let through before the ignorable rule.
const DISALLOW_RULES: readonly DisallowRule[] = [
  // RFC 8264 §9.12: Controls (Cc: C0, DEL, C1).
  { pattern: /\p{Cc}/u, problem: "contains a control character" },
  // RFC 5892 §2.9 via RFC 8264 §9.9: OldHangulJamo (conjoining jamo blocks).
  {
    pattern: /[\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff]/u,
    problem: "contains a conjoining Hangul jamo that is not part of a syllable",
  },
  // RFC 8264 §9.13: PrecisIgnorableProperties (default-ignorable and noncharacters).
  {
    pattern: /(?![\u200c\u200d])[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]/u,
    problem: "contains an invisible or non-character code point",
  },
  // RFC 5892 §2.6 via RFC 8264 §9.6: Exceptions that are DISALLOWED.
  {
    pattern: /[\u0640\u07fa\u302e\u302f\u3031-\u3035\u303b]/u,
    problem: "contains a disallowed character",
  },
  // RFC 8264 §4.3.3 and §8 step 15: what is in no valid category — line and paragraph
  // separators, format characters and private-use code points.
  { pattern: /[\p{Zl}\p{Zp}]/u, problem: "contains a line or paragraph separator" },
  {
    pattern: /(?![\u200c\u200d])\p{Cf}/u,
    problem: "contains an invisible formatting character",
  },
  { pattern: /\p{Co}/u, problem: "contains a private-use character" },
];

/**
 * Returns the problem with `s` as an OpaqueString, or the prepared string. The problem is a
 * sentence fragment ("contains a control character") without the input in it.
 */
function prepare(s: string): { ok: true; value: string } | { ok: false; problem: string } {
  // Unpaired surrogates cannot be encoded as UTF-8, so they can never be a password.
  if (!s.isWellFormed()) return { ok: false, problem: "is not valid Unicode text" };
  const value = s.replace(NON_ASCII_SPACE, " ").normalize("NFC"); // RFC 8265 §4.2.1
  if (value.length === 0) return { ok: false, problem: "must not be empty" }; // RFC 8265 §4.2.2
  if (ASCII_PRINTABLE.test(value)) return { ok: true, value };
  for (const rule of DISALLOW_RULES) {
    if (rule.pattern.test(value)) return { ok: false, problem: rule.problem };
  }
  return { ok: true, value };
}

/**
 * Prepares a password with the PRECIS OpaqueString profile (RFC 8265 §4.2): non-ASCII spaces
 * become U+0020, the result is NFC-normalised and checked against the FreeformClass.
 *
 * @example
 * ```ts
 * prepareOpaqueString("cafe\u0301\u00a0bar"); // "café bar" (precomposed é, ASCII space)
 * ```
 * @throws {InvalidInputError} when the result is empty or holds a disallowed code point; the
 * message names the kind of problem, never the password.
 */
export function prepareOpaqueString(s: string): string {
  const result = prepare(s);
  if (!result.ok) throw new InvalidInputError(`Password ${result.problem}`);
  return result.value;
}

/**
 * Like {@link prepareOpaqueString}, but returns `null` instead of throwing. For verifiers: a
 * string that cannot be prepared can never match a stored credential.
 */
export function tryPrepareOpaqueString(s: string): string | null {
  const result = prepare(s);
  return result.ok ? result.value : null;
}

/**
 * Returns what is wrong with `s` as an OpaqueString, as a sentence fit to show the user
 * ("Password contains a control character"), or `null` when it can be prepared.
 */
export function opaqueStringProblem(s: string): string | null {
  const result = prepare(s);
  return result.ok ? null : `Password ${result.problem}`;
}
