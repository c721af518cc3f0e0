/**
 * An IMAP listener: the transport's listener (flow control, TLS) running IMAP sessions.
 * "starttls" for 143, "tls" for 993 (RFC 8314 §3.3), with ALPN "imap" on implicit TLS.
 *
 * @module
 */

import { type FlowControl, REFUSAL_TEXT } from "../../net/flow.ts";
import { type RunningListener, startListener } from "../../net/listener.ts";
import type { TlsContexts } from "../../net/tls_contexts.ts";
import { untagged } from "../proto/mod.ts";
import type { ImapDeps } from "./deps.ts";
import { ImapSession } from "./session.ts";
import type { ImapSettings } from "./settings.ts";

/** What an IMAP listener is started with. */
export interface ImapListenerOptions {
  /** The listener's name in config and logs: imap or imaps. */
  readonly name: string;
  readonly addresses: readonly string[];
  readonly port: number;
  readonly mode: "starttls" | "tls";
  readonly tls: TlsContexts;
  readonly flow?: FlowControl;
  readonly settings: ImapSettings;
  /** The session's world; `startTls` is filled in by the listener. */
  readonly deps: Omit<ImapDeps, "startTls">;
}

/** Starts the listener; resolves once it is bound. */
export function startImapListener(options: ImapListenerOptions): Promise<RunningListener> {
  const { settings, flow } = options;
  return startListener({
    name: options.name,
    addresses: options.addresses,
    port: options.port,
    mode: options.mode,
    tls: options.tls,
    // ALPACA defence on implicit TLS: a client offering only another protocol is refused.
    ...(options.mode === "tls" ? { alpn: ["imap"] } : {}),
    ...(flow ? { admit: (ip: string) => flow.admit(ip) } : {}),
    // RFC 9051 §7.1.5: BYE for a server that will not serve the connection.
    refusal: (reason) =>
      untagged("BYE", REFUSAL_TEXT[reason] ?? "Service unavailable", "UNAVAILABLE"),
    log: options.deps.log,
    session: async (connection, startTls) => {
      const deps: ImapDeps = {
        ...options.deps,
        startTls: options.mode === "starttls" ? startTls : null,
      };
      options.deps.metrics?.connectionOpened(options.name);
      try {
        await new ImapSession(connection, settings, deps).run();
      } finally {
        options.deps.metrics?.connectionClosed(options.name, connection.tls?.protocol ?? null);
      }
    },
  });
}
