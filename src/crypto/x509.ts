/**
 * X.509 for TLS servers: key pairs, self-signed certificates, certificate signing requests
 * (PKCS#10), and checking a certificate chain and private key before Fumi serves them.
 *
 * Pure: Web Crypto and @peculiar/x509, no `Deno.*`, no `node:*`; the clock is a parameter.
 *
 * Invariants:
 * - Private keys leave this module only as PKCS#8 (DER for storage, "PRIVATE KEY" PEM for
 *   node:tls). Keys in other encodings (SEC1 "EC PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY") are
 *   wrapped into PKCS#8 and then re-exported by Web Crypto, so what is stored is always the
 *   canonical form Web Crypto and rustls read.
 * - A chain is stored as re-encoded CERTIFICATE blocks only: whatever else an uploaded file
 *   held (a private key in a "combined" PEM, comments, headers) is dropped.
 * - {@link validateCertificate} accepts a chain only if the key belongs to the first
 *   certificate, each certificate is signed by the next, the first is valid now, and a lone
 *   certificate is self-signed (a CA-issued one needs its intermediates; clients do not fetch
 *   them). The chain is not checked against any trust store: that is the clients' job.
 * - Every refusal is an {@link InvalidInputError} whose message says what to do.
 *
 * @module
 */

import * as x509 from "@peculiar/x509";
import { normalizeDomain } from "../util/address.ts";
import { InvalidInputError } from "../util/errors.ts";

/** Key types Fumi creates: ECDSA P-256 (the default) or RSA 2048 for old clients. */
export type KeyAlgorithm = "ecdsa-p256" | "rsa-2048";

/** What a certificate says, as administrators see it. */
export interface CertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  /** Hexadecimal. */
  readonly serialNumber: string;
  /** dNSName and iPAddress entries of subjectAltName, lower case. */
  readonly names: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-256 of the DER encoding, lower-case hex without separators. */
  readonly fingerprintSha256: string;
  /** "ECDSA P-256", "RSA 2048", … */
  readonly keyAlgorithm: string;
  /** True when subject and issuer are the same name (a root or a self-signed certificate). */
  readonly selfIssued: boolean;
  /** basicConstraints cA. */
  readonly isCa: boolean;
}

/** A chain and key that passed {@link validateCertificate}. */
export interface ValidCertificate {
  /** The certificates, leaf first, as CERTIFICATE PEM blocks and nothing else. */
  readonly chainPem: string;
  /** The private key, PKCS#8 DER. */
  readonly keyPkcs8: Uint8Array;
  /** Leaf first. */
  readonly chain: readonly CertificateInfo[];
}

/** Default lifetime of a self-signed certificate, as of ACME certificates. */
export const DEFAULT_VALIDITY_DAYS = 90;
/** Largest certificate file an import reads, in characters. */
export const MAX_CHAIN_PEM_LENGTH = 256 * 1024;
/** Most certificates a chain may hold (real chains have two to four). */
export const MAX_CHAIN_CERTIFICATES = 8;

const DAY_MS = 24 * 3600 * 1000;
const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const RSA_2048 = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
} as const;
const CONVERT_HINT = "convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY.pem -out KEY.pk8.pem";

/** Creates an extractable key pair for a server certificate. */
export async function generateKeyPair(
  algorithm: KeyAlgorithm = "ecdsa-p256",
): Promise<CryptoKeyPair> {
  const params = algorithm === "ecdsa-p256" ? ECDSA_P256 : RSA_2048;
  return await crypto.subtle.generateKey(params, true, ["sign", "verify"]) as CryptoKeyPair;
}

/** What {@link createSelfSigned} needs. */
export interface SelfSignedOptions {
  /** DNS names and IP addresses; the first is also the subject's CN. */
  readonly names: readonly string[];
  readonly keyAlgorithm?: KeyAlgorithm;
  readonly validityDays?: number;
  readonly now?: Date;
}

/**
 * Creates a self-signed server certificate: random serial (126 bits), keyUsage digitalSignature
 * (and keyEncipherment for RSA), extKeyUsage serverAuth, basicConstraints CA:false, the names
 * as subjectAltName (RFC 5280 §4.2.1.6). notBefore lies an hour back, for clients whose clocks
 * run late.
 */
