/**
 * TLS settings and certificates for listeners, replaceable while running: a listener asks for
 * the current contexts at every handshake, so a certificate imported or renewed is served on the
 * next connection without a restart.
 *
 * Policy (shared/DESIGN.md): TLS 1.2 and 1.3 only. Deno's node:tls runs on rustls, which offers
 * only forward-secret AEAD suites (ECDHE with AES-GCM or ChaCha20-Poly1305) and never SSLv3,
 * TLS 1.0/1.1, RC4, 3DES or CBC; the minimum version is still stated here so the policy does not
 * depend on the library's defaults.
 *
 * @module
 */

import { createSecureContext, type SecureContext } from "node:tls";

/** A certificate chain and its key, PEM. */
export interface CertificatePair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What a listener serves: a default certificate and certificates per SNI host name. */
export interface CertificateSet {
  readonly fallback: CertificatePair;
  /** Lower-case host name (or `*.domain` wildcard) → certificate. */
  readonly byName: ReadonlyMap<string, CertificatePair>;
}

/** The TLS options every Fumi TLS context gets. */
export const TLS_POLICY = { minVersion: "TLSv1.2", maxVersion: "TLSv1.3" } as const;

/** Builds secure contexts from a certificate set and hands them to handshakes. */
export class TlsContexts {
  #fallback!: SecureContext;
  #fallbackPair!: CertificatePair;
  #byName = new Map<string, SecureContext>();
  readonly #subscribers = new Set<() => void>();

  constructor(set: CertificateSet) {
    this.update(set);
  }

  /** Replaces the certificates; handshakes from now on use the new ones. */
  update(set: CertificateSet): void {
    const fallback = contextOf(set.fallback);
    const byName = new Map<string, SecureContext>();
    for (const [name, pair] of set.byName) byName.set(name.toLowerCase(), contextOf(pair));
    this.#fallback = fallback;
    this.#fallbackPair = set.fallback;
    this.#byName = byName;
    for (const subscriber of this.#subscribers) subscriber();
  }

  /** Calls `fn` after every update; returns the function that stops it. */
  subscribe(fn: () => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  /** The context for clients that send no SNI or an unknown name. */
  get fallback(): SecureContext {
    return this.#fallback;
  }

  /** The default certificate as PEM (for a TLS server's own context). */
  get fallbackPair(): { key: string; cert: string } {
    return { key: this.#fallbackPair.keyPem, cert: this.#fallbackPair.certPem };
  }

  /** The context for a server name: exact, then `*.parent` wildcard, then the default. */
  contextFor(servername: string | null | undefined): SecureContext {
    if (!servername) return this.#fallback;
    const name = servername.toLowerCase().replace(/\.$/, "");
    const exact = this.#byName.get(name);
    if (exact) return exact;
    const dot = name.indexOf(".");
    return (dot > 0 && this.#byName.get(`*${name.slice(dot)}`)) || this.#fallback;
  }

  /** node:tls's SNICallback, bound to this object. */
  readonly sniCallback = (
    servername: string,
    callback: (error: Error | null, context?: SecureContext) => void,
  ): void => {
    callback(null, this.contextFor(servername));
  };
}

function contextOf(pair: CertificatePair): SecureContext {
  return createSecureContext({ key: pair.keyPem, cert: pair.certPem, ...TLS_POLICY });
}
