/**
 * An SMTP listener: the transport's listener (flow control, TLS) running SMTP sessions.
 *
 * @module
 */

import { type FlowControl, REFUSAL_TEXT } from "../../net/flow.ts";
import { type RunningListener, startListener } from "../../net/listener.ts";
import type { TlsContexts } from "../../net/tls_contexts.ts";
import { formatReply, reply } from "../proto/mod.ts";
import type { SmtpDeps } from "./deps.ts";
import { SmtpSession } from "./session.ts";
import type { SmtpSettings } from "./settings.ts";

/** What an SMTP listener is started with. */
export interface SmtpListenerOptions {
  /** The listener's name in config and logs: smtp, submission or submissions. */
  readonly name: string;
  readonly addresses: readonly string[];
  readonly port: number;
  /** "starttls" for 25 and 587, "tls" for 465 (RFC 8314 §3.3). */
  readonly mode: "starttls" | "tls";
  readonly tls: TlsContexts;
  readonly flow?: FlowControl;
  readonly settings: SmtpSettings;
  /** The session's world; `startTls` is filled in by the listener. */
  readonly deps: Omit<SmtpDeps, "startTls">;
}

/** Starts the listener; resolves once it is bound. */
export function startSmtpListener(options: SmtpListenerOptions): Promise<RunningListener> {
  const { settings, flow } = options;
  return startListener({
    name: options.name,
    addresses: options.addresses,
    port: options.port,
    mode: options.mode,
    tls: options.tls,
    // ALPACA defence on implicit TLS: a client offering only another protocol is refused.
    ...(options.mode === "tls" ? { alpn: ["smtp"] } : {}),
    ...(flow ? { admit: (ip: string) => flow.admit(ip) } : {}),
    // RFC 5321 §3.1: 421 for a server that cannot take the connection now.
    refusal: (reason) =>
      formatReply(
        reply(
          421,
          "4.7.0",
          `${settings.hostname} ${REFUSAL_TEXT[reason] ?? "Service unavailable"}`,
        ),
      ),
    log: options.deps.log,
    session: async (connection, startTls) => {
      const deps: SmtpDeps = {
        ...options.deps,
        startTls: options.mode === "starttls" ? startTls : null,
      };
      options.deps.metrics?.connectionOpened(options.name);
      try {
        await new SmtpSession(connection, settings, deps).run();
      } finally {
        options.deps.metrics?.connectionClosed(options.name, connection.tls?.protocol ?? null);
      }
    },
  });
}
