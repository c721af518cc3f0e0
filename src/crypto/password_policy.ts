/**
 * Password policy: the rules a new password must meet before it is hashed.
 *
 * Rules (each reported separately, so a user sees everything to fix at once):
 * - it can be prepared with the OpaqueString profile (RFC 8265 §4.2): not empty, no control or
 *   invisible characters — otherwise it could never be stored;
 * - its length, counted in Unicode code points after preparation (NIST SP 800-63B §5.1.1.2
 *   counts characters, not bytes), is at least `minLength`;
 * - when `rejectCommon` is set, it is not in the common-password list of
 *   `@zxcvbn-ts/language-common` (about 49,000 entries), compared case-insensitively;
 * - it is not the account's address, local part or domain, compared case-insensitively.
 *
 * Messages describe the problem and never repeat the password. The common-password list is
 * turned into a Set on first use and kept for the life of the process.
 *
 * @module
 */

import { dictionary } from "@zxcvbn-ts/language-common";
import { opaqueStringProblem, prepareOpaqueString } from "./saslprep.ts";
import { type MailAddress, tryParseAddress } from "../util/address.ts";
import { InvalidInputError } from "../util/errors.ts";

/** The default minimum length, in Unicode code points. */
export const DEFAULT_MIN_PASSWORD_LENGTH = 12;

/** Password rules (the `[accounts]` config section supplies them). */
export interface PasswordPolicy {
  /** Minimum length in Unicode code points. */
  readonly minLength: number;
  /** Reject passwords found in the common-password list. */
  readonly rejectCommon: boolean;
}

/** The policy used when the configuration says nothing. */
export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = Object.freeze({
  minLength: DEFAULT_MIN_PASSWORD_LENGTH,
  rejectCommon: true,
});

let commonPasswords: Set<string> | undefined;

/** The common-password list as a Set of lower-case entries, built once on first use. */
export function commonPasswordList(): ReadonlySet<string> {
  commonPasswords ??= new Set(dictionary["passwords-common"].map((entry) => fold(entry)));
  return commonPasswords;
}

/** Case-insensitive comparison form: NFC, lower case. */
function fold(s: string): string {
  return s.normalize("NFC").toLowerCase();
}

/** The strings a password must not equal: the address in its forms, local part, domain. */
function identityStrings(address: string | MailAddress): Set<string> {
  const forms = new Set<string>();
  // An address that does not parse still yields its whole form.
  const parsed = typeof address === "string" ? tryParseAddress(address) : address;
  if (typeof address === "string") forms.add(fold(address));
  if (parsed !== null) {
    for (
      const form of [
        parsed.canonical,
        `${parsed.local}@${parsed.domain}`,
        `${parsed.local}@${parsed.unicodeDomain}`,
        parsed.local,
        parsed.domain,
        parsed.unicodeDomain,
      ]
    ) {
      forms.add(fold(form));
    }
  }
  return forms;
}

/**
 * Checks a password against the policy and returns every problem found, as sentences fit to
 * show the user; an empty array means the password is acceptable.
 *
 * @example
 * ```ts
 * checkPasswordPolicy("password1234", "alice@example.com", DEFAULT_PASSWORD_POLICY);
 * // ["Password is one of the most commonly used passwords"]
 * ```
 */
export function checkPasswordPolicy(
  password: string,
  address: string | MailAddress,
  policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY,
): string[] {
  const problem = opaqueStringProblem(password);
  if (problem !== null) return [problem];
  const prepared = prepareOpaqueString(password);
  const problems: string[] = [];
  const length = [...prepared].length;
  if (length < policy.minLength) {
    problems.push(`Password must be at least ${policy.minLength} characters long`);
  }
  const folded = fold(prepared);
  if (policy.rejectCommon && commonPasswordList().has(folded)) {
    problems.push("Password is one of the most commonly used passwords");
  }
  if (identityStrings(address).has(folded)) {
    problems.push("Password must not be the mail address, its user name or its domain");
  }
  return problems;
}

/**
 * Like {@link checkPasswordPolicy}, but throws when there is any problem.
 *
 * @throws {InvalidInputError} with all problems joined by "; ".
 */
export function assertPasswordPolicy(
  password: string,
  address: string | MailAddress,
  policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY,
): void {
  const problems = checkPasswordPolicy(password, address, policy);
  if (problems.length > 0) throw new InvalidInputError(problems.join("; "));
}
