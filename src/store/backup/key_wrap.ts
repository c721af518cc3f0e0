/**
 * The master key ring inside a backup (`fumi backup --include-key`): sealed with AES-256-GCM
 * under a key derived from a passphrase with Argon2id (RFC 9106), so the file alone, without
 * the passphrase, does not open the mail.
 *
 * Argon2id costs 64 MiB and three passes: the file may travel far and be attacked offline for
 * long, so it costs more than a sign-in's hash (src/crypto/password.ts). The wrapped key is
 * bound to its backup file: the additional data is the file's HKDF salt.
 *
 * @module
 */

import { argon2id } from "hash-wasm";
import { decodeBase64, encodeBase64 } from "../../util/base64.ts";
import { FumiError } from "../../util/errors.ts";

/** A key ring sealed under a passphrase, as the backup header carries it. */
export interface WrappedKey {
  readonly kdf: "argon2id";
  /** Memory in KiB, passes, lanes. */
  readonly m: number;
  readonly t: number;
  readonly p: number;
  /** base64 */
  readonly salt: string;
  readonly nonce: string;
  readonly sealed: string;
}

/** The passphrase does not open the backup's key. */
export class WrongPassphraseError extends FumiError {}

const PARAMS = { m: 65536, t: 3, p: 1 };
/** Bounds on parameters read from a file, so a crafted header cannot exhaust memory. */
const MAX_M = 1 << 20;
const MAX_T = 32;
const MAX_P = 8;
/** Shortest passphrase accepted for a new backup. */
export const MIN_PASSPHRASE_LENGTH = 12;

async function passphraseKey(
  passphrase: string,
  salt: Uint8Array,
  params: { m: number; t: number; p: number },
): Promise<CryptoKey> {
  const raw = await argon2id({
    password: passphrase.normalize("NFC"),
    salt,
    iterations: params.t,
    parallelism: params.p,
    memorySize: params.m,
    hashLength: 32,
    outputType: "binary",
  });
  const key = await crypto.subtle.importKey(
    "raw",
    raw as Uint8Array<ArrayBuffer>,
    "AES-GCM",
    false,
    [
      "encrypt",
      "decrypt",
    ],
  );
  raw.fill(0);
  return key;
}

/** Seals the key ring's text (base64 keys, one a line) under `passphrase`. */
export async function wrapKeyRing(
  ringText: string,
  passphrase: string,
  boundTo: Uint8Array,
): Promise<WrappedKey> {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new FumiError(
      `The backup passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`,
    );
  }
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const key = await passphraseKey(passphrase, salt, PARAMS);
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: boundTo as Uint8Array<ArrayBuffer> },
    key,
    new TextEncoder().encode(ringText),
  );
  return {
    kdf: "argon2id",
    ...PARAMS,
    salt: encodeBase64(salt),
    nonce: encodeBase64(nonce),
    sealed: encodeBase64(new Uint8Array(sealed)),
  };
}

/** Opens a wrapped key ring; {@link WrongPassphraseError} when the passphrase is wrong. */
export async function unwrapKeyRing(
  wrapped: WrappedKey,
  passphrase: string,
  boundTo: Uint8Array,
): Promise<string> {
  const salt = decodeBase64(wrapped.salt);
  const nonce = decodeBase64(wrapped.nonce);
  const sealed = decodeBase64(wrapped.sealed);
  const { m, t, p } = wrapped;
  if (
    wrapped.kdf !== "argon2id" || salt === null || nonce === null || nonce.length !== 12 ||
    sealed === null || ![m, t, p].every(Number.isInteger) || m < 8 || m > MAX_M || t < 1 ||
    t > MAX_T || p < 1 || p > MAX_P
  ) {
    throw new FumiError("The backup's wrapped key is malformed");
  }
  const key = await passphraseKey(passphrase, salt, { m, t, p });
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: nonce as Uint8Array<ArrayBuffer>,
        additionalData: boundTo as Uint8Array<ArrayBuffer>,
      },
      key,
      sealed as Uint8Array<ArrayBuffer>,
    );
    return new TextDecoder().decode(plain);
  } catch {
    throw new WrongPassphraseError("The passphrase does not open the master key in this backup");
  }
}
