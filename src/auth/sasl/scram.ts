/**
 * The SCRAM-SHA-256 mechanism (RFC 5802, RFC 7677), server side: the wire format of the four
 * messages, over {@link ScramLogin} (src/auth/scram_login.ts), which holds the accounts, the
 * bans and the no-enumeration rules.
 *
 * ```
 * C: n,,n=user,r=<client nonce>                              client-first-message
 * S: r=<client nonce><server nonce>,s=<salt>,i=<iterations>  server-first-message
 * C: c=biws,r=<both nonces>,p=<proof>                        client-final-message
 * S: v=<server signature>                                    server-final-message (success data)
 * ```
 *
 * Scope: no channel binding (this is not SCRAM-SHA-256-PLUS). A client that cannot bind
 * (`n`) or could but thinks the server cannot (`y`, RFC 5802 §6: right, since no -PLUS variant
 * is offered) is served; one that asks to bind (`p=`) is refused as `malformed`. The reserved
 * `m=` attribute is refused (RFC 5802 §5.1: its presence MUST fail the exchange); other
 * extension attributes are skipped. An authorisation identity (`a=`) must name the user.
 *
 * The user name is decoded from its saslname form (`=2C`, `=3D`) and prepared (RFC 5802 §5.1
 * asks for SASLprep; we use its successor, the OpaqueString profile of RFC 8265, as
 * src/crypto/scram.ts does for passwords); a name that cannot be prepared is `malformed`. The
 * password never reaches the server: the client proves it knows it.
 *
 * Counting: only a well-formed client-final-message has its proof checked, and so counts as a
 * failed sign-in (through ScramLogin); a malformed message is `malformed`, not counted, and has
 * taught the client nothing but the salt, which any client is shown.
 *
 * @module
 */

import { tryPrepareOpaqueString } from "../../crypto/saslprep.ts";
import type { ScramAttempt, ScramLogin } from "../scram_login.ts";
import {
  AUTHZID,
  BAD_CREDENTIALS,
  challenge,
  decodeUtf8,
  finished,
  MALFORMED,
  MAX_FIELD_OCTETS,
  sameIdentity,
  type SaslContext,
  type SaslMechanism,
  type SaslStep,
  tooLong,
} from "./_common.ts";

/** The longest client message accepted, in octets. */
const MAX_MESSAGE_OCTETS = 4 * MAX_FIELD_OCTETS;
/** Random bytes in the server's part of the nonce. */
const SERVER_NONCE_BYTES = 18;

/** RFC 5802 §7: printable = %x21-2B / %x2D-7E (no comma). */
const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;
/** RFC 5802 §7: attr-val = ALPHA "=" value, for the extensions skipped. */
const EXTENSION = /^[A-Za-z]=/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const encoder = new TextEncoder();

/** Options of {@link ScramMechanism}. */
export interface ScramMechanismOptions {
  /**
   * The server's part of the nonce (RFC 5802 §5.1: printable ASCII without ","); defaults to
   * 18 random bytes in base64. For tests with fixed vectors.
   */
  readonly nonce?: () => string;
}

/** Decodes a saslname (RFC 5802 §5.1: "=2C" is ",", "=3D" is "="); null when malformed. */
export function decodeSaslName(text: string): string | null {
  if (text === "" || tooLong(text)) return null;
  const out = text.replace(/=2C|=3D/g, (escape) => escape === "=2C" ? "," : "=");
  // Any "=" left over in the input was not part of an escape.
  if (text.replace(/=2C|=3D/g, "").includes("=")) return null;
  return out;
}

function decodeBase64(text: string): Uint8Array | null {
  if (!BASE64.test(text)) return null;
  try {
    return Uint8Array.fromBase64(text, { lastChunkHandling: "strict" });
  } catch {
    return null;
  }
}

function randomNonce(): string {
  return crypto.getRandomValues(new Uint8Array(SERVER_NONCE_BYTES)).toBase64();
}

/** What the client-first-message said. */
interface ClientFirst {
  /** The gs2-header as sent ("n,," …), which `c=` must repeat. */
  readonly gs2Header: string;
  /** client-first-message-bare, part of the AuthMessage. */
  readonly bare: string;
  readonly username: string;
  readonly authzid: string | null;
  readonly nonce: string;
}

/**
 * Parses a client-first-message (RFC 5802 §7); null when malformed (including `p=` channel
 * binding, the `m=` extension, and user names that cannot be prepared).
 */
