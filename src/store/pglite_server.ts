/**
 * Serves an in-process PGlite to postgres.js clients over a unix socket.
 *
 * PGlite is one PostgreSQL backend: one session state, one unnamed statement, one unnamed
 * portal, one transaction. Clients speak the extended query protocol (Parse, Bind, Execute,
 * Sync, PostgreSQL protocol §55.2.3), whose messages must not interleave with another client's.
 * So a connection owns the backend from its first message until the backend answers
 * ReadyForQuery with status "idle"; inside a transaction (status "T" or "E") it keeps it until
 * the transaction ends. Other connections wait their turn. A connection that disconnects, stays
 * silent too long, or stops reading its answers while owning the backend is cut: an extended
 * query it left unfinished is ended with a Sync, and its transaction is rolled back.
 *
 * An error accepting a connection (too many open files, say) is logged and retried after a
 * pause; the listener serves until it is closed.
 *
 * @module
 */

import type { PGlite } from "@electric-sql/pglite";
import type { Logger } from "../ops/log.ts";

/** A running server. */
export interface PgliteServer {
  close(): Promise<void>;
}

/** Options for {@link servePglite}. */
export interface PgliteServerOptions {
  /**
   * How long a connection may own the backend without sending anything, or take to read an
   * answer (60 s by default).
   */
  readonly idleInTransactionMs?: number;
  /** On close, how long connections may go on before they are cut. */
  readonly drainMs?: number;
  readonly log?: Logger;
}

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;
const MAX_MESSAGE = 1 << 30;
const READY_FOR_QUERY = 0x5a; // 'Z'
const TERMINATE = 0x58; // 'X'
const IDLE = 0x49; // 'I'
/** Sync ('S', length 4): ends an extended query (PostgreSQL protocol §55.2.3). */
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);
const ACCEPT_RETRY_MS = 100;

/** Serves `db` on a unix socket listener, or on a new one at a path. */
export function servePglite(
  db: PGlite,
  where: Deno.UnixListener | string,
  options: PgliteServerOptions = {},
): PgliteServer {
  const listener = typeof where === "string"
    ? Deno.listen({ transport: "unix", path: where })
    : where;
  const backend = new Mutex();
  const idleLimit = options.idleInTransactionMs ?? 60_000;
  const connections = new Set<Deno.Conn>();
  const handling = new Set<Promise<void>>();
  let closed = false;
  const accepting = (async () => {
    while (!closed) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closed) break;
        // EMFILE and the like pass: keep the socket served rather than leave joiners hanging.
        options.log?.warn("embedded database cannot accept a connection; retrying", { error });
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      connections.add(conn);
      const done = serveConnection(db, conn, backend, idleLimit)
        .catch((error) => options.log?.debug("embedded database connection ended", { error }))
        .finally(() => {
          connections.delete(conn);
          handling.delete(done);
        });
      handling.add(done);
    }
  })();
  return {
    close: async () => {
      // Stop accepting, let the clients of other processes finish, then cut what is left.
      closed = true;
      try {
        listener.close();
      } catch {
        // closed already
      }
      await accepting;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.all(handling),
        new Promise((resolve) => timer = setTimeout(resolve, options.drainMs ?? 60_000)),
      ]);
      clearTimeout(timer);
      for (const conn of connections) closeQuietly(conn);
      await Promise.all(handling);
    },
  };
}