export async function createSelfSigned(options: SelfSignedOptions): Promise<ValidCertificate> {
  const names = normalizeNames(options.names);
  const algorithm = options.keyAlgorithm ?? "ecdsa-p256";
  const days = options.validityDays ?? DEFAULT_VALIDITY_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > 3650) {
    throw new InvalidInputError(`Invalid validity of ${days} days: use 1 to 3650`);
  }
  const now = options.now ?? new Date();
  const keys = await generateKeyPair(algorithm);
  const usage = x509.KeyUsageFlags.digitalSignature |
    (algorithm === "rsa-2048" ? x509.KeyUsageFlags.keyEncipherment : 0);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [names[0]!] }],
    notBefore: new Date(now.getTime() - 3600 * 1000),
    notAfter: new Date(now.getTime() + days * DAY_MS),
    keys,
    signingAlgorithm: algorithm === "ecdsa-p256" ? ECDSA_P256 : RSA_2048,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usage, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map(generalName)),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    ],
  }, crypto);
  const keyPkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return {
    chainPem: certificate.toString("pem") + "\n",
    keyPkcs8,
    chain: [await describe(certificate)],
  };
}

/** A certificate signing request with its new private key. */
export interface CertificateRequest {
  /** PKCS#10 (RFC 2986), "CERTIFICATE REQUEST" PEM. */
  readonly csrPem: string;
  /** PKCS#8 DER. */
  readonly keyPkcs8: Uint8Array;
  /** The normalised names requested. */
  readonly names: readonly string[];
}

/** Creates a new key and a CSR for `names` (CN = the first; all as subjectAltName). */
export async function createCsr(
  names: readonly string[],
  keyAlgorithm: KeyAlgorithm = "ecdsa-p256",
): Promise<CertificateRequest> {
  const normalized = normalizeNames(names);
  const keys = await generateKeyPair(keyAlgorithm);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [normalized[0]!] }],
    keys,
    signingAlgorithm: keyAlgorithm === "ecdsa-p256" ? ECDSA_P256 : RSA_2048,
    // RFC 2986 §4.1 attributes: extensionRequest (RFC 2985 §5.4.2) carries the SANs.
    extensions: [new x509.SubjectAlternativeNameExtension(normalized.map(generalName))],
  }, crypto);
  return {
    csrPem: csr.toString("pem") + "\n",
    keyPkcs8: new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey)),
    names: normalized,
  };
}

/** What {@link validateCertificate} checks. */
export interface CertificateInput {
  /** One or more CERTIFICATE blocks, the server's certificate first. */
  readonly chainPem: string;
  /** The key as uploaded: PKCS#8, SEC1 or PKCS#1 PEM (exactly one of key and keyPkcs8). */
  readonly keyPem?: string;
  /** A key Fumi holds already (a pending CSR's, or the current certificate's), PKCS#8 DER. */
  readonly keyPkcs8?: Uint8Array;
  readonly now?: Date;
}

/** Checks a chain and its key for serving; see the module's invariants. */
export async function validateCertificate(input: CertificateInput): Promise<ValidCertificate> {
  const certificates = parseChain(input.chainPem);
  const leaf = certificates[0]!;
  const algorithm = leafKeyAlgorithm(leaf);
  let keyPkcs8: Uint8Array;
  if (input.keyPem !== undefined) keyPkcs8 = await parsePrivateKey(input.keyPem, algorithm);
  else if (input.keyPkcs8 !== undefined) keyPkcs8 = input.keyPkcs8;
  else throw new InvalidInputError("A private key is needed for the certificate");

  const infos = await Promise.all(certificates.map(describe));
  if (!(await keyMatches(keyPkcs8, leaf, algorithm))) {
    for (let i = 1; i < certificates.length; i++) {
      const other = certificates[i]!;
      const otherAlgorithm = supportedAlgorithm(other);
      if (otherAlgorithm && await keyMatches(keyPkcs8, other, otherAlgorithm)) {
        throw new InvalidInputError(
          `The certificates are out of order: the key belongs to certificate ${
            i + 1
          } ("${other.subject}"); put the server's certificate first, then each issuer in turn`,
        );
      }
    }
    throw new InvalidInputError(
      `The private key does not belong to the certificate "${leaf.subject}" (fingerprint ${
        formatFingerprint(infos[0]!.fingerprintSha256)
      })`,
    );
  }
  await checkChainOrder(certificates);

  const now = input.now ?? new Date();
  const first = infos[0]!;
  if (now < first.notBefore) {
    throw new InvalidInputError(
      `The certificate "${leaf.subject}" is not valid before ${first.notBefore.toISOString()}`,
    );
  }
  if (now > first.notAfter) {
    throw new InvalidInputError(
      `The certificate "${leaf.subject}" expired on ${first.notAfter.toISOString()}`,
    );
  }
  const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension);
  if (
    eku &&
    !eku.usages.some((u) => u === x509.ExtendedKeyUsage.serverAuth || u === "2.5.29.37.0")
  ) {
    // RFC 5280 §4.2.1.12: a certificate restricted to other purposes cannot serve TLS.
    throw new InvalidInputError(
      `The certificate "${leaf.subject}" is not for TLS servers (no serverAuth extended key usage)`,
    );
  }
  return {
    chainPem: certificates.map((c) => c.toString("pem") + "\n").join(""),
    keyPkcs8,
    chain: infos,
  };
}

