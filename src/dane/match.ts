/**
 * Whether a server's certificate chain matches a TLSA RRset (RFC 6698 §2.1, RFC 7672 §3.1).
 *
 * - DANE-EE (3): the server's own certificate, or its public key (SPKI), matches a record; its
 *   names and validity dates are not looked at (RFC 7672 §3.1.1), the key is what DNSSEC vouches
 *   for.
 * - DANE-TA (2): a certificate of the chain (or, for "2 0 0", the record's own) matches a
 *   record and is the trust anchor: each certificate from the server's own up to it is signed by
 *   the next and within its dates, and the server's certificate names the host
 *   (RFC 7672 §3.1.2, §3.2).
 * - PKIX-TA (0) and PKIX-EE (1) are never used for SMTP (RFC 7672 §3.1.3): see {@link usable}.
 *
 * @module
 */

import { X509Certificate } from "node:crypto";
import type { TlsaRecord } from "../dns/mod.ts";

/** TLSA certificate usages (RFC 6698 §2.1.1, RFC 7218 §2.1). */
export const USAGE = { PKIX_TA: 0, PKIX_EE: 1, DANE_TA: 2, DANE_EE: 3 } as const;
/** TLSA selectors (RFC 6698 §2.1.2): the whole certificate, or its SubjectPublicKeyInfo. */
export const SELECTOR = { CERT: 0, SPKI: 1 } as const;
/** TLSA matching types (RFC 6698 §2.1.3): the data itself, SHA2-256, SHA2-512. */
export const MATCHING = { FULL: 0, SHA256: 1, SHA512: 2 } as const;

/**
 * The records SMTP may use (RFC 7672 §3.1): DANE-TA or DANE-EE, with a selector and matching
 * type we know. A digest of the wrong length can match nothing, so it is left out too
 * (RFC 7671 §10.1.2 treats such records as unusable).
 */
export function usable(records: readonly TlsaRecord[]): TlsaRecord[] {
  return records.filter((r) =>
    (r.usage === USAGE.DANE_TA || r.usage === USAGE.DANE_EE) &&
    (r.selector === SELECTOR.CERT || r.selector === SELECTOR.SPKI) &&
    (r.matchingType === MATCHING.FULL ||
      (r.matchingType === MATCHING.SHA256 && r.data.length === 32) ||
      (r.matchingType === MATCHING.SHA512 && r.data.length === 64))
  );
}

/** The outcome of {@link matchChain}. */
export type DaneMatch =
  | { readonly ok: true; readonly record: TlsaRecord }
  | { readonly ok: false; readonly problem: string };

/** What to judge the chain against. */
export interface MatchOptions {
  /** Names the server's certificate may have for DANE-TA (RFC 7672 §3.2.2): the MX host. */
  readonly names: readonly string[];
  /** Now, for the validity dates under DANE-TA. */
  readonly now?: Date;
}

/**
 * Checks `chain` (DER, the server's certificate first, as it sent them) against `records`
 * (already {@link usable}). One matching record suffices (RFC 6698 §4.1).
 */
export async function matchChain(
  records: readonly TlsaRecord[],
  chain: readonly Uint8Array[],
  options: MatchOptions,
): Promise<DaneMatch> {
  if (chain.length === 0) return { ok: false, problem: "the server sent no certificate" };
  let certificates: X509Certificate[];
  try {
    certificates = chain.map((der) => new X509Certificate(der));
  } catch (error) {
    return { ok: false, problem: `cannot parse the server's certificate: ${String(error)}` };
  }
  const leaf = certificates[0]!;
  for (const record of records.filter((r) => r.usage === USAGE.DANE_EE)) {
    if (await matches(record, leaf)) return { ok: true, record }; // RFC 7672 §3.1.1
  }
  const anchors = records.filter((r) => r.usage === USAGE.DANE_TA);
  if (anchors.length === 0) {
    return { ok: false, problem: "the server's certificate matches no DANE-EE TLSA record" };
  }
  return await trustAnchored(anchors, certificates, options);
}

/** DANE-TA (RFC 7672 §3.1.2): a path from the server's certificate to a matching anchor. */
async function trustAnchored(
  anchors: readonly TlsaRecord[],
  certificates: readonly X509Certificate[],
  options: MatchOptions,
): Promise<DaneMatch> {
  const leaf = certificates[0]!;
  const now = options.now ?? new Date();
  // RFC 7671 §5.2.2: an anchor given in full ("2 0 0") need not be sent by the server.
  const extra: X509Certificate[] = [];
  for (const r of anchors) {
    if (r.selector !== SELECTOR.CERT || r.matchingType !== MATCHING.FULL) continue;
    try {
      extra.push(new X509Certificate(r.data));
    } catch {
      // Not a certificate: it can match nothing.
    }
  }
  const path = [...certificates, ...extra];
  for (let i = 0; i + 1 < path.length; i++) {
    const child = path[i]!;
    if (!within(child, now)) {
      return { ok: false, problem: `certificate "${child.subject}" is outside its validity dates` };
    }
    const issuer = path[i + 1]!;
    if (!child.checkIssued(issuer) || !child.verify(issuer.publicKey)) {
      return { ok: false, problem: `certificate "${child.subject}" is not signed by the next one` };
    }
    for (const record of anchors) {
      if (!(await matches(record, issuer))) continue;
      // RFC 7672 §3.2.2: the MX host's name, wildcards as RFC 6125 allows.
      if (!options.names.some((name) => leaf.checkHost(name) !== undefined)) {
        return {
          ok: false,
          problem: `the server's certificate names none of ${options.names.join(", ")}`,
        };
      }
      return { ok: true, record };
    }
  }
  return { ok: false, problem: "the server's certificate chain matches no TLSA record" };
}

function within(certificate: X509Certificate, now: Date): boolean {
  return new Date(certificate.validFrom) <= now && now <= new Date(certificate.validTo);
}

/** Whether `record` matches `certificate` by its selector and matching type. */
async function matches(record: TlsaRecord, certificate: X509Certificate): Promise<boolean> {
  const selected: Uint8Array<ArrayBuffer> = record.selector === SELECTOR.SPKI
    ? spki(certificate)
    : new Uint8Array(certificate.raw);
  const value = record.matchingType === MATCHING.SHA256
    ? new Uint8Array(await crypto.subtle.digest("SHA-256", selected))
    : record.matchingType === MATCHING.SHA512
    ? new Uint8Array(await crypto.subtle.digest("SHA-512", selected))
    : selected;
  return equal(value, record.data);
}

/** The certificate's SubjectPublicKeyInfo as DER (RFC 5280 §4.1.2.7). */
function spki(certificate: X509Certificate): Uint8Array<ArrayBuffer> {
  return new Uint8Array(certificate.publicKey.export({ type: "spki", format: "der" }));
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
