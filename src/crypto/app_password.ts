/**
 * App passwords: random tokens the server makes for one mail client each (src/store/
 * app_passwords.ts keeps them). Shown once as seven groups of four lower-case letters,
 * `abcd-efgh-ijkl-mnop-qrst-uvwx-yzab`: 28 letters, about 131.6 bits, easy to type on a phone.
 *
 * Stored as a SHA-256 digest, not Argon2id: a slow hash protects guessable passwords that people
 * choose, while no guess finds a 131-bit random token from its digest; the digest must also be
 * deterministic so that a sign-in finds the token with one indexed query, and costs microseconds
 * where Argon2id costs ~60 ms on every connection of a reconnecting client.
 *
 * @module
 */

const LETTERS = "abcdefghijklmnopqrstuvwxyz";
const GROUPS = 7;
const GROUP_LENGTH = 4;
/** Letters in an app password. */
export const APP_PASSWORD_LETTERS = GROUPS * GROUP_LENGTH;

/** A new app password, grouped for reading: `abcd-efgh-…` (seven groups). */
export function generateAppPassword(): string {
  const letters: string[] = [];
  // Rejection sampling keeps every letter equally likely.
  const limit = 256 - (256 % LETTERS.length);
  while (letters.length < APP_PASSWORD_LETTERS) {
    for (const byte of crypto.getRandomValues(new Uint8Array(64))) {
      if (byte < limit && letters.length < APP_PASSWORD_LETTERS) {
        letters.push(LETTERS[byte % LETTERS.length]!);
      }
    }
  }
  const groups: string[] = [];
  for (let i = 0; i < APP_PASSWORD_LETTERS; i += GROUP_LENGTH) {
    groups.push(letters.slice(i, i + GROUP_LENGTH).join(""));
  }
  return groups.join("-");
}

const encoder = new TextEncoder();

/**
 * The digest an app password is stored and looked up as: SHA-256 of a domain label and the
 * password without its hyphens and spaces, lower-cased, so that `ABCD EFGH …` typed by hand
 * matches too. Any text has a digest (sign-in computes it for every password tried, an
 * account's password included, which then matches no row).
 */
export async function appPasswordDigest(password: string): Promise<Uint8Array> {
  const canonical = password.replace(/[-\s]/g, "").toLowerCase();
  const data = encoder.encode(`fumi app password\u0000${canonical}`);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}
