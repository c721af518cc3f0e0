/**
 * Listeners: accept connections on each configured address, admit or refuse them (flow
 * control), and hand each to a protocol session as a {@link Connection}.
 *
 * Two modes: "starttls" (plaintext first; the session may call `startTls`: SMTP 25/587, IMAP 143)
 * and "tls" (the handshake comes first: 465, 993, 443; RFC 8314 §3.3). Implicit-TLS listeners
 * may name their ALPN protocol: a client that offers ALPN but not ours is refused in the
 * handshake (ALPACA, cross-protocol attacks); a client that offers none is served.
 *
 * A failed handshake, garbage or a dropped connection costs one log line, never the process;
 * each session's errors stay in that session.
 *
 * @module
 */

import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";
import type { Logger } from "../ops/log.ts";
import { FumiError } from "../util/errors.ts";
import {
  Connection,
  type Endpoint,
  normalizeAddress,
  type StartTlsOptions,
  tlsStateOf,
} from "./connection.ts";
import { TLS_POLICY, type TlsContexts } from "./tls_contexts.ts";

/** The answer of flow control for a new connection. */
export type Admission = { ok: true; release(): void } | { ok: false; reason: string };

/** What a listener is asked to do. */
export interface ListenerSpec {
  /** The listener's name in config and logs: smtp, submission, imaps, … */
  readonly name: string;
  readonly addresses: readonly string[];
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly mode: "starttls" | "tls";
  readonly tls: TlsContexts;
  /** For mode "tls": the ALPN protocol names served (RFC 7301), e.g. ["imap"]. */
  readonly alpn?: readonly string[];
  /** Flow control; absent: everyone is admitted. */
  readonly admit?: (remoteAddress: string) => Admission | Promise<Admission>;
  /**
   * The protocol's temporary-failure reply for a refused plaintext connection (e.g.
   * "421 4.7.0 Too many connections\r\n"); nothing is written on implicit TLS.
   */
  readonly refusal?: (reason: string) => string;
  readonly handshakeTimeoutMs?: number;
  /** Runs a session; the listener closes the connection when it returns or throws. */
  readonly session: (connection: Connection, startTls: StartTlsOptions) => Promise<void>;
  readonly log: Logger;
}

/** A listener that is accepting connections. */
export interface RunningListener {
  readonly name: string;
  /** The bound addresses and ports. */
  readonly endpoints: readonly Endpoint[];
  /** Connections being served now. */
  readonly active: number;
  /** Stops accepting, closes every connection and waits for the sessions to end. */
  close(): Promise<void>;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;

/** Starts a listener on all its addresses; fails if any cannot be bound. */
export async function startListener(spec: ListenerSpec): Promise<RunningListener> {
  const handshakeTimeoutMs = spec.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  const startTls: StartTlsOptions = {
    get secureContext() {
      return spec.tls.fallback;
    },
    SNICallback: spec.tls.sniCallback,
    handshakeTimeoutMs,
  };
  const connections = new Set<Connection>();
  const sessions = new Set<Promise<void>>();
  /** Every accepted raw socket until it closes (also those still in admission or handshake). */
  const sockets = new Set<Socket>();
  const log = spec.log.child({ listener: spec.name });

  const serve = (socket: Socket, tlsSocket: TLSSocket | null) => {
    const connection = new Connection(socket, tlsSocket ? tlsStateOf(tlsSocket) : null);
    connections.add(connection);
    const done = spec.session(connection, startTls)
      .catch((error: unknown) => {
        // A client that went away mid-write is ordinary; anything else is worth a warning.
        const level = connection.closed || isDisconnect(error) ? "debug" : "warn";
        log[level]("session ended with an error", {
          conn: connection.id,
          ip: connection.remote.address,
          error,
        });
      })
      .finally(() => {
        connection.close();
        connections.delete(connection);
        sessions.delete(done);
      });
    sessions.add(done);
  };

  /**
   * Flow control runs on the raw socket, before any session. On implicit TLS, Deno's node:tls
   * completes the server's side of the handshake meanwhile (pausing the socket does not stop
   * it), so a refused client still costs a handshake; its session waits for the decision
   * (`tlsServer`), so a refused client never gets one. The
   * admission is released exactly once, when the raw socket closes: the same for both modes,
   * for sessions and for failed handshakes alike (the TLS socket of mode "tls" is another
   * object).
   */
  const admit = async (socket: Socket): Promise<boolean> => {
    socket.on("error", () => {}); // errors before a session exists are logged below, once
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (!spec.admit) return true;
    const ip = normalizeAddress(socket.remoteAddress ?? "");
    const admission = await spec.admit(ip);
    if (admission.ok) {
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        admission.release();
      };
      if (socket.destroyed) {
        release(); // gone while flow control was deciding
        return false;
      }
      socket.once("close", release);
      return true;
    }
    log.info("connection refused", { ip, reason: admission.reason });
    if (spec.mode === "starttls" && spec.refusal) {
      socket.end(spec.refusal(admission.reason));
      setTimeout(() => socket.destroy(), 1000);
    } else {
      socket.destroy();
    }
    return false;
  };

