/**
 * Password hashing with Argon2id (RFC 9106) through hash-wasm, stored as a PHC string:
 *
 * ```
 * $argon2id$v=19$m=19456,t=2,p=1$<salt, unpadded base64>$<hash, unpadded base64>
 * ```
 *
 * Parameters are OWASP's minimum for Argon2id (19 MiB, two passes, one lane), a 16-byte random
 * salt (RFC 9106 §3.1 recommends 16 bytes) and a 32-byte tag. Passwords are prepared with the
 * PRECIS OpaqueString profile first, so "café" typed precomposed or decomposed verifies alike.
 *
 * Invariants and security model:
 * - {@link verifyPassword} never throws for a bad stored hash: anything but a well-formed
 *   argon2id v19 string with sane parameters is `false`. Parameters above generous bounds are
 *   refused too, so a tampered row cannot make a login allocate gigabytes.
 * - The computed tag is compared in constant time (hash-wasm's own `argon2Verify` compares
 *   strings with `===`, and accepts argon2i/argon2d too, so it is not used).
 * - {@link dummyVerify} runs the same preparation and the same Argon2id computation as a real
 *   verification with current parameters, so a caller can spend the same time on an unknown
 *   account as on a known one (no user enumeration by timing).
 * - Argon2id in WASM costs tens of milliseconds here; callers cache successes (see DESIGN.md).
 *
 * @module
 */

import { argon2id } from "hash-wasm";
import { prepareOpaqueString, tryPrepareOpaqueString } from "./saslprep.ts";

/** Argon2id cost parameters as stored in a PHC string. */
export interface Argon2idParams {
  /** Memory in KiB (`m`). */
  readonly memorySize: number;
  /** Number of passes (`t`). */
  readonly iterations: number;
  /** Degree of parallelism (`p`). */
  readonly parallelism: number;
  /** Tag length in bytes. */
  readonly hashLength: number;
  /** Salt length in bytes. */
  readonly saltLength: number;
}

/** The parameters new hashes get; older hashes below them need a rehash. */
export const ARGON2ID_PARAMS: Argon2idParams = Object.freeze({
  memorySize: 19456, // OWASP Password Storage Cheat Sheet minimum for Argon2id
  iterations: 2,
  parallelism: 1,
  hashLength: 32,
  saltLength: 16, // RFC 9106 §3.1: 128 bits of salt
});

// Upper bounds for parameters read from storage; far above anything we would ever choose.
const MAX_MEMORY_KIB = 1 << 20; // 1 GiB
const MAX_ITERATIONS = 64;
const MAX_PARALLELISM = 16;
const MIN_SALT = 8; // RFC 9106 §3.1 minimum, and hash-wasm's
const MAX_SALT = 64;
const MIN_TAG = 4; // RFC 9106 §3.1 minimum tag length
const MAX_TAG = 64;

/** A parsed PHC string. */
interface ParsedHash {
  readonly memorySize: number;
  readonly iterations: number;
  readonly parallelism: number;
  readonly salt: Uint8Array<ArrayBuffer>;
  readonly tag: Uint8Array;
}

