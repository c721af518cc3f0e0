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
 * Internals beside it: _der.ts (DER and PEM), _x509_keys.ts (key types and formats),
 * _x509_chain.ts (chain order). Other modules import this one only.
 *
 * @module
 */

import * as x509 from "@peculiar/x509";
import { normalizeDomain } from "../util/address.ts";
import { InvalidInputError } from "../util/errors.ts";
import { pemBlocks } from "./_der.ts";
import { checkChainOrder } from "./_x509_chain.ts";
import {
  keyLabel,
  keyMatches,
  leafKeyAlgorithm,
  parsePrivateKey,
  supportedAlgorithm,
} from "./_x509_keys.ts";

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

// --- serial numbers --------------------------------------------------------------------------

function randomSerial(): string {
  // RFC 5280 §4.1.2.2: positive, at most 20 octets; CA/B BR §7.1: at least 64 random bits.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return toHex(bytes);
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
