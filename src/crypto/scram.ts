/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) credentials and the server-side proof primitives.
 *
 * What is stored per account is never the password, nor SaltedPassword, but the pair
 * StoredKey / ServerKey with its salt and iteration count (RFC 5802 §3), in the text form
 * PostgreSQL uses:
 *
 * ```
 * SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>
 * ```
 *
 * Security model: StoredKey lets a server check a client proof but not produce one; ServerKey
 * lets it prove itself to the client. Both are secrets (together with a transcript they allow
 * impersonating the server), so error messages never include them. Proofs are compared in
 * constant time. Passwords are prepared with the OpaqueString profile (RFC 8265), which RFC 7677
 * §4 permits in place of SASLprep, so the same password in any Unicode form gives the same keys.
 *
 * Only Web Crypto is used: PBKDF2-HMAC-SHA-256 is Hi() (RFC 5802 §2.2), HMAC-SHA-256 is HMAC(),
 * SHA-256 is H().
 *
 * @module
 */

import { InvalidInputError } from "../util/errors.ts";
import { prepareOpaqueString } from "./saslprep.ts";

/** The mechanism name, and the prefix of the stored text form. */
export const SCRAM_SHA_256 = "SCRAM-SHA-256";

/** RFC 7677 §4: the iteration count SHOULD be at least 4096; we require it. */
export const SCRAM_MIN_ITERATIONS = 4096;

/** The iteration count used for new credentials unless the caller asks for more. */
export const SCRAM_DEFAULT_ITERATIONS = 10000;

/** Iteration counts above this are refused: the client has to compute them (int32, like PG). */
export const SCRAM_MAX_ITERATIONS = 0x7fffffff;

/** Length of a generated salt in bytes. */
export const SCRAM_SALT_LENGTH = 16;

/** Output length of SHA-256, and so of every key and proof, in bytes. */
const KEY_LENGTH = 32;

/** The stored form of a SCRAM-SHA-256 credential. */
export interface ScramCredentials {
  /** Iteration count i for Hi() (RFC 5802 §2.2). */
  readonly iterations: number;
  /** The salt sent to the client in server-first-message. */
  readonly salt: Uint8Array;
  /** StoredKey := H(ClientKey) (RFC 5802 §3). */
  readonly storedKey: Uint8Array;
  /** ServerKey := HMAC(SaltedPassword, "Server Key") (RFC 5802 §3). */
  readonly serverKey: Uint8Array;
}

/** Options for {@link deriveScramCredentials}. */
export interface ScramDeriveOptions {
  /** Iteration count, at least {@link SCRAM_MIN_ITERATIONS}; default {@link SCRAM_DEFAULT_ITERATIONS}. */
  readonly iterations?: number;
  /** Salt; default {@link SCRAM_SALT_LENGTH} random bytes. */
  readonly salt?: Uint8Array;
}

const encoder = new TextEncoder();

/** A copy backed by a plain ArrayBuffer, as Web Crypto's BufferSource wants. */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

function toBytes(message: string | Uint8Array): Uint8Array<ArrayBuffer> {
  return typeof message === "string" ? encoder.encode(message) : own(message);
}

async function hmac(key: Uint8Array, message: string | Uint8Array): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    own(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, toBytes(message)));
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", own(data)));
}

/** Compares two byte strings in time that depends only on their lengths. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

function checkIterations(iterations: number): void {
  if (
    !Number.isSafeInteger(iterations) || iterations < SCRAM_MIN_ITERATIONS ||
    iterations > SCRAM_MAX_ITERATIONS
  ) {
    throw new InvalidInputError(
      `SCRAM iteration count must be an integer from ${SCRAM_MIN_ITERATIONS} to ${SCRAM_MAX_ITERATIONS}, not ${iterations}`,
    );
  }
}

/**
 * Derives the SCRAM-SHA-256 credentials for a password (RFC 5802 §3):
 * SaltedPassword := Hi(Normalize(password), salt, i), ClientKey := HMAC(SaltedPassword,
 * "Client Key"), StoredKey := H(ClientKey), ServerKey := HMAC(SaltedPassword, "Server Key").
 *
 * @example
 * ```ts
 * const creds = await deriveScramCredentials("pencil");
 * const text = formatScram(creds); // "SCRAM-SHA-256$10000:…$…:…"
 * ```
 * @throws {InvalidInputError} when the password fails OpaqueString preparation, the iteration
 * count is below 4096 (RFC 7677 §4) or not an integer, or the salt is empty.
 */