  const servers: Server[] = [];
  const endpoints: Endpoint[] = [];
  try {
    for (const address of spec.addresses) {
      const server = spec.mode === "starttls"
        ? createTcpServer({ pauseOnConnect: true }, (socket) => {
          admit(socket).then((ok) => ok && serve(socket, null), () => socket.destroy());
        })
        : tlsServer(spec, handshakeTimeoutMs, admit, serve, log);
      server.on("error", (error: Error) => log.error("listener error", { error }));
      const bound = await listen(server, address, spec.port, spec.name);
      servers.push(server);
      endpoints.push(bound);
    }
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }
  log.info("listening", { endpoints: endpoints.map((e) => `${e.address}:${e.port}`).join(" ") });

  return {
    name: spec.name,
    endpoints,
    get active() {
      return connections.size;
    },
    close: async () => {
      // Stop accepting first; the servers call back only once every connection has ended, so
      // close the connections (and sockets still in admission or handshake) before waiting.
      const stopped = Promise.all(
        servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
      );
      for (const connection of connections) connection.close();
      for (const socket of sockets) socket.destroy();
      await Promise.all([stopped, ...sessions]);
    },
  };
}

function tlsServer(
  spec: ListenerSpec,
  handshakeTimeoutMs: number,
  admit: (socket: Socket) => Promise<boolean>,
  serve: (socket: Socket, tls: TLSSocket) => void,
  log: Logger,
): Server {
  const server = createTlsServer({
    ...TLS_POLICY,
    SNICallback: spec.tls.sniCallback,
    handshakeTimeout: handshakeTimeoutMs,
    ...(spec.alpn ? { ALPNProtocols: [...spec.alpn] } : {}),
  });
  // Clients without SNI get the server's own context: replace it whenever the certificates
  // change (it applies to connections accepted afterwards).
  const setDefault = () => server.setSecureContext({ ...TLS_POLICY, ...spec.tls.fallbackPair });
  setDefault();
  const unsubscribe = spec.tls.subscribe(setDefault);
  server.on("close", unsubscribe);
  // The handshake may finish before flow control has decided (see `admit`), so a session
  // starts only on its decision: each raw socket's, found by the peer's address and port
  // (unique among open connections), and a TLS socket with none is refused.
  const admissions = new Map<string, Promise<boolean>>();
  server.on("connection", (socket: Socket) => {
    socket.pause();
    const peer = peerOf(socket);
    const admitted = admit(socket).then((ok) => {
      if (ok) socket.resume();
      return ok;
    }, () => {
      socket.destroy();
      return false;
    });
    admissions.set(peer, admitted);
    socket.once("close", () => {
      if (admissions.get(peer) === admitted) admissions.delete(peer);
    });
  });
  server.on("secureConnection", (socket: TLSSocket) => {
    const admitted = admissions.get(peerOf(socket)) ?? Promise.resolve(false);
    admitted.then((ok) => ok ? serve(socket as unknown as Socket, socket) : socket.destroy());
  });
  server.on("tlsClientError", (error: Error, socket: TLSSocket) => {
    log.info("TLS handshake failed", {
      ip: normalizeAddress(socket.remoteAddress ?? ""),
      error: error.message,
    });
    socket.destroy();
  });
  return server;
}

/** The peer's address and port: one open connection's own. */
function peerOf(socket: Socket | TLSSocket): string {
  return `[${socket.remoteAddress}]:${socket.remotePort}`;
}

function isDisconnect(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === "ECONNRESET" || code === "EPIPE" || code === "ECANCELED" ||
    (error instanceof Error && /ECANCELED|EPIPE|ECONNRESET|Connection closed/.test(error.message));
}

function listen(server: Server, address: string, port: number, name: string): Promise<Endpoint> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error & { code?: string }) => {
      const why = error.code === "EADDRINUSE"
        ? "the port is in use (is another Fumi running?)"
        : error.code === "EACCES"
        ? "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)"
        : error.message;
      reject(new FumiError(`Cannot listen for ${name} on ${address} port ${port}: ${why}`));
    };
    server.once("error", onError);
    server.listen({ host: address, port, ipv6Only: address.includes(":") }, () => {
      server.off("error", onError);
      const bound = server.address();
      if (bound === null || typeof bound === "string") {
        reject(new FumiError(`Cannot listen for ${name} on ${address} port ${port}`));
        return;
      }
      resolve({ address: bound.address, port: bound.port });
    });
  });
}
