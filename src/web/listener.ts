/**
 * The HTTPS listener: node:https with the listener's live TLS contexts (SNI per host name, and
 * certificates reloaded without a restart, src/net/tls_contexts.ts), ALPN `http/1.1` only,
 * flow control per client address (src/net/flow.ts) and bounded requests (src/web/node_fetch.ts).
 *
 * @module
 */

import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FlowControl } from "../net/flow.ts";
import type { TlsContexts } from "../net/tls_contexts.ts";
import type { Logger } from "../ops/log.ts";
import { type FetchHandler, nodeListener, type RequestLimits } from "./node_fetch.ts";

/** Default limits of the webmail's requests. */
export const WEB_DEFAULTS = {
  maxHeaderBytes: 16 * 1024,
  // Every body is read into memory before the app runs (src/web/node_fetch.ts), signed in or
  // not, so it is kept small: forms only. An upload route (attachments) is to read its body as
  // a stream, after requireSession, with its own limit.
  maxBodyBytes: 64 * 1024,
  bodyTimeoutMs: 120_000,
  /** A connection with no traffic either way for this long is closed (SSE pings every 25 s). */
  idleTimeoutMs: 75_000,
  /** Time to send the request line and header fields. */
  headersTimeoutMs: 20_000,
} as const;

/** What {@link startWebListener} needs. */
export interface WebListenerOptions {
  readonly addresses: readonly string[];
  readonly port: number;
  readonly tls: TlsContexts;
  readonly flow: FlowControl;
  readonly handler: FetchHandler;
  readonly log: Logger;
  readonly limits?: Partial<RequestLimits & { idleTimeoutMs: number; headersTimeoutMs: number }>;
}

/** A running HTTPS listener. */
export interface RunningWebListener {
  /** Bound addresses and ports (port 0 asks for a free one). */
  readonly endpoints: readonly { readonly address: string; readonly port: number }[];
  /** Stops accepting, ends open connections and waits until they are gone. */
  stop(): Promise<void>;
}

/** Starts serving `handler` over HTTPS on every address. */
export async function startWebListener(options: WebListenerOptions): Promise<RunningWebListener> {
  const limits = { ...WEB_DEFAULTS, ...options.limits };
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const deadlines = new Map<string, { arm(): void; clear(): void }>();
  const endpoints: { address: string; port: number }[] = [];
  const listener = nodeListener(options.handler, limits, (error) => {
    options.log.error("web request failed", { error });
  });
  try {
    for (const address of options.addresses) {
      const server = createServer({
        ...options.tls.fallbackPair,
        SNICallback: options.tls.sniCallback,
        // No h2 here: node:http2 is another server; ALPACA: a client offering only another
        // protocol is refused in the handshake.
        ALPNProtocols: ["http/1.1"],
        minVersion: "TLSv1.2",
        maxHeaderSize: limits.maxHeaderBytes,
      }, listener);
      server.headersTimeout = limits.headersTimeoutMs;
      server.requestTimeout = limits.bodyTimeoutMs + limits.headersTimeoutMs;
      server.keepAliveTimeout = 5_000;
      server.on("connection", (socket: Socket) => admit(socket));
      server.on("request", (req: IncomingMessage, res: ServerResponse) => {
        // The header fields are in: no deadline while the request is served (the body has its
        // own, src/web/node_fetch.ts; an event stream may last); the next one starts after it.
        const key = peerKey(req.socket);
        deadlines.get(key)?.clear();
        res.once("close", () => deadlines.get(key)?.arm());
      });
      server.on("tlsClientError", (_error: Error, socket: Socket) => socket.destroy());
      await new Promise<void>((resolve, reject) => {
        const fail = (error: Error) => reject(denoError(error));
        server.once("error", fail);
        server.listen(options.port, address, () => {
          server.off("error", fail);
          resolve();
        });
      });
      server.on("error", (error: Error) => options.log.error("web listener error", { error }));
      servers.push(server);
      const bound = server.address();
      if (bound && typeof bound === "object") endpoints.push({ address, port: bound.port });
    }
  } catch (error) {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    throw error;
  }

  function admit(socket: Socket): void {
    // No peer address (the connection already gone): nothing to admit or count it against.
    if (socket.remoteAddress === undefined) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
    // node:http's headersTimeout is not enforced by Deno's node:http: a client dribbling a byte
    // now and then (slowloris) would hold the connection for ever. The TLS handshake and each
    // request's header fields must arrive within headersTimeoutMs of the connection or of the
    // previous response. The TLS socket of a request is found by the peer's address and port.
    const key = peerKey(socket);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = {
      arm: () => {
        clearTimeout(timer);
        timer = setTimeout(() => socket.destroy(), limits.headersTimeoutMs);
      },
      clear: () => clearTimeout(timer),
    };
    deadlines.set(key, deadline);
    deadline.arm();
    let release = () => {};
    let closed = false;
    socket.once("close", () => {
      closed = true;
      deadline.clear();
      if (deadlines.get(key) === deadline) deadlines.delete(key);
      sockets.delete(socket);
      release();
    });
    socket.on("error", () => socket.destroy());
    options.flow.admit(socket.remoteAddress ?? "").then((admission) => {
      if (!admission.ok) {
        options.log.info("web connection refused", {
          ip: admission.ip ?? socket.remoteAddress ?? "",
          reason: admission.reason,
        });
        socket.destroy();
        return;
      }
      if (closed) admission.release();
      else release = admission.release;
    }, (error) => {
      options.log.error("web flow control failed", { error });
      socket.destroy();
    });
  }

  return {
    endpoints,
    stop: async () => {
      const closing = servers.map((s) => new Promise((resolve) => s.close(resolve)));
      for (const socket of sockets) socket.destroy();
      await Promise.all(closing);
    },
  };
}

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress}|${socket.remotePort}`;
}

/** node:net's EADDRINUSE and EACCES as Deno's errors, which src/server.ts explains to people. */
function denoError(error: Error): Error {
  const code = (error as { code?: unknown }).code;
  if (code === "EADDRINUSE") return new Deno.errors.AddrInUse(error.message);
  if (code === "EACCES") return new Deno.errors.PermissionDenied(error.message);
  return error;
}