/** Describes each certificate of a PEM chain (for listing what is stored). */
export async function describeChain(chainPem: string): Promise<CertificateInfo[]> {
  return await Promise.all(parseChain(chainPem).map(describe));
}

/** A PKCS#8 DER key as "PRIVATE KEY" PEM, as node:tls takes it. */
export function privateKeyPem(keyPkcs8: Uint8Array): string {
  return x509.PemConverter.encode(keyPkcs8 as Uint8Array<ArrayBuffer>, "PRIVATE KEY") + "\n";
}

/**
 * Normalises a name for a certificate: a DNS name (IDNA A-labels, lower case), a wildcard
 * `*.domain` (RFC 6125 §6.4.3, leftmost label only), or an IPv4/IPv6 address (canonical text).
 */
export function normalizeCertName(input: string): string {
  const text = input.trim().toLowerCase().replace(/\.$/, "");
  const ip = normalizeIp(text);
  if (ip !== null) return ip;
  if (text.startsWith("*.")) return `*.${normalizeDomain(text.slice(2)).ascii}`;
  if (text.includes("*")) {
    throw new InvalidInputError(
      `Cannot use "${input}" as a certificate name: a wildcard must be the whole leftmost label`,
    );
  }
  return normalizeDomain(text).ascii;
}

/** True when `name` is an IP address (IPv4 dotted quad or IPv6). */
export function isIpAddress(name: string): boolean {
  return normalizeIp(name) !== null;
}

/**
 * True when a certificate with `names` is valid for the host `host` (exact match, or a
 * wildcard covering exactly one leftmost label, RFC 6125 §6.4.3).
 */
export function coversName(names: readonly string[], host: string): boolean {
  const wanted = host.toLowerCase().replace(/\.$/, "");
  const dot = wanted.indexOf(".");
  return names.some((n) => n === wanted || (dot > 0 && n === `*${wanted.slice(dot)}`));
}

/** Formats a fingerprint as openssl shows it: `AB:CD:…`. */
export function formatFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(":");
}

// --- parsing ---------------------------------------------------------------------------------

function parseChain(pem: string): x509.X509Certificate[] {
  if (pem.length > MAX_CHAIN_PEM_LENGTH) {
    throw new InvalidInputError(
      `The certificate file is larger than ${MAX_CHAIN_PEM_LENGTH / 1024} KiB`,
    );
  }
  const blocks = pemBlocks(pem);
  const certificates = blocks.filter((b) => b.type === "CERTIFICATE");
  if (certificates.length === 0) {
    const keyFile = blocks.some((b) => b.type.endsWith("PRIVATE KEY"));
    throw new InvalidInputError(
      keyFile
        ? "The certificate file holds a private key but no certificate"
        : "No certificate found: expected PEM blocks starting with -----BEGIN CERTIFICATE-----",
    );
  }
  if (certificates.length > MAX_CHAIN_CERTIFICATES) {
    throw new InvalidInputError(
      `The chain holds ${certificates.length} certificates; at most ${MAX_CHAIN_CERTIFICATES} are accepted`,
    );
  }
  return certificates.map((block, i) => {
    try {
      return new x509.X509Certificate(block.rawData);
    } catch (error) {
      throw new InvalidInputError(`Certificate ${i + 1} of the file cannot be parsed`, {
        cause: error,
      });
    }
  });
}

function pemBlocks(pem: string): x509.PemStruct[] {
  if (!pem.includes("-----BEGIN ")) return [];
  try {
    return x509.PemConverter.decodeWithHeaders(pem.replace(/\r\n/g, "\n"));
  } catch (error) {
    throw new InvalidInputError("The PEM text is damaged (a block does not decode)", {
      cause: error,
    });
  }
}

/**
 * Reads a private key PEM for a certificate whose key is `algorithm` and returns it as PKCS#8
 * DER, as Web Crypto exports it.
 */