// PHC string format: $<id>$v=<version>$<params>$<salt>$<hash>, base64 without padding. Only
// argon2id and version 0x13 (19), the current one (RFC 9106 §3.1), with params in m,t,p order.
const PHC =
  /^\$argon2id\$v=19\$m=([0-9]{1,8}),t=([0-9]{1,3}),p=([0-9]{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function decodeUnpadded(text: string): Uint8Array<ArrayBuffer> | null {
  // Unpadded base64 has length ≡ 0, 2 or 3 (mod 4); ≡ 1 cannot come from whole bytes.
  if (text.length % 4 === 1) return null;
  const bytes = Uint8Array.fromBase64(text, { lastChunkHandling: "loose" });
  // Canonical only: non-zero trailing bits would let two strings stand for one value.
  return bytes.toBase64({ omitPadding: true }) === text ? bytes : null;
}

function parseHash(phc: string): ParsedHash | null {
  const match = PHC.exec(phc);
  if (match === null) return null;
  const [, m = "", t = "", p = "", saltText = "", tagText = ""] = match;
  const memorySize = Number(m);
  const iterations = Number(t);
  const parallelism = Number(p);
  if (parallelism < 1 || parallelism > MAX_PARALLELISM) return null;
  if (iterations < 1 || iterations > MAX_ITERATIONS) return null;
  // RFC 9106 §3.1: memory must be at least 8 KiB per lane.
  if (memorySize < 8 * parallelism || memorySize > MAX_MEMORY_KIB) return null;
  const salt = decodeUnpadded(saltText);
  const tag = decodeUnpadded(tagText);
  if (salt === null || salt.length < MIN_SALT || salt.length > MAX_SALT) return null;
  if (tag === null || tag.length < MIN_TAG || tag.length > MAX_TAG) return null;
  return { memorySize, iterations, parallelism, salt, tag };
}

/** Compares two byte strings in time that depends only on their lengths. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

function computeTag(prepared: string, hash: ParsedHash): Promise<Uint8Array> {
  return argon2id({
    password: prepared,
    salt: hash.salt,
    iterations: hash.iterations,
    parallelism: hash.parallelism,
    memorySize: hash.memorySize,
    hashLength: hash.tag.length,
    outputType: "binary",
  });
}

/**
 * Hashes a password with Argon2id and the current {@link ARGON2ID_PARAMS}, after OpaqueString
 * preparation, and returns the PHC string.
 *
 * @example
 * ```ts
 * const phc = await hashPassword("correct horse battery staple");
 * // "$argon2id$v=19$m=19456,t=2,p=1$…$…"
 * ```
 * @throws {InvalidInputError} when the password is empty or holds disallowed code points.
 */
export function hashPassword(password: string): Promise<string> {
  const prepared = prepareOpaqueString(password);
  return argon2id({
    password: prepared,
    salt: crypto.getRandomValues(new Uint8Array(ARGON2ID_PARAMS.saltLength)),
    iterations: ARGON2ID_PARAMS.iterations,
    parallelism: ARGON2ID_PARAMS.parallelism,
    memorySize: ARGON2ID_PARAMS.memorySize,
    hashLength: ARGON2ID_PARAMS.hashLength,
    outputType: "encoded",
  });
}

/**
 * Checks a password against a PHC string made by {@link hashPassword} (or any argon2id v19
 * PHC string with parameters within sane bounds).
 *
 * Returns `false`, and never throws, when the hash is malformed or the password cannot be
 * prepared (it could never have been hashed).
 */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  const hash = parseHash(phc);
  if (hash === null) return false;
  const prepared = tryPrepareOpaqueString(password);
  if (prepared === null) return false;
  return constantTimeEqual(await computeTag(prepared, hash), hash.tag);
}

/**
 * True when a stored hash should be replaced on the next successful login: it is malformed,
 * or its memory, passes, salt or tag length are below {@link ARGON2ID_PARAMS}.
 */
export function needsRehash(phc: string): boolean {
  const hash = parseHash(phc);
  if (hash === null) return true;
  return hash.memorySize < ARGON2ID_PARAMS.memorySize ||
    hash.iterations < ARGON2ID_PARAMS.iterations ||
    hash.salt.length < ARGON2ID_PARAMS.saltLength ||
    hash.tag.length < ARGON2ID_PARAMS.hashLength;
}

// A stand-in hash with the current parameters. Its tag is all zeros, which no password
// produces in practice; the computation is what matters, not the answer.
const DUMMY_HASH: ParsedHash = {
  memorySize: ARGON2ID_PARAMS.memorySize,
  iterations: ARGON2ID_PARAMS.iterations,
  parallelism: ARGON2ID_PARAMS.parallelism,
  salt: new Uint8Array(ARGON2ID_PARAMS.saltLength).fill(0x5a),
  tag: new Uint8Array(ARGON2ID_PARAMS.hashLength),
};

/**
 * Spends the time of a real {@link verifyPassword} against a current-parameter hash and
 * resolves to `false`. Use it when the account does not exist, so that the answer and its
 * timing are the same as for a wrong password.
 *
 * @example
 * ```ts
 * const ok = account ? await verifyPassword(account.hash, pw) : await dummyVerify(pw);
 * ```
 */
export async function dummyVerify(password: string): Promise<false> {
  const prepared = tryPrepareOpaqueString(password);
  if (prepared === null) return false;
  const tag = await computeTag(prepared, DUMMY_HASH);
  // Compare as verifyPassword does, and discard the result.
  constantTimeEqual(tag, DUMMY_HASH.tag);
  return false;
}
