/**
 * The PLAIN mechanism (RFC 4616), server side: one message `[authzid] NUL authcid NUL passwd`,
 * checked through {@link Login.checkLogin} (bans, delays, the log line).
 *
 * What counts as a failed sign-in: a message with a user name and a password (even an empty
 * one) goes to `checkLogin`, which counts and delays the failure. A message without that shape
 * — not two NULs, invalid UTF-8, a field over {@link MAX_FIELD_OCTETS}, an empty user name — is
 * `malformed` and checks no password, so it is not counted (there is nothing to guess with it).
 * An authorisation identity other than the user's own is refused (`authzid`) before the
 * password is looked at: Fumi has no proxy sign-in.
 *
 * @module
 */

import type { Login } from "../login.ts";
import {
  AUTHZID,
  BAD_CREDENTIALS,
  decodeUtf8,
  finished,
  MALFORMED,
  MAX_FIELD_OCTETS,
  sameIdentity,
  type SaslContext,
  type SaslMechanism,
  type SaslStep,
} from "./_common.ts";

const NUL = 0x00;

/** The three fields of a PLAIN message. */
export interface PlainMessage {
  /** Empty when the client sent none. */
  readonly authzid: string;
  readonly authcid: string;
  readonly password: string;
}

/**
 * Splits a PLAIN message (RFC 4616 §2); null when it is malformed: not exactly two NULs,
 * invalid UTF-8, a field longer than {@link MAX_FIELD_OCTETS} octets, or an empty authcid.
 * The password may be empty (that is a wrong password, not a syntax error).
 */
export function parsePlainMessage(message: Uint8Array): PlainMessage | null {
  const first = message.indexOf(NUL);
  const second = first === -1 ? -1 : message.indexOf(NUL, first + 1);
  if (second === -1 || message.indexOf(NUL, second + 1) !== -1) return null; // RFC 4616 §2
  const parts = [
    message.subarray(0, first),
    message.subarray(first + 1, second),
    message.subarray(second + 1),
  ];
  if (parts.some((part) => part.length > MAX_FIELD_OCTETS)) return null;
  const [authzid, authcid, password] = parts.map(decodeUtf8);
  // RFC 4616 §2: authcid = 1*SAFE; every field is UTF-8.
  if (authzid == null || authcid == null || password == null || authcid === "") return null;
  return { authzid, authcid, password };
}

/** PLAIN, for one exchange. */
export class PlainMechanism implements SaslMechanism {
  readonly name = "PLAIN";
  readonly #login: Pick<Login, "checkLogin">;
  readonly #context: SaslContext;
  #state: "new" | "waiting" | "done" = "new";

  constructor(login: Pick<Login, "checkLogin">, context: SaslContext) {
    this.#login = login;
    this.#context = context;
  }

  /** No (or an empty) initial response: an empty challenge asks for the message (RFC 4616 §2). */
  start(initial: Uint8Array | null): Promise<SaslStep> {
    if (this.#state !== "new") return finished(this.name);
    if (initial === null || initial.length === 0) {
      this.#state = "waiting";
      return Promise.resolve({ kind: "challenge", data: new Uint8Array(0) });
    }
    return this.#check(initial);
  }

  next(response: Uint8Array): Promise<SaslStep> {
    if (this.#state !== "waiting") return finished(this.name);
    return this.#check(response);
  }

  async #check(message: Uint8Array): Promise<SaslStep> {
    this.#state = "done";
    const parsed = parsePlainMessage(message);
    if (parsed === null) return MALFORMED;
    // RFC 4616 §2: an authzid asks to act as that identity; only one's own is allowed.
    if (parsed.authzid !== "" && !sameIdentity(parsed.authzid, parsed.authcid)) return AUTHZID;
    const account = await this.#login.checkLogin(parsed.authcid, parsed.password, this.#context);
    return account === null ? BAD_CREDENTIALS : { kind: "success", account };
  }
}
