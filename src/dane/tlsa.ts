/**
 * The TLSA records of an MX host (RFC 7672 §2.2): looked up at `_25._tcp.<host>` with DNSSEC,
 * and used only when the validating resolver says they are authentic.
 *
 * @module
 */

import type { Resolver, TlsaRecord } from "../dns/mod.ts";
import { usable } from "./match.ts";

/** What the TLSA lookup of one host says about delivering to it. */
export type DanePolicy =
  /** No secure TLSA records (none, or an insecure zone): as without DANE. */
  | { readonly kind: "none" }
  /** Secure, usable records: TLS is required and the certificate must match one of them. */
  | { readonly kind: "authenticate"; readonly records: readonly TlsaRecord[] }
  /** Secure records, none usable (RFC 7672 §2.2): TLS is required, its certificate not judged. */
  | { readonly kind: "encrypt" }
  /** The lookup failed (RFC 7672 §2.2.1: a SERVFAIL may hide records): do not use the host now. */
  | { readonly kind: "temperror"; readonly reason: string };

/** The TLSA lookup name of an SMTP server on port 25 (RFC 7672 §2.2.3, RFC 6698 §3). */
export function tlsaName(host: string, port = 25): string {
  return `_${port}._tcp.${host}`;
}

/**
 * The DANE policy of `host`. Ask only when the host's name came from a secure MX RRset and its
 * addresses were secure too (RFC 7672 §2.2.1, §2.2.2); the caller decides that.
 */
export async function danePolicy(resolver: Resolver, host: string): Promise<DanePolicy> {
  const name = tlsaName(host);
  const lookup = await resolver.lookup(name, "TLSA", { dnssec: true });
  if (lookup.status === "temperror") {
    return { kind: "temperror", reason: `TLSA lookup for ${name}: ${lookup.error ?? "failed"}` };
  }
  // RFC 7672 §2.2: insecure records are as none; so are NODATA and NXDOMAIN, secure or not.
  if (lookup.status !== "ok" || !lookup.authenticated) return { kind: "none" };
  const records = usable(lookup.records);
  return records.length > 0 ? { kind: "authenticate", records } : { kind: "encrypt" };
}
