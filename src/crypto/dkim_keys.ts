/**
 * DKIM key pairs with Web Crypto: RSA-2048 for `rsa-sha256` (RFC 6376 §3.3.1, RFC 8301 §3.2)
 * and Ed25519 for `ed25519-sha256` (RFC 8463 §3).
 *
 * Invariants:
 * - Private keys leave this module only as PKCS#8 bytes (to be sealed by the store) or as
 *   non-extractable CryptoKeys usable for signing only.
 * - Public keys are in the form the DNS record publishes (RFC 6376 §3.6.1 `p=`): for RSA the
 *   DER SubjectPublicKeyInfo (what `openssl rsa -pubout` writes and every verifier reads), for
 *   Ed25519 the raw 32-byte key (RFC 8463 §4.2), not wrapped in ASN.1.
 *
 * @module
 */

import { FumiError } from "../util/errors.ts";

/** The DKIM signing algorithms Fumi uses (RFC 6376 §3.3, RFC 8463 §3). */
export type DkimAlgorithm = "rsa-sha256" | "ed25519-sha256";

/** Both, in the order Fumi creates, publishes and signs with them. */
export const DKIM_ALGORITHMS: readonly DkimAlgorithm[] = ["rsa-sha256", "ed25519-sha256"];

/** RSA modulus size: RFC 8301 §3.2 requires at least 1024 bits and recommends 2048. */
export const DKIM_RSA_BITS = 2048;

/** A new key pair, ready to store. */
export interface DkimKeyPair {
  readonly algorithm: DkimAlgorithm;
  /** PKCS#8 DER. Secret: seal it, and zero it once sealed. */
  readonly privateKey: Uint8Array;
  /** As published in `p=`: SPKI DER for RSA, 32 raw bytes for Ed25519. */
  readonly publicKey: Uint8Array;
}

/** A private key ready to sign with, and where its public half is published. */
export interface DkimSigningKey {
  /** The signing domain (`d=`), ASCII. */
  readonly domain: string;
  /** The selector (`s=`): the record is at `<selector>._domainkey.<domain>`. */
  readonly selector: string;
  readonly algorithm: DkimAlgorithm;
  /** Non-extractable, usage "sign". */
  readonly privateKey: CryptoKey;
}

function params(algorithm: DkimAlgorithm): RsaHashedImportParams | Algorithm {
  return algorithm === "rsa-sha256"
    ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
    : { name: "Ed25519" };
}

/** Generates a key pair for `algorithm`. */
export async function generateDkimKeyPair(algorithm: DkimAlgorithm): Promise<DkimKeyPair> {
  const pair = algorithm === "rsa-sha256"
    ? await crypto.subtle.generateKey(
      {
        name: "RSASSA-PKCS1-v1_5",
        modulusLength: DKIM_RSA_BITS,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      true,
      ["sign", "verify"],
    )
    : await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const { privateKey, publicKey } = pair as CryptoKeyPair;
  return {
    algorithm,
    privateKey: new Uint8Array(await crypto.subtle.exportKey("pkcs8", privateKey)),
    publicKey: new Uint8Array(
      await crypto.subtle.exportKey(algorithm === "rsa-sha256" ? "spki" : "raw", publicKey),
    ),
  };
}

/** Imports a PKCS#8 private key as a non-extractable signing key. */
export async function importDkimPrivateKey(
  algorithm: DkimAlgorithm,
  pkcs8: Uint8Array,
): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey(
      "pkcs8",
      pkcs8 as Uint8Array<ArrayBuffer>,
      params(algorithm),
      false,
      ["sign"],
    );
  } catch (error) {
    throw new FumiError(`Cannot import a ${algorithm} DKIM private key`, { cause: error });
  }
}

/** Imports a published public key (the bytes of `p=`) for verifying, as tests do. */
export function importDkimPublicKey(
  algorithm: DkimAlgorithm,
  publicKey: Uint8Array,
): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    algorithm === "rsa-sha256" ? "spki" : "raw",
    publicKey as Uint8Array<ArrayBuffer>,
    params(algorithm),
    true,
    ["verify"],
  );
}