async function parsePrivateKey(pem: string, algorithm: ImportAlgorithm): Promise<Uint8Array> {
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

// --- checks ----------------------------------------------------------------------------------

type ImportAlgorithm =
  | { readonly name: "ECDSA"; readonly namedCurve: "P-256" | "P-384" }
  | { readonly name: "RSASSA-PKCS1-v1_5"; readonly hash: "SHA-256" };

function supportedAlgorithm(certificate: x509.X509Certificate): ImportAlgorithm | null {
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

function leafKeyAlgorithm(leaf: x509.X509Certificate): ImportAlgorithm {
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

async function keyMatches(
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

/** RFC 5280 §6.1: each certificate's issuer is the next one's subject, and its key signed it. */
async function checkChainOrder(certificates: readonly x509.X509Certificate[]): Promise<void> {
  for (let i = 0; i + 1 < certificates.length; i++) {
    const child = certificates[i]!;
    if (await issued(certificates[i + 1]!, child)) continue;
    for (let j = 0; j < certificates.length; j++) {
      if (j !== i && j !== i + 1 && await issued(certificates[j]!, child)) {
        throw new InvalidInputError(
          `The certificates are out of order: certificate ${j + 1} ("${
            certificates[j]!.subject
          }") issued certificate ${
            i + 1
          }; put the server's certificate first, then each issuer in turn`,
        );
      }
    }
    throw new InvalidInputError(
      `Certificate ${i + 2} ("${certificates[i + 1]!.subject}") did not issue certificate ${
        i + 1
      } (issuer "${child.issuer}"): an intermediate certificate is missing or does not belong`,
    );
  }
  const last = certificates.at(-1)!;
  if (last.subject !== last.issuer) {
    if (certificates.length === 1) {
      throw new InvalidInputError(
        `Missing intermediate certificate: the file holds only the server's certificate, issued by "${last.issuer}"; append the CA's intermediate certificate(s) (its "full chain" file)`,
      );
    }
    return; // an intermediate whose root the clients hold
  }
  if (!(await issued(last, last))) {
    throw new InvalidInputError(
      `The self-signed certificate "${last.subject}" has a wrong signature`,
    );
  }
}

async function issued(issuer: x509.X509Certificate, child: x509.X509Certificate): Promise<boolean> {
  if (issuer.subject !== child.issuer) return false;
  try {
    return await child.verify({ publicKey: issuer.publicKey, signatureOnly: true }, crypto);
  } catch {
    return false; // a signature algorithm Web Crypto lacks counts as not verified
  }
}

// --- description -----------------------------------------------------------------------------

async function describe(certificate: x509.X509Certificate): Promise<CertificateInfo> {
  const san = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  const names: string[] = [];
  for (const item of san?.names.items ?? []) {
    if (item.type !== "dns" && item.type !== "ip") continue;
    const value = item.value.toLowerCase();
    names.push(item.type === "ip" ? normalizeIp(value) ?? value : value);
  }
  const digest = await crypto.subtle.digest("SHA-256", certificate.rawData);
  return {
    subject: certificate.subject,
    issuer: certificate.issuer,
    serialNumber: certificate.serialNumber,
    names: [...new Set(names)],
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
    fingerprintSha256: toHex(new Uint8Array(digest)),
    keyAlgorithm: keyLabel(certificate),
    selfIssued: certificate.subject === certificate.issuer,
    isCa: certificate.getExtension(x509.BasicConstraintsExtension)?.ca ?? false,
  };
}

function keyLabel(certificate: x509.X509Certificate): string {
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

// --- names -----------------------------------------------------------------------------------

function normalizeNames(names: readonly string[]): string[] {
  if (names.length === 0) throw new InvalidInputError("A certificate needs at least one name");
  if (names.length > 100) throw new InvalidInputError("A certificate takes at most 100 names");
  return [...new Set(names.map(normalizeCertName))];
}

function generalName(name: string): x509.JsonGeneralName {
  return { type: normalizeIp(name) === null ? "dns" : "ip", value: name };
}

function normalizeIp(text: string): string | null {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split(".");
    // Leading zeros are refused: some parsers read them as octal.
    if (parts.some((p) => Number(p) > 255 || (p.length > 1 && p.startsWith("0")))) return null;
    return text;
  }
  if (!text.includes(":") || !/^[0-9a-f:.]+$/.test(text)) return null;
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return null;
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
// SEQUENCE { 1.2.840.113549.1.1.1 rsaEncryption, NULL }
const RSA_ENCRYPTION = tlv(
  0x30,
  new Uint8Array([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]),
);

function ecPublicKeyAlgorithm(curve: "P-256" | "P-384"): Uint8Array {
  return tlv(0x30, new Uint8Array([...OID_EC_PUBLIC_KEY, ...OID_CURVE[curve]]));
}

function privateKeyInfo(algorithmIdentifier: Uint8Array, privateKey: Uint8Array): Uint8Array {
  const version = new Uint8Array([0x02, 0x01, 0x00]);
  return tlv(0x30, concat(version, algorithmIdentifier, tlv(0x04, privateKey)));
}

function randomSerial(): string {
  // RFC 5280 §4.1.2.2: positive, at most 20 octets; CA/B BR §7.1: at least 64 random bits.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return toHex(bytes);
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
