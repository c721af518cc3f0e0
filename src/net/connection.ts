/**
 * A client connection as protocol sessions see it: bounded line and byte reads with timeouts,
 * writes, and server-side STARTTLS on the same socket.
 *
 * Invariants:
 * - Reads are bounded: a line longer than its limit is a {@link LineTooLongError}, and each read
 *   has a deadline, so a client that sends a line slowly forever (slow-loris) is cut off.
 * - Incoming bytes are buffered up to a high-water mark; beyond it the socket is paused (TCP
 *   back-pressure), so a client cannot make the server hold more than one read's worth.
 * - STARTTLS discards every byte received before the handshake (CVE-2011-0411: commands
 *   pipelined after STARTTLS were executed as if they had come over TLS). The plaintext reader is
 *   stopped and the TLS socket created before the invitation ("220 Ready") is written, so a
 *   client's ClientHello is never swallowed by the plaintext reader (shared/DENO-NOTES.md).
 * - Socket errors and the peer's end close the connection: no half-open sockets accumulate.
 *
 * @module
 */

import { connect as tcpConnect, isIP, type Socket } from "node:net";
import {
  connect as tlsConnect,
  type DetailedPeerCertificate,
  type SecureContext,
  TLSSocket,
} from "node:tls";
import { FumiError } from "../util/errors.ts";
import { normalizeIp } from "./cidr.ts";
import { LineTooLongError, ReadTimeoutError, WriteTimeoutError } from "./errors.ts";

export { LineTooLongError, ReadTimeoutError, WriteTimeoutError } from "./errors.ts";

/** Where a connection comes from or arrives at. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** What the TLS handshake settled. */
export interface TlsState {
  readonly protocol: string | null;
  readonly cipher: string | null;
  readonly servername: string | null;
  readonly alpn: string | null;
}

/** A line as received, with how it ended (protocols differ in what they accept). */
export interface Line {
  /** The line without its terminator. */
  readonly bytes: Uint8Array;
  /** "crlf" for CR LF, "lf" for a bare LF. A bare CR stays inside `bytes`. */
  readonly ending: "crlf" | "lf";
}

/** TLS settings for STARTTLS on a plaintext connection. */
export interface StartTlsOptions {
  readonly secureContext: SecureContext;
  readonly SNICallback: (
    servername: string,
    cb: (err: Error | null, ctx?: SecureContext) => void,
  ) => void;
  readonly handshakeTimeoutMs: number;
}

const HIGH_WATER = 256 * 1024;
/** TLS settings for the client side (outbound SMTP). */
export interface ClientTlsOptions {
  /** The name sent in SNI and, with `verify`, checked against the certificate. */
  readonly servername: string;
  /** Refuse a certificate that does not verify (MTA-STS enforce, a smarthost). */
  readonly verify: boolean;
  /** Trusted roots instead of the system's (tests, a private smarthost). */
  readonly ca?: readonly string[];
  readonly handshakeTimeoutMs: number;
}

/** What a client's handshake settled, and whether the server's certificate verified. */
export interface ClientTlsState extends TlsState {
  readonly verified: boolean;
  /** Why it did not verify (node's code, such as "DEPTH_ZERO_SELF_SIGNED_CERT"), or null. */
  readonly verifyError: string | null;
  /**
   * The server's certificates as DER, its own first, then each issuer after the certificate it
   * signed, as node's TLS put the chain together: what the server sent, and issuers it found
   * among the trusted roots (for DANE, RFC 7672 §3, which checks each link itself). Empty when
   * the server sent none.
   */
  readonly peerCertificates: readonly Uint8Array[];
}

/** How long a write may wait for a client that does not read before the connection is cut. */
export const DEFAULT_WRITE_TIMEOUT_MS = 120_000;
const encoder = new TextEncoder();

let nextId = 1;

/** A connection over a node:net or node:tls socket. */
export class Connection {
  readonly id: string;
  readonly remote: Endpoint;
  readonly local: Endpoint;
  #socket: Socket;
  #tls: TlsState | null = null;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  #closed = false;
  /** Octets the pending read needs buffered (a literal may exceed the high-water mark). */
  #want = 0;
  /** Leading buffered octets already searched for LF without finding one. */
  #scanned = 0;
  readonly #onData = (chunk: Uint8Array) => this.#push(chunk);
  readonly #onEnd = () => this.#finish(null);
  readonly #onError = (error: Error) => this.#finish(error);

