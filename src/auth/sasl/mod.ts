/**
 * SASL (RFC 4422) mechanisms, server side, for SMTP AUTH (RFC 4954) and IMAP AUTHENTICATE
 * (RFC 9051 §6.2.2): PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login) and SCRAM-SHA-256
 * (RFC 5802, RFC 7677).
 *
 * Each mechanism is a sans-IO step machine ({@link SaslMechanism}): the protocol layer decodes
 * the client's base64 (and handles its `*` cancel), calls `start` with the initial response
 * and `next` with each answer, and turns each {@link SaslStep} into its own replies. One
 * mechanism object serves one exchange.
 *
 * Invariants and security model:
 * - Every password check goes through {@link Login.checkLogin} (PLAIN, LOGIN) or
 *   {@link ScramLogin} (SCRAM), which refuse banned clients, count and delay failures, write
 *   the `auth failed` line fail2ban reads, and answer an unknown account like a wrong password.
 *   No mechanism says more than `bad-credentials` about why.
 * - App passwords work through PLAIN and LOGIN only. SCRAM proves knowledge of the keys derived
 *   from the account password, so an account with its second factor on (app passwords only)
 *   fails every SCRAM exchange, like a wrong password; its clients use PLAIN over TLS.
 * - A message that breaks a mechanism's syntax fails as `malformed` without checking any
 *   password, so it is not counted: it cannot be used to guess. A message that carries a user
 *   name and a password, however odd the password, is a sign-in attempt and is counted.
 * - No proxy authorisation: an authorisation identity must name the user itself, else the
 *   exchange fails as `authzid` before any password is looked at.
 * - Fields are bounded ({@link MAX_FIELD_OCTETS}); text must be UTF-8.
 * - Offering PLAIN and LOGIN only over TLS is the protocol layer's decision (RFC 4954 §4).
 *
 * @module
 */

import type { Login } from "../login.ts";
import type { ScramLogin } from "../scram_login.ts";
import type { SaslContext, SaslMechanism } from "./_common.ts";
import { LoginMechanism } from "./login.ts";
import { PlainMechanism } from "./plain.ts";
import { ScramMechanism } from "./scram.ts";

export {
  MAX_FIELD_OCTETS,
  type SaslContext,
  type SaslFailureReason,
  type SaslMechanism,
  type SaslStep,
} from "./_common.ts";
export { LoginMechanism } from "./login.ts";
export { parsePlainMessage, PlainMechanism, type PlainMessage } from "./plain.ts";
export { decodeSaslName, ScramMechanism, type ScramMechanismOptions } from "./scram.ts";

/** Names of the mechanisms offered, in order of preference. */
export const SASL_MECHANISMS = ["SCRAM-SHA-256", "PLAIN", "LOGIN"] as const;

/** One of {@link SASL_MECHANISMS}. */
export type SaslMechanismName = typeof SASL_MECHANISMS[number];

/** What {@link Sasl} is built from. */
export interface SaslOptions {
  /** Password sign-in, for PLAIN and LOGIN. */
  readonly login: Pick<Login, "checkLogin">;
  /** SCRAM sign-in. */
  readonly scram: ScramLogin;
}

/**
 * Makes mechanisms for exchanges.
 *
 * @example
 * ```ts
 * const sasl = new Sasl({ login, scram });
 * const mechanism = sasl.create("PLAIN", { protocol: "smtp", ip });
 * if (mechanism === null) return reply(504, "5.5.4", "Unrecognized authentication type");
 * let step = await mechanism.start(initialResponse);
 * while (step.kind === "challenge") step = await mechanism.next(await readResponse(step.data));
 * ```
 */
export class Sasl {
  readonly #login: Pick<Login, "checkLogin">;
  readonly #scram: ScramLogin;

  constructor(options: SaslOptions) {
    this.#login = options.login;
    this.#scram = options.scram;
  }

  /**
   * A mechanism for one exchange, or null when `name` is not one of {@link SASL_MECHANISMS}.
   * Names are compared case-insensitively (clients send them upper case, RFC 4422 §3.1).
   */
  create(name: string, context: SaslContext): SaslMechanism | null {
    switch (name.toUpperCase()) {
      case "SCRAM-SHA-256":
        return new ScramMechanism(this.#scram, context);
      case "PLAIN":
        return new PlainMechanism(this.#login, context);
      case "LOGIN":
        return new LoginMechanism(this.#login, context);
      default:
        return null;
    }
  }
}