function parseClientFirst(text: string): ClientFirst | null {
  const flagEnd = text.indexOf(",");
  const headerEnd = flagEnd === -1 ? -1 : text.indexOf(",", flagEnd + 1);
  if (headerEnd === -1) return null;
  const flag = text.slice(0, flagEnd);
  // RFC 5802 §7: gs2-cbind-flag; "p=" asks for channel binding, which we do not offer.
  if (flag !== "n" && flag !== "y") return null;
  const authzidField = text.slice(flagEnd + 1, headerEnd);
  let authzid: string | null = null;
  if (authzidField !== "") {
    if (!authzidField.startsWith("a=")) return null;
    authzid = decodeSaslName(authzidField.slice(2));
    if (authzid === null) return null;
  }
  const bare = text.slice(headerEnd + 1);
  const [userField = "", nonceField = "", ...extensions] = bare.split(",");
  // RFC 5802 §7: reserved-mext comes first and must fail the exchange (§5.1).
  if (!userField.startsWith("n=") || !nonceField.startsWith("r=")) return null;
  const typed = decodeSaslName(userField.slice(2));
  const username = typed === null ? null : tryPrepareOpaqueString(typed); // RFC 5802 §5.1
  const nonce = nonceField.slice(2);
  if (username === null || !NONCE.test(nonce) || nonce.length > MAX_FIELD_OCTETS) return null;
  if (extensions.some((ext) => !EXTENSION.test(ext) || ext.startsWith("m="))) return null;
  return { gs2Header: text.slice(0, headerEnd + 1), bare, username, authzid, nonce };
}

/** SCRAM-SHA-256 without channel binding, for one exchange. */
export class ScramMechanism implements SaslMechanism {
  readonly name = "SCRAM-SHA-256";
  readonly #scram: ScramLogin;
  readonly #context: SaslContext;
  readonly #nonce: () => string;
  #state: "new" | "first" | "final" | "done" = "new";
  #first: ClientFirst | null = null;
  #serverFirst = "";
  #combinedNonce = "";
  #attempt: ScramAttempt | null = null;

  constructor(scram: ScramLogin, context: SaslContext, options: ScramMechanismOptions = {}) {
    this.#scram = scram;
    this.#context = context;
    this.#nonce = options.nonce ?? randomNonce;
  }

  /** No (or an empty) initial response: an empty challenge asks for client-first-message. */
  start(initial: Uint8Array | null): Promise<SaslStep> {
    if (this.#state !== "new") return finished(this.name);
    if (initial === null || initial.length === 0) {
      this.#state = "first";
      return Promise.resolve({ kind: "challenge", data: new Uint8Array(0) });
    }
    return this.#clientFirst(initial);
  }

  next(response: Uint8Array): Promise<SaslStep> {
    if (this.#state === "first") return this.#clientFirst(response);
    if (this.#state === "final") return this.#clientFinal(response);
    return finished(this.name);
  }

  async #clientFirst(message: Uint8Array): Promise<SaslStep> {
    this.#state = "done";
    const text = message.length > MAX_MESSAGE_OCTETS ? null : decodeUtf8(message);
    const first = text === null ? null : parseClientFirst(text);
    if (first === null) return MALFORMED;
    if (first.authzid !== null && !sameIdentity(first.authzid, first.username)) return AUTHZID;
    const attempt = await this.#scram.start(first.username, this.#context);
    if (attempt === null) return BAD_CREDENTIALS; // banned: logged and delayed
    this.#first = first;
    this.#attempt = attempt;
    this.#combinedNonce = first.nonce + this.#nonce(); // RFC 5802 §5.1: r= starts with the client's
    this.#serverFirst =
      `r=${this.#combinedNonce},s=${attempt.salt.toBase64()},i=${attempt.iterations}`;
    this.#state = "final";
    return challenge(this.#serverFirst);
  }

  async #clientFinal(message: Uint8Array): Promise<SaslStep> {
    this.#state = "done";
    const first = this.#first!;
    const attempt = this.#attempt!;
    const text = message.length > MAX_MESSAGE_OCTETS ? null : decodeUtf8(message);
    if (text === null) return MALFORMED;
    // RFC 5802 §7: client-final-message = client-final-message-without-proof "," proof.
    const proofAt = text.lastIndexOf(",p=");
    if (proofAt === -1) return MALFORMED;
    const withoutProof = text.slice(0, proofAt);
    const proof = decodeBase64(text.slice(proofAt + 3));
    const [binding = "", nonce = "", ...extensions] = withoutProof.split(",");
    if (proof === null || !binding.startsWith("c=") || !nonce.startsWith("r=")) return MALFORMED;
    // RFC 5802 §5.1: without channel binding, c= is the base64 of the gs2-header as sent.
    const cbind = decodeBase64(binding.slice(2));
    if (cbind === null || !equalBytes(cbind, encoder.encode(first.gs2Header))) return MALFORMED;
    // RFC 5802 §5.1: the nonce MUST be the one from server-first-message.
    if (nonce.slice(2) !== this.#combinedNonce) return MALFORMED;
    if (extensions.some((ext) => !EXTENSION.test(ext) || ext.startsWith("m="))) return MALFORMED;
    // RFC 5802 §3: AuthMessage := client-first-message-bare + "," + server-first-message + ","
    // + client-final-message-without-proof.
    const authMessage = `${first.bare},${this.#serverFirst},${withoutProof}`;
    const verified = await attempt.verify(authMessage, proof);
    if (verified === null) return BAD_CREDENTIALS;
    // RFC 5802 §5.1: server-final-message = verifier ("v=" base64 ServerSignature).
    const data = encoder.encode(`v=${verified.serverSignature.toBase64()}`);
    return { kind: "success", account: verified.account, data };
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}
