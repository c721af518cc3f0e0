/**
 * Keeps a listener's TLS certificates in step with the certificate store: the contexts are
 * built from the store at start, and rebuilt whenever a certificate is imported, renewed,
 * assigned or removed (src/store/certificates.ts `watch`), so the next handshake serves the new
 * certificate without a restart. A reload that fails keeps the certificates being served and
 * logs why.
 *
 * @module
 */

import { TlsContexts } from "./net/tls_contexts.ts";
import type { Logger } from "./ops/log.ts";
import type { Certificates, TlsListener } from "./store/certificates.ts";

/** TLS contexts that follow the store, and how to stop following it. */
export interface LiveTls {
  readonly contexts: TlsContexts;
  stop(): Promise<void>;
}

/** Builds the contexts of `listener` from the store and keeps them current. */
export async function liveTls(
  certificates: Certificates,
  listener: TlsListener,
  log: Logger,
  options: { pollMs?: number } = {},
): Promise<LiveTls> {
  const contexts = new TlsContexts(await certificates.resolveForListener(listener));
  const watcher = await certificates.watch(async () => {
    try {
      contexts.update(await certificates.resolveForListener(listener));
      log.info("reloaded TLS certificates", { listener });
    } catch (error) {
      log.error("cannot reload TLS certificates; serving the previous ones", { listener, error });
    }
  }, options);
  return { contexts, stop: () => watcher.close() };
}
