/**
 * The LOGIN mechanism (draft-murchison-sasl-login-00), server side: the challenges `Username:`
 * and `Password:`, the answers checked through {@link Login.checkLogin} (bans, delays, the log
 * line). Obsolete but still what some clients (older Outlook, printers) use.
 *
 * An initial response is taken as the user name (draft §2.1, and what clients send with
 * `AUTH LOGIN <base64 name>`). As for PLAIN, an answer that is not UTF-8, is longer than
 * {@link MAX_FIELD_OCTETS} or is an empty user name is `malformed` and not counted; a user name
 * with any password, an empty one included, is a sign-in attempt and `checkLogin` counts it.
 *
 * @module
 */

import type { Login } from "../login.ts";
import {
  BAD_CREDENTIALS,
  challenge,
  decodeUtf8,
  finished,
  MALFORMED,
  MAX_FIELD_OCTETS,
  type SaslContext,
  type SaslMechanism,
  type SaslStep,
} from "./_common.ts";

/** draft-murchison-sasl-login §2.1: the two challenges, as clients expect them. */
const USERNAME = "Username:";
const PASSWORD = "Password:";

function field(bytes: Uint8Array): string | null {
  return bytes.length > MAX_FIELD_OCTETS ? null : decodeUtf8(bytes);
}

/** LOGIN, for one exchange. */
export class LoginMechanism implements SaslMechanism {
  readonly name = "LOGIN";
  readonly #login: Pick<Login, "checkLogin">;
  readonly #context: SaslContext;
  #state: "new" | "username" | "password" | "done" = "new";
  #username = "";

  constructor(login: Pick<Login, "checkLogin">, context: SaslContext) {
    this.#login = login;
    this.#context = context;
  }

  start(initial: Uint8Array | null): Promise<SaslStep> {
    if (this.#state !== "new") return finished(this.name);
    if (initial === null || initial.length === 0) {
      this.#state = "username";
      return Promise.resolve(challenge(USERNAME));
    }
    return Promise.resolve(this.#takeUsername(initial));
  }

  async next(response: Uint8Array): Promise<SaslStep> {
    if (this.#state === "username") return this.#takeUsername(response);
    if (this.#state !== "password") return finished(this.name);
    this.#state = "done";
    const password = field(response);
    if (password === null) return MALFORMED;
    const account = await this.#login.checkLogin(this.#username, password, this.#context);
    return account === null ? BAD_CREDENTIALS : { kind: "success", account };
  }

  #takeUsername(bytes: Uint8Array): SaslStep {
    const username = field(bytes);
    if (username === null || username === "") {
      this.#state = "done";
      return MALFORMED;
    }
    this.#username = username;
    this.#state = "password";
    return challenge(PASSWORD);
  }
}
