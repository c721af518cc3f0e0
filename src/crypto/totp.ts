/**
 * Time-based one-time passwords (TOTP, RFC 6238) as authenticator apps make them: HMAC-SHA-1,
 * 30-second steps counted from the Unix epoch, 6 digits, over the HOTP of RFC 4226 (computed by
 * the `otpauth` package). A code is accepted in its own step and one step either side
 * (RFC 6238 §5.2, for clock drift and typing time); the caller stores the step a code matched
 * and refuses a step it has accepted before, so that no code is used twice (also §5.2).
 *
 * Pure functions of the secret and a time: no clock is read here.
 *
 * @module
 */

import { Secret, TOTP } from "otpauth";

/** Seconds per time step (RFC 6238 §4.1 X, the recommended default). */
export const TOTP_PERIOD_S = 30;
/** Digits per code (RFC 4226 §5.3: at least 6). */
export const TOTP_DIGITS = 6;
/** Steps either side of the current one in which a code is still accepted (RFC 6238 §5.2). */
export const TOTP_WINDOW = 1;
/** Bytes of a new secret: 160 bits, the length RFC 4226 §4 (R6) recommends. */
export const TOTP_SECRET_BYTES = 20;

const ALGORITHM = "SHA1"; // RFC 6238 §1.2: what authenticator apps implement

/** A new random secret. */
export function newTotpSecret(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(TOTP_SECRET_BYTES));
}

function totp(
  secret: Uint8Array,
  digits = TOTP_DIGITS,
  label?: { issuer: string; account: string },
) {
  return new TOTP({
    algorithm: ALGORITHM,
    digits,
    period: TOTP_PERIOD_S,
    secret: new Secret({ buffer: new Uint8Array(secret).buffer }),
    ...(label ? { issuer: label.issuer, label: label.account } : {}),
  });
}

/** The secret in base32 (RFC 4648 §6, no padding), as typed into an authenticator by hand. */
export function totpBase32(secret: Uint8Array): string {
  return new Secret({ buffer: new Uint8Array(secret).buffer }).base32;
}

/**
 * The `otpauth://totp/…` URI that authenticator apps read from a QR code (Google Authenticator's
 * key URI format): issuer, account, secret, algorithm, digits and period.
 */
export function totpUri(secret: Uint8Array, label: { issuer: string; account: string }): string {
  return totp(secret, TOTP_DIGITS, label).toString();
}

/** The time step of `atMs` (RFC 6238 §4.2: T = floor((now - T0) / X), T0 = 0). */
export function totpStep(atMs: number): number {
  return Math.floor(atMs / 1000 / TOTP_PERIOD_S);
}

/** The code for the step of `atMs`; `digits` other than 6 only for the RFC's test vectors. */
export function totpCode(secret: Uint8Array, atMs: number, digits = TOTP_DIGITS): string {
  return totp(secret, digits).generate({ timestamp: atMs });
}

/**
 * The time step whose code `code` is, within {@link TOTP_WINDOW} steps of `atMs`, or null.
 * Anything but exactly {@link TOTP_DIGITS} ASCII digits (spaces between are ignored, as apps
 * show `123 456`) is null.
 */
export function matchTotp(secret: Uint8Array, code: string, atMs: number): number | null {
  const token = code.replace(/ /g, "");
  if (!new RegExp(`^[0-9]{${TOTP_DIGITS}}$`).test(token)) return null;
  const delta = totp(secret).validate({ token, timestamp: atMs, window: TOTP_WINDOW });
  return delta === null ? null : totpStep(atMs) + delta;
}
