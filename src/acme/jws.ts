/**
 * JSON Web Signatures as ACME uses them (RFC 8555 §6.2): flattened JSON serialisation, ES256
 * only, the account's public key as a JWK (RFC 7517) in `jwk` or its URL in `kid`.
 *
 * Pure: Web Crypto only, no `Deno.*`, no `node:*`.
 *
 * Invariants:
 * - The account key is ECDSA P-256; it leaves this module only as PKCS#8 DER (for sealing).
 * - The signing key is imported non-extractable; only the public half is ever serialised.
 *
 * @module
 */

import { encodeBase64 } from "../util/base64.ts";

/** An account key ready to sign. */
export interface AccountKey {
  readonly privateKey: CryptoKey;
  /** The public key as a JWK with the members RFC 7638 §3.2 requires, and nothing else. */
  readonly jwk: EcPublicJwk;
  /** RFC 7638 thumbprint (SHA-256, base64url), the second half of a key authorization. */
  readonly thumbprint: string;
}

/** An EC public key as a JWK (RFC 7518 §6.2.1). */
export interface EcPublicJwk {
  readonly kty: "EC";
  readonly crv: "P-256";
  readonly x: string;
  readonly y: string;
}

/** A JWS in flattened JSON serialisation (RFC 7515 §7.2.2), the body of every ACME POST. */
export interface FlattenedJws {
  readonly protected: string;
  readonly payload: string;
  readonly signature: string;
}

const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" } as const;

/** base64url without padding (RFC 7515 §2, RFC 4648 §5). */
export function base64url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Creates a new account key; returns it as PKCS#8 DER. */
export async function generateAccountKey(): Promise<Uint8Array> {
  const pair = await crypto.subtle.generateKey(ECDSA_P256, true, ["sign", "verify"]);
  return new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
}

/** Imports an account key from PKCS#8 DER. */
export async function importAccountKey(pkcs8: Uint8Array): Promise<AccountKey> {
  const der = pkcs8 as Uint8Array<ArrayBuffer>;
  const extractable = await crypto.subtle.importKey("pkcs8", der, ECDSA_P256, true, ["sign"]);
  const full = await crypto.subtle.exportKey("jwk", extractable);
  if (full.kty !== "EC" || full.crv !== "P-256" || !full.x || !full.y) {
    throw new Error("The ACME account key is not an ECDSA P-256 key");
  }
  const jwk: EcPublicJwk = { kty: "EC", crv: "P-256", x: full.x, y: full.y };
  const privateKey = await crypto.subtle.importKey("pkcs8", der, ECDSA_P256, false, ["sign"]);
  return { privateKey, jwk, thumbprint: await jwkThumbprint(jwk) };
}

/**
 * RFC 7638 §3: SHA-256 over the required members in lexicographic order, no whitespace.
 * For EC keys: crv, kty, x, y.
 */
export async function jwkThumbprint(jwk: EcPublicJwk): Promise<string> {
  const canonical = `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}","y":"${jwk.y}"}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return base64url(new Uint8Array(digest));
}

/** RFC 8555 §8.1: `token || '.' || base64url(Thumbprint(accountKey))`. */
export function keyAuthorization(token: string, key: AccountKey): string {
  return `${token}.${key.thumbprint}`;
}

/** What the protected header names besides the algorithm (RFC 8555 §6.2). */
export interface JwsHeader {
  readonly url: string;
  readonly nonce: string;
  /** The account URL; without it the public key goes in `jwk` (newAccount, §7.3). */
  readonly kid?: string;
}

/**
 * Signs `payload` for an ACME request. `payload` null makes a POST-as-GET (RFC 8555 §6.3): the
 * payload is the empty string.
 */
export async function signJws(
  key: AccountKey,
  header: JwsHeader,
  payload: unknown,
): Promise<FlattenedJws> {
  const protectedHeader = header.kid === undefined
    ? { alg: "ES256", jwk: key.jwk, nonce: header.nonce, url: header.url }
    : { alg: "ES256", kid: header.kid, nonce: header.nonce, url: header.url };
  const encoder = new TextEncoder();
  const protectedB64 = base64url(encoder.encode(JSON.stringify(protectedHeader)));
  const payloadB64 = payload === null ? "" : base64url(encoder.encode(JSON.stringify(payload)));
  // RFC 7518 §3.4: ES256 is R || S, 32 bytes each, exactly what Web Crypto produces.
  const signature = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    key.privateKey,
    encoder.encode(`${protectedB64}.${payloadB64}`),
  );
  return {
    protected: protectedB64,
    payload: payloadB64,
    signature: base64url(new Uint8Array(signature)),
  };
}