  constructor(socket: Socket, tls: TlsState | null = null) {
    this.id = (nextId++).toString(36).padStart(6, "0");
    this.#socket = socket;
    this.#tls = tls;
    this.remote = {
      address: normalizeAddress(socket.remoteAddress ?? ""),
      port: socket.remotePort ?? 0,
    };
    this.local = {
      address: normalizeAddress(socket.localAddress ?? ""),
      port: socket.localPort ?? 0,
    };
    this.#attach(socket);
  }

  /** The TLS state, or null on a plaintext connection. */
  get tls(): TlsState | null {
    return this.#tls;
  }

  /** True once the connection is closed (by either side). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Reads one line of at most `maxLength` octets (terminator excluded). Returns null at the end
   * of the stream. A longer line throws {@link LineTooLongError} after consuming it up to its
   * LF, so the session can answer and continue; `timeoutMs` bounds the whole line.
   */
  async readLine(maxLength: number, timeoutMs: number): Promise<Line | null> {
    const deadline = Date.now() + timeoutMs;
    let tooLong = false;
    for (;;) {
      const at = this.#indexOfLf();
      if (at !== -1) {
        const raw = this.#take(at + 1);
        if (tooLong || at > maxLength + 1) throw new LineTooLongError(maxLength);
        const crlf = at > 0 && raw[at - 1] === 0x0d;
        const bytes = raw.subarray(0, crlf ? at - 1 : at);
        if (bytes.length > maxLength) throw new LineTooLongError(maxLength);
        return { bytes, ending: crlf ? "crlf" : "lf" };
      }
      if (this.#buffered > maxLength + 1) {
        // Drop what we have of an overlong line, keep reading until its end.
        this.#take(this.#buffered);
        tooLong = true;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) {
        if (this.#buffered === 0 && !tooLong) return null;
        this.#take(this.#buffered);
        return null; // a partial last line without LF is not a command
      }
      await this.#waitForData(deadline);
    }
  }

  /** Reads exactly `length` octets (an IMAP literal, a BDAT chunk); null if the stream ends first. */
  async readExact(length: number, timeoutMs: number): Promise<Uint8Array | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.#buffered < length) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await this.#waitForData(deadline, length);
    }
    return this.#take(length);
  }

  /** Reads whatever arrives next (up to the buffered amount); null at the end of the stream. */
  readSome(timeoutMs: number): Promise<Uint8Array | null> {
    return this.readAtMost(Number.MAX_SAFE_INTEGER, timeoutMs);
  }

  /** Number of octets received and not yet read (a pipelining check uses it). */
  get pending(): number {
    return this.#buffered;
  }

  /**
   * True when a whole line is buffered, so the next {@link readLine} will not wait: a session
   * that batches its replies (RFC 2920 §3.1) flushes them before a read that would.
   */
  hasLine(): boolean {
    return this.#indexOfLf() !== -1;
  }

  /**
   * Reads at most `max` octets of what arrives next; null at the end of the stream. Bounds what
   * one read takes when a length-delimited chunk (BDAT) is read piece by piece.
   */
  async readAtMost(max: number, timeoutMs: number): Promise<Uint8Array | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.#buffered === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await this.#waitForData(deadline);
    }
    return this.#take(Math.min(max, this.#buffered));
  }

  /**
   * Puts bytes back in front of the unread input: a framing parser that read past the end of
   * what it frames (the DATA terminator) returns the rest, which is the next pipelined command.
   */
  unread(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#chunks.unshift(bytes);
    this.#buffered += bytes.length;
    this.#scanned = 0;
  }

  /**
   * Writes and waits until the bytes are handed to the kernel (or the socket fails). A client
   * that stops reading cannot hold the session: after `timeoutMs` the connection is closed and
   * the write fails with {@link WriteTimeoutError}.
   */
  write(data: Uint8Array | string, timeoutMs = DEFAULT_WRITE_TIMEOUT_MS): Promise<void> {
    if (this.#closed) return Promise.reject(new FumiError("Connection closed"));
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new WriteTimeoutError());
        this.close();
      }, timeoutMs);
      try {
        this.#socket.write(bytes, (error?: Error | null) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        });
      } catch (error) {
        clearTimeout(timer);
        reject(error);
      }
    });
  }

  /**
   * Server-side STARTTLS. Discards every unread byte, writes `invitation` in clear, and completes
   * the handshake on the same socket. Returns the number of bytes discarded (for the log).
   */
  async startTls(invitation: Uint8Array | string, options: StartTlsOptions): Promise<number> {
    if (this.#tls) throw new FumiError("TLS is already active");
    if (this.#closed) throw new FumiError("Connection closed");
    const raw = this.#socket;
    this.#detach(raw);
    raw.on("error", () => {}); // reported through the TLS socket below; never uncaught
    raw.pause();
    const discarded = this.#buffered;
    this.#chunks = [];
    this.#buffered = 0;
    this.#scanned = 0;

    const secure = new TLSSocket(raw, {
      isServer: true,
      secureContext: options.secureContext,
      SNICallback: options.SNICallback,
    });
    this.#socket = secure as unknown as Socket;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const handshake = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new ReadTimeoutError()), options.handshakeTimeoutMs);
      secure.once("secure", () => resolve());
      // `on`, not `once`: a second error during the handshake must not be uncaught.
      secure.on("error", (error: Error) => reject(error));
      secure.once(
        "close",
        () => reject(new FumiError("Connection closed during the TLS handshake")),
      );
    });
    // Handled from the start: if the invitation's write fails (the client reset), the handshake
    // still rejects later ("close", the timer) and must not be an unhandled rejection.
    handshake.catch(() => {});
    try {
      await new Promise<void>((resolve, reject) =>
        raw.write(
          typeof invitation === "string" ? encoder.encode(invitation) : invitation,
          (e) => e ? reject(e) : resolve(),
        )
      );
      await handshake;
    } catch (error) {
      this.close();
      raw.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.#tls = tlsStateOf(secure);
    this.#attach(this.#socket);
    return discarded;
  }

  /**
   * Client-side TLS on this connection (after the server's "220 Ready" to STARTTLS, or at once
   * for implicit TLS). Unread plaintext is discarded, as RFC 3207 §4.2 asks of clients too.
   * With `verify`, a certificate that does not chain to a trusted root or does not name
   * `servername` fails the handshake; without it the handshake succeeds and
   * {@link ClientTlsState.verified} says whether it would have.
   */
  async startTlsClient(options: ClientTlsOptions): Promise<ClientTlsState> {
    if (this.#tls) throw new FumiError("TLS is already active");
    if (this.#closed) throw new FumiError("Connection closed");
    const raw = this.#socket;
    this.#detach(raw);
    raw.on("error", () => {}); // reported through the TLS socket below; never uncaught
    this.#chunks = [];
    this.#buffered = 0;
    this.#scanned = 0;
    const secure = tlsConnect({
      socket: raw,
      servername: isIP(options.servername) ? undefined : options.servername,
      rejectUnauthorized: options.verify,
      ...(options.ca ? { ca: [...options.ca] } : {}),
      minVersion: "TLSv1.2",
    });
    this.#socket = secure as unknown as Socket;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new ReadTimeoutError()), options.handshakeTimeoutMs);
        secure.once("secureConnect", () => resolve());
        secure.on("error", (error: Error) => reject(error));
        secure.once(
          "close",
          () => reject(new FumiError("Connection closed during the TLS handshake")),
        );
      });
    } catch (error) {
      this.close();
      raw.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.#tls = tlsStateOf(secure);
    this.#attach(this.#socket);
    const problem = secure.authorizationError;
    return {
      ...this.#tls,
      verified: secure.authorized,
      verifyError: problem === null || problem === undefined ? null : String(problem),
      peerCertificates: peerChain(secure),
    };
  }

  /** Closes the connection (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#finish(null);
    this.#socket.destroy();
  }

  #attach(socket: Socket): void {
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("close", this.#onEnd);
    socket.on("error", this.#onError);
    socket.resume();
  }

  #detach(socket: Socket): void {
    socket.off("data", this.#onData);
    socket.off("end", this.#onEnd);
    socket.off("close", this.#onEnd);
    socket.off("error", this.#onError);
  }

  #push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered > Math.max(HIGH_WATER, this.#want)) this.#socket.pause();
    this.#notify();
  }

  #finish(error: Error | null): void {
    this.#ended = true;
    if (error && !this.#error) this.#error = error;
    this.#notify();
    // The peer's end or an error closes our side too: no half-open sockets (DENO-NOTES.md).
    if (!this.#closed) {
      this.#closed = true;
      this.#socket.destroy();
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Waits for more bytes; `want` is how many the read needs buffered in all. */
  #waitForData(deadline: number, want = 0): Promise<void> {
    const left = deadline - Date.now();
    if (left <= 0) return Promise.reject(new ReadTimeoutError());
    this.#want = want;
    if (this.#buffered < Math.max(HIGH_WATER, want)) this.#socket.resume();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        this.#want = 0;
        reject(new ReadTimeoutError());
      }, left);
      this.#wake = () => {
        clearTimeout(timer);
        this.#want = 0;
        resolve();
      };
    });
  }

  /** Offset of the first buffered LF, or -1; searches only bytes not searched before. */
  #indexOfLf(): number {
    let offset = 0;
    for (const chunk of this.#chunks) {
      if (offset + chunk.length > this.#scanned) {
        const from = Math.max(0, this.#scanned - offset);
        const i = chunk.indexOf(0x0a, from);
        if (i !== -1) return offset + i;
      }
      offset += chunk.length;
    }
    this.#scanned = offset;
    return -1;
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first !== undefined && first.length === n) {
      // The common case (a read takes what one packet brought): no copy.
      this.#chunks.shift();
      this.#buffered -= n;
      this.#scanned = Math.max(0, this.#scanned - n);
      return first;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const need = n - filled;
      if (chunk.length <= need) {
        out.set(chunk, filled);
        filled += chunk.length;
        this.#chunks.shift();
      } else {
        out.set(chunk.subarray(0, need), filled);
        this.#chunks[0] = chunk.subarray(need);
        filled = n;
      }
    }
    this.#buffered -= n;
    this.#scanned = Math.max(0, this.#scanned - n);
    return out;
  }
}

