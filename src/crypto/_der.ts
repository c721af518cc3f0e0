/**
 * ASN.1 DER and PEM for x509.ts: reading the blocks of a PEM file, and building the PKCS#8
 * PrivateKeyInfo (RFC 5208 §5) that wraps a SEC1 or PKCS#1 private key, the one structure
 * @peculiar/x509 does not build.
 *
 * Pure: no `Deno.*`, no `node:*`. Internal to src/crypto: other modules import x509.ts.
 *
 * @module
 */

import * as x509 from "@peculiar/x509";
import { InvalidInputError } from "../util/errors.ts";

// --- PEM -------------------------------------------------------------------------------------

/** The PEM blocks of `pem`, none when it has no BEGIN line; damaged PEM is refused. */
export function pemBlocks(pem: string): x509.PemStruct[] {
  if (!pem.includes("-----BEGIN ")) return [];
  try {
    return x509.PemConverter.decodeWithHeaders(pem.replace(/\r\n/g, "\n"));
  } catch (error) {
    throw new InvalidInputError("The PEM text is damaged (a block does not decode)", {
      cause: error,
    });
  }
}

// --- DER -------------------------------------------------------------------------------------

/** X.690 §8.1.3 definite length, then the contents. */
function tlv(tag: number, contents: Uint8Array): Uint8Array {
  const n = contents.length;
  const length = n < 0x80
    ? [n]
    : n < 0x100
    ? [0x81, n]
    : n < 0x10000
    ? [0x82, n >> 8, n & 0xff]
    : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(1 + length.length + n);
  out.set([tag, ...length]);
  out.set(contents, 1 + length.length);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const OID_EC_PUBLIC_KEY = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]; // 1.2.840.10045.2.1
const OID_CURVE: Record<"P-256" | "P-384", number[]> = {
  "P-256": [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07], // 1.2.840.10045.3.1.7
  "P-384": [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22], // 1.3.132.0.34
};

/** AlgorithmIdentifier SEQUENCE { 1.2.840.113549.1.1.1 rsaEncryption, NULL } (RFC 8017 §A.1). */
export const RSA_ENCRYPTION = tlv(
  0x30,
  new Uint8Array([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]),
);

/** AlgorithmIdentifier SEQUENCE { id-ecPublicKey, the named curve } (RFC 5480 §2.1.1). */
export function ecPublicKeyAlgorithm(curve: "P-256" | "P-384"): Uint8Array {
  return tlv(0x30, new Uint8Array([...OID_EC_PUBLIC_KEY, ...OID_CURVE[curve]]));
}

/** PrivateKeyInfo (RFC 5208 §5): version 0, the algorithm, the key as an OCTET STRING. */
export function privateKeyInfo(
  algorithmIdentifier: Uint8Array,
  privateKey: Uint8Array,
): Uint8Array {
  const version = new Uint8Array([0x02, 0x01, 0x00]);
  return tlv(0x30, concat(version, algorithmIdentifier, tlv(0x04, privateKey)));
}
