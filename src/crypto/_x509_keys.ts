/**
 * Key types and key formats for x509.ts: which certificate keys Fumi serves, reading an
 * uploaded private key (PKCS#8, SEC1 or PKCS#1 PEM) into the PKCS#8 DER Web Crypto exports,
 * and whether a private key belongs to a certificate.
 *
 * Pure: Web Crypto and @peculiar/x509, no `Deno.*`, no `node:*`. Internal to src/crypto: other
 * modules import x509.ts.
 *
 * @module
 */

import type * as x509 from "@peculiar/x509";
import { InvalidInputError } from "../util/errors.ts";
import { ecPublicKeyAlgorithm, pemBlocks, privateKeyInfo, RSA_ENCRYPTION } from "./_der.ts";

const CONVERT_HINT = "convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY.pem -out KEY.pk8.pem";

/** The Web Crypto parameters that import a certificate's key type. */
export type ImportAlgorithm =
  | { readonly name: "ECDSA"; readonly namedCurve: "P-256" | "P-384" }
  | { readonly name: "RSASSA-PKCS1-v1_5"; readonly hash: "SHA-256" };

/** The import parameters for a certificate's key, or null for a key type Fumi does not serve. */
export function supportedAlgorithm(certificate: x509.X509Certificate): ImportAlgorithm | null {
  const algorithm = certificate.publicKey.algorithm as Partial<EcKeyAlgorithm & RsaKeyAlgorithm>;
  if (algorithm.name === "ECDSA" || algorithm.name === "ECDH") {
    if (algorithm.namedCurve === "P-256" || algorithm.namedCurve === "P-384") {
      return { name: "ECDSA", namedCurve: algorithm.namedCurve };
    }
    return null;
  }
  if (algorithm.name === "RSASSA-PKCS1-v1_5") {
    return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  }
  return null;
}

/** The import parameters for a leaf certificate's key; refuses unsupported and short keys. */
export function leafKeyAlgorithm(leaf: x509.X509Certificate): ImportAlgorithm {
  const algorithm = supportedAlgorithm(leaf);
  if (algorithm === null) {
    throw new InvalidInputError(
      `The certificate's key type (${
        keyLabel(leaf)
      }) is not supported; use ECDSA P-256/P-384 or RSA`,
    );
  }
  if (algorithm.name === "RSASSA-PKCS1-v1_5" && rsaBits(leaf) < 2048) {
    throw new InvalidInputError(
      `The certificate's RSA key has ${rsaBits(leaf)} bits; at least 2048 are needed`,
    );
  }
  return algorithm;
}

/** True when the PKCS#8 DER key is the private half of the certificate's public key. */
export async function keyMatches(
  keyPkcs8: Uint8Array,
  certificate: x509.X509Certificate,
  algorithm: ImportAlgorithm,
): Promise<boolean> {
  let privateJwk: JsonWebKey;
  try {
    const key = await crypto.subtle.importKey(
      "pkcs8",
      keyPkcs8 as Uint8Array<ArrayBuffer>,
      algorithm,
      true,
      ["sign"],
    );
    privateJwk = await crypto.subtle.exportKey("jwk", key);
  } catch {
    return false; // another key type
  }
  const publicKey = await certificate.publicKey.export(algorithm, ["verify"], crypto);
  const publicJwk = await crypto.subtle.exportKey("jwk", publicKey);
  return algorithm.name === "ECDSA"
    ? privateJwk.crv === publicJwk.crv && privateJwk.x === publicJwk.x &&
      privateJwk.y === publicJwk.y
    : privateJwk.n === publicJwk.n && privateJwk.e === publicJwk.e;
}

/**
 * Reads a private key PEM for a certificate whose key is `algorithm` and returns it as PKCS#8
 * DER, as Web Crypto exports it.
 */
export async function parsePrivateKey(
  pem: string,
  algorithm: ImportAlgorithm,
): Promise<Uint8Array> {
  if (pem.length > 64 * 1024) throw new InvalidInputError("The key file is larger than 64 KiB");
  const blocks = pemBlocks(pem);
  if (blocks.some((b) => b.type === "ENCRYPTED PRIVATE KEY" || isEncryptedLegacy(b))) {
    throw new InvalidInputError(
      "The private key is encrypted; decrypt it with: openssl pkey -in KEY.pem -out PLAIN.pem",
    );
  }
  const keys = blocks.filter((b) => b.type.endsWith("PRIVATE KEY"));
  if (keys.length !== 1) {
    throw new InvalidInputError(
      keys.length === 0
        ? 'No private key found: expected a PEM block "-----BEGIN PRIVATE KEY-----"'
        : `The key file holds ${keys.length} private keys; give exactly one`,
    );
  }
  const block = keys[0]!;
  const der = new Uint8Array(block.rawData);
  let pkcs8: Uint8Array;
  if (block.type === "PRIVATE KEY") pkcs8 = der;
  else if (block.type === "EC PRIVATE KEY" && algorithm.name === "ECDSA") {
    // RFC 5915 §3 ECPrivateKey inside RFC 5208 §5 PrivateKeyInfo, curve from the certificate.
    pkcs8 = privateKeyInfo(ecPublicKeyAlgorithm(algorithm.namedCurve), der);
  } else if (block.type === "RSA PRIVATE KEY" && algorithm.name === "RSASSA-PKCS1-v1_5") {
    // RFC 8017 §A.1.2 RSAPrivateKey inside PrivateKeyInfo with rsaEncryption (RFC 8017 §A.1).
    pkcs8 = privateKeyInfo(RSA_ENCRYPTION, der);
  } else if (block.type === "EC PRIVATE KEY" || block.type === "RSA PRIVATE KEY") {
    throw new InvalidInputError(
      `The private key ("${block.type}") is not of the certificate's type (${
        algorithmLabel(algorithm)
      })`,
    );
  } else {
    throw new InvalidInputError(`Unsupported key format "${block.type}"; ${CONVERT_HINT}`);
  }
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey(
      "pkcs8",
      pkcs8 as Uint8Array<ArrayBuffer>,
      algorithm,
      true,
      ["sign"],
    );
  } catch (error) {
    throw new InvalidInputError(
      `The private key cannot be read as ${algorithmLabel(algorithm)}; ${CONVERT_HINT}`,
      { cause: error },
    );
  }
  return new Uint8Array(await crypto.subtle.exportKey("pkcs8", key));
}

function isEncryptedLegacy(block: x509.PemStruct): boolean {
  return block.headers.some((h) => h.key === "Proc-Type" && h.value.includes("ENCRYPTED"));
}

/** The certificate's key type as administrators see it: "ECDSA P-256", "RSA 2048", … */
export function keyLabel(certificate: x509.X509Certificate): string {
  const algorithm = certificate.publicKey.algorithm as Partial<EcKeyAlgorithm>;
  if (algorithm.namedCurve) return `ECDSA ${algorithm.namedCurve}`;
  if (algorithm.name?.startsWith("RSA")) return `RSA ${rsaBits(certificate)}`;
  return algorithm.name ?? "unknown";
}

function rsaBits(certificate: x509.X509Certificate): number {
  return (certificate.publicKey.algorithm as Partial<RsaKeyAlgorithm>).modulusLength ?? 0;
}

function algorithmLabel(algorithm: ImportAlgorithm): string {
  return algorithm.name === "ECDSA" ? `ECDSA ${algorithm.namedCurve}` : "RSA";
}
