/**
 * What every SASL mechanism shares: the step type, the mechanism interface, and the checks on
 * client text. Re-exported by mod.ts; the mechanisms import it from here so that mod.ts (which
 * imports them) sits above them.
 *
 * @module
 */

import { normalizeAccount } from "../bans.ts";
import type { SignedIn } from "../login.ts";

/** The outcome of one step of a SASL exchange (RFC 4422 §3). */
export type SaslStep =
  /** Send the data as a challenge (SMTP: `334 base64(data)`) and pass the answer to `next`. */
  | { readonly kind: "challenge"; readonly data: Uint8Array }
  /**
   * Signed in. With `data` (SCRAM's server-final-message), send it as a challenge and wait for
   * an empty response before the success reply (RFC 4954 §4).
   */
  | { readonly kind: "success"; readonly account: SignedIn; readonly data?: Uint8Array }
  /**
   * Refused. `bad-credentials`: wrong name or password, or a banned client (already counted,
   * logged and delayed); `malformed`: the client broke the mechanism's syntax (not counted);
   * `authzid`: it asked to act as another user, which is not supported.
   */
  | { readonly kind: "failure"; readonly reason: SaslFailureReason };

/** Why an exchange failed. */
export type SaslFailureReason = "bad-credentials" | "malformed" | "authzid";

/**
 * A server-side mechanism: a sans-IO step machine. `start` once, then `next` with each client
 * response until a success or failure; a call out of turn is a bug and rejects. Responses are
 * the decoded bytes (base64 and the client's `*` cancel are the protocol layer's business).
 */
export interface SaslMechanism {
  /** The mechanism's registered name (RFC 4422 §3.1), upper case. */
  readonly name: string;
  /** Begins with the client's initial response, or null when it sent none. */
  start(initial: Uint8Array | null): Promise<SaslStep>;
  /** Continues with the client's response to the last challenge. */
  next(response: Uint8Array): Promise<SaslStep>;
}

/** Where an exchange comes from (as src/auth/login.ts `LoginContext`). */
export interface SaslContext {
  /** `smtp`, `imap`, …: lower-case letters, digits and hyphens. */
  readonly protocol: string;
  /** The client's address as the socket reports it. */
  readonly ip: string;
}

/** The longest field (user name, password, authzid, nonce) accepted, in octets. */
export const MAX_FIELD_OCTETS = 1024;

/** The failure for a message that breaks the mechanism's syntax. */
export const MALFORMED: SaslStep = Object.freeze({ kind: "failure", reason: "malformed" });

/** The failure for wrong credentials (counted and delayed where they were checked). */
export const BAD_CREDENTIALS: SaslStep = Object.freeze({
  kind: "failure",
  reason: "bad-credentials",
});

/** The failure for an authorisation identity other than the user's own. */
export const AUTHZID: SaslStep = Object.freeze({ kind: "failure", reason: "authzid" });

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** Decodes UTF-8 strictly; null for invalid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** A challenge carrying `text` as UTF-8. */
export function challenge(text: string): SaslStep {
  return { kind: "challenge", data: encoder.encode(text) };
}

/** The rejection for a call out of turn, after the exchange ended, say (a bug in the caller). */
export function finished(name: string): Promise<never> {
  return Promise.reject(new Error(`The ${name} exchange has ended or not begun; use a new one`));
}

/**
 * True when an authorisation identity names the authenticating user itself (compared as
 * src/auth/bans.ts `normalizeAccount` forms them: case-insensitive, canonical addresses).
 */
export function sameIdentity(authzid: string, user: string): boolean {
  return normalizeAccount(authzid) === normalizeAccount(user);
}

/** True when `text` is longer than {@link MAX_FIELD_OCTETS} in UTF-8. */
export function tooLong(text: string): boolean {
  // Every UTF-16 unit is at most 3 octets; only count exactly near the bound.
  return text.length * 3 > MAX_FIELD_OCTETS && encoder.encode(text).length > MAX_FIELD_OCTETS;
}