/** The state of a completed TLS handshake. */
export function tlsStateOf(socket: TLSSocket): TlsState {
  const cipher = socket.getCipher?.();
  const servername = (socket as unknown as { servername?: string | false }).servername;
  const alpn = socket.alpnProtocol;
  return {
    protocol: socket.getProtocol?.() ?? null,
    cipher: cipher?.standardName ?? cipher?.name ?? null,
    servername: typeof servername === "string" && servername !== "" ? servername : null,
    alpn: typeof alpn === "string" ? alpn : null,
  };
}

/**
 * The canonical form of a socket's address, as flow control and bans count it (net/cidr.ts):
 * `::ffff:192.0.2.1` is the IPv4 client 192.0.2.1, IPv6 in RFC 5952 form. Text that is not an
 * address (a socket already closed) is kept as it is.
 */
export function normalizeAddress(address: string): string {
  return normalizeIp(address) ?? address;
}

/**
 * Opens a TCP connection to `address` (an IP address) and `port`, within `timeoutMs`.
 *
 * @throws the socket's error (ECONNREFUSED, EHOSTUNREACH…) or a {@link ReadTimeoutError}.
 */
export function connectTo(address: string, port: number, timeoutMs: number): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ReadTimeoutError());
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", reject);
      resolve(new Connection(socket));
    });
    socket.once("error", (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

/** The most certificates of a peer's chain kept (a chain longer than this is not sane). */
const MAX_CHAIN = 10;

/** The peer's certificate and the chain after it, as DER, following `issuerCertificate`. */
function peerChain(secure: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  let certificate: DetailedPeerCertificate | undefined = secure.getPeerCertificate(true);
  while (certificate?.raw !== undefined && chain.length < MAX_CHAIN) {
    chain.push(new Uint8Array(certificate.raw));
    const issuer: DetailedPeerCertificate | undefined = certificate.issuerCertificate;
    // A self-signed certificate is its own issuer; node ends the chain that way.
    if (issuer === undefined || issuer === certificate || issuer.raw?.equals(certificate.raw)) {
      break;
    }
    certificate = issuer;
  }
  return chain;
}