export async function deriveScramCredentials(
  password: string,
  options: ScramDeriveOptions = {},
): Promise<ScramCredentials> {
  const iterations = options.iterations ?? SCRAM_DEFAULT_ITERATIONS;
  checkIterations(iterations);
  const salt = options.salt === undefined
    ? crypto.getRandomValues(new Uint8Array(SCRAM_SALT_LENGTH))
    : own(options.salt);
  if (salt.length === 0) throw new InvalidInputError("SCRAM salt must not be empty");
  // RFC 7677 §4 / RFC 8265 §4.2: Normalize() is the OpaqueString profile.
  const normalized = encoder.encode(prepareOpaqueString(password));
  const passwordKey = await crypto.subtle.importKey("raw", normalized, "PBKDF2", false, [
    "deriveBits",
  ]);
  // RFC 5802 §2.2: Hi() is PBKDF2 with HMAC as the PRF and dkLen the hash's output length.
  const saltedPassword = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt, iterations },
      passwordKey,
      KEY_LENGTH * 8,
    ),
  );
  const clientKey = await hmac(saltedPassword, "Client Key"); // RFC 5802 §3
  const storedKey = await sha256(clientKey); // RFC 5802 §3
  const serverKey = await hmac(saltedPassword, "Server Key"); // RFC 5802 §3
  saltedPassword.fill(0);
  clientKey.fill(0);
  return { iterations, salt, storedKey, serverKey };
}

/**
 * Serialises credentials as `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, each
 * binary value in padded standard base64 (the form PostgreSQL stores in `pg_authid`).
 */
export function formatScram(creds: ScramCredentials): string {
  return `${SCRAM_SHA_256}$${creds.iterations}:${creds.salt.toBase64()}$${creds.storedKey.toBase64()}:${creds.serverKey.toBase64()}`;
}

const SCRAM_TEXT =
  /^SCRAM-SHA-256\$([0-9]{1,10}):([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2}):([A-Za-z0-9+/]+={0,2})$/;

function decodeBase64(text: string, what: string): Uint8Array {
  try {
    return Uint8Array.fromBase64(text, { lastChunkHandling: "strict" });
  } catch (error) {
    throw new InvalidInputError(`Cannot parse SCRAM credentials: ${what} is not valid base64`, {
      cause: error,
    });
  }
}

/**
 * Parses the text form written by {@link formatScram}.
 *
 * @throws {InvalidInputError} when the text is not of that form, a value is not canonical
 * base64, a key is not 32 bytes, the salt is empty, or the iteration count is below 4096
 * (RFC 7677 §4). The message never includes the keys.
 */
export function parseScram(text: string): ScramCredentials {
  const match = SCRAM_TEXT.exec(text);
  if (match === null) {
    const reason = text.startsWith(`${SCRAM_SHA_256}$`)
      ? "not of the form SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>"
      : "not a SCRAM-SHA-256 credential";
    throw new InvalidInputError(`Cannot parse SCRAM credentials: ${reason}`);
  }
  const [, iterationText = "", saltText = "", storedText = "", serverText = ""] = match;
  const iterations = Number(iterationText);
  if (iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS) {
    throw new InvalidInputError(
      `Cannot parse SCRAM credentials: iteration count ${iterations} is below the minimum of ${SCRAM_MIN_ITERATIONS} or too large`,
    );
  }
  const salt = decodeBase64(saltText, "the salt");
  const storedKey = decodeBase64(storedText, "StoredKey");
  const serverKey = decodeBase64(serverText, "ServerKey");
  if (salt.length === 0) throw new InvalidInputError("Cannot parse SCRAM credentials: empty salt");
  if (storedKey.length !== KEY_LENGTH || serverKey.length !== KEY_LENGTH) {
    throw new InvalidInputError(
      `Cannot parse SCRAM credentials: StoredKey and ServerKey must be ${KEY_LENGTH} bytes`,
    );
  }
  return { iterations, salt, storedKey, serverKey };
}

/**
 * Computes ServerSignature := HMAC(ServerKey, AuthMessage) (RFC 5802 §3), which the server
 * sends base64-encoded as `v=` in server-final-message.
 *
 * `authMessage` is client-first-message-bare + "," + server-first-message + "," +
 * client-final-message-without-proof; a string is encoded as UTF-8.
 */
export function computeServerSignature(
  serverKey: Uint8Array,
  authMessage: string | Uint8Array,
): Promise<Uint8Array> {
  return hmac(serverKey, authMessage);
}

/**
 * Checks a client's proof (RFC 5802 §3): ClientSignature := HMAC(StoredKey, AuthMessage),
 * ClientKey := ClientProof XOR ClientSignature, and the proof is good when H(ClientKey) equals
 * StoredKey. The final comparison is constant-time. A proof of the wrong length is `false`.
 */
export async function verifyClientProof(
  storedKey: Uint8Array,
  authMessage: string | Uint8Array,
  clientProof: Uint8Array,
): Promise<boolean> {
  if (storedKey.length !== KEY_LENGTH || clientProof.length !== KEY_LENGTH) return false;
  const clientSignature = await hmac(storedKey, authMessage); // RFC 5802 §3
  const clientKey = new Uint8Array(KEY_LENGTH);
  for (let i = 0; i < KEY_LENGTH; i++) {
    clientKey[i] = (clientProof[i] ?? 0) ^ (clientSignature[i] ?? 0); // RFC 5802 §3
  }
  const candidate = await sha256(clientKey); // RFC 5802 §3: StoredKey := H(ClientKey)
  clientKey.fill(0);
  return constantTimeEqual(candidate, storedKey);
}