async function serveConnection(
  db: PGlite,
  conn: Deno.Conn,
  backend: Mutex,
  idleLimit: number,
): Promise<void> {
  const input = new ByteQueue();
  let started = false;
  let owning = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const release = () => {
    owning = false;
    clearTimeout(idleTimer);
    backend.release();
  };
  try {
    const reader = conn.readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      input.push(value);
      for (;;) {
        const message = started ? input.takeMessage() : input.takeStartup();
        if (message === null) break;
        if (message === "invalid") return;
        if (!started) {
          const code = readInt32(message, 4);
          if (code === SSL_REQUEST) {
            await writeAll(conn, new Uint8Array([0x4e])); // 'N': no TLS on a private socket
            continue;
          }
          if (code === CANCEL_REQUEST || code !== PROTOCOL_3) return;
          started = true;
        } else if (message[0] === TERMINATE) {
          return;
        }
        if (!owning) {
          await backend.acquire();
          owning = true;
        }
        clearTimeout(idleTimer);
        // Not execProtocolRaw: PGlite parses every answer and keeps the parsed messages (rows
        // included) in a list that only execProtocol and query reset, so a server using the
        // raw call alone kept every row it ever served. execProtocol starts a fresh list each
        // time; its raw bytes are what the client gets, errors included.
        const { data: output } = await db.runExclusive(() =>
          db.execProtocol(message, { throwOnError: false })
        );
        // A client that stops reading would hold the backend for ever: the limit covers the
        // write too (closing the connection fails the pending write).
        idleTimer = setTimeout(() => closeQuietly(conn), idleLimit);
        await writeAll(conn, output);
        clearTimeout(idleTimer);
        if (lastReadyStatus(output) === IDLE) {
          release();
        } else {
          idleTimer = setTimeout(() => closeQuietly(conn), idleLimit);
        }
      }
    }
  } finally {
    clearTimeout(idleTimer);
    if (owning) {
      // The client went away mid-query or mid-transaction: end both so the next client starts
      // clean. Without the Sync, a backend left after an error in an extended query would
      // discard the next client's messages up to its own Sync.
      try {
        await db.runExclusive(() => db.execProtocolRaw(SYNC)).catch(() => {});
        if (db.isInTransaction()) await db.exec("rollback");
      } finally {
        release();
      }
    }
    closeQuietly(conn);
  }
}

/** The status byte of the last ReadyForQuery in a backend response, or null. */
export function lastReadyStatus(output: Uint8Array): number | null {
  let status: number | null = null;
  for (let i = 0; i + 5 <= output.length;) {
    const length = readInt32(output, i + 1);
    if (output[i] === READY_FOR_QUERY && i + 5 < output.length) status = output[i + 5]!;
    i += 1 + Math.max(length, 4);
  }
  return status;
}

function readInt32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + at, 4).getInt32(0);
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // closed already
  }
}

/** Bytes received and not yet framed, kept as chunks so large messages are copied once. */
class ByteQueue {
  #chunks: Uint8Array[] = [];
  #length = 0;

  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The startup packet: int32 length (itself included), then the body. */
  takeStartup(): Uint8Array | "invalid" | null {
    if (this.#length < 8) return null;
    const length = readInt32(this.#peek(4), 0);
    if (length < 8 || length > 10_000) return "invalid";
    return this.#length >= length ? this.#take(length) : null;
  }

  /** A regular message: type byte, int32 length (itself included), then the body. */
  takeMessage(): Uint8Array | "invalid" | null {
    if (this.#length < 5) return null;
    const length = readInt32(this.#peek(5), 1);
    if (length < 4 || length > MAX_MESSAGE) return "invalid";
    return this.#length >= length + 1 ? this.#take(length + 1) : null;
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first;
    this.#compact();
    return this.#chunks[0]!;
  }

  #take(n: number): Uint8Array {
    if (this.#chunks[0]!.length < n) this.#compact();
    const first = this.#chunks[0]!;
    const out = first.subarray(0, n);
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#length -= n;
    return out;
  }

  #compact(): void {
    const all = new Uint8Array(this.#length);
    let at = 0;
    for (const chunk of this.#chunks) {
      all.set(chunk, at);
      at += chunk.length;
    }
    this.#chunks = [all];
  }
}

/** A FIFO mutex. */
class Mutex {
  #locked = false;
  #waiters: (() => void)[] = [];

  acquire(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#locked = false;
  }
}
