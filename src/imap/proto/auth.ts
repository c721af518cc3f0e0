/**
 * The commands that sign in: AUTHENTICATE (RFC 9051 §6.2.2, with the initial response of
 * SASL-IR, RFC 4959) and LOGIN (RFC 9051 §6.2.3). Which mechanisms exist, and whether
 * signing in is allowed before TLS, is the session's business.
 *
 * @module
 */

import type { Reader } from "./_lexer.ts";

/** `AUTHENTICATE mechanism [initial-response]`. */
export interface AuthenticateCommand {
  readonly name: "AUTHENTICATE";
  /** The SASL mechanism (RFC 9051 §9 `auth-type` = atom), in upper case. */
  readonly mechanism: string;
  /**
   * The initial response as sent (RFC 4959 §7): base64 text (checked to be base64, not
   * decoded), `"="` for an empty response, or null when there is none.
   */
  readonly initialResponse: string | null;
}

/** `LOGIN user password`. */
export interface LoginCommand {
  readonly name: "LOGIN";
  /** RFC 9051 §9 `userid` = astring, as UTF-8. */
  readonly user: string;
  /** RFC 9051 §9 `password` = astring, as UTF-8 (a literal carries any octets but NUL). */
  readonly password: string;
}

// RFC 9051 §9: base64 = *(4base64-char) [base64-terminal]
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Parses AUTHENTICATE's arguments. */
export function parseAuthenticate(r: Reader): AuthenticateCommand {
  // RFC 9051 §9: authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp]
  r.sp("SASL mechanism name");
  const mechanism = r.keyword("SASL mechanism name");
  let initialResponse: string | null = null;
  if (r.more()) {
    r.sp("initial response");
    // RFC 4959 §7: initial-resp = (base64 / "=")
    initialResponse = r.token("initial response");
    if (initialResponse !== "=" && !BASE64.test(initialResponse)) {
      r.fail('The initial response is neither base64 nor "="');
    }
  }
  return { name: "AUTHENTICATE", mechanism, initialResponse };
}

/** Parses LOGIN's arguments. */
export function parseLogin(r: Reader): LoginCommand {
  // RFC 9051 §9: login = "LOGIN" SP userid SP password
  r.sp("user name");
  const user = r.astring("user name");
  r.sp("password");
  const password = r.astring("password");
  return { name: "LOGIN", user, password };
}
