/**
 * An IMAP server in process over a test store: 143-style (STARTTLS) and 993-style (implicit
 * TLS) listeners on free loopback ports, with a test CA, the domain example.org and two users.
 * Also a raw client for transcripts that reads responses up to a tagged one.
 *
 * @module
 */

import {
  IMAP_DEFAULTS,
  type ImapDeps,
  type ImapSettings,
  imapStoreDeps,
  MailboxViews,
  startImapListener,
  UserConnections,
} from "../src/imap/server/mod.ts";
import { DEFAULT_CONNECTIONS_PER_USER_IP } from "../src/imap/server/user_connections.ts";
import { FlowControl } from "../src/net/flow.ts";
import type { RunningListener } from "../src/net/listener.ts";
import { type Logger, silentLogger } from "../src/ops/log.ts";
import { type ServerWorld, withServerWorld } from "./server_world.ts";
import { GOOD_PASSWORD } from "./store.ts";

/** The running test server (see tests/server_world.ts for what it shares with SMTP's). */
export interface ImapFixture extends ServerWorld {
  /** Ports of the STARTTLS listener and the implicit TLS one. */
  readonly ports: { readonly imap: number; readonly imaps: number };
}

/** What a test may change. */
export interface ImapFixtureOptions {
  readonly settings?: Partial<ImapSettings>;
  readonly log?: Logger;
  /** Signed-in sessions per account and address (`[imap] max_connections_per_user_ip`). */
  readonly connectionsPerUserIp?: number;
  /** Changes the sessions' world, to wrap a part of it (count the store's calls, say). */
  readonly deps?: (deps: Omit<ImapDeps, "startTls">) => Omit<ImapDeps, "startTls">;
}

/** Runs `fn` against a fresh server. */
export async function withImap(
  fn: (t: ImapFixture) => Promise<void>,
  options: ImapFixtureOptions = {},
): Promise<void> {
  const log = options.log ?? silentLogger;
  await withServerWorld(async (world) => {
    const { store, bans, hostname } = world;
    const settings: ImapSettings = { ...IMAP_DEFAULTS, hostname, ...options.settings };
    const listeners: RunningListener[] = [];
    // Shared by both listeners, as src/server.ts shares them.
    const views = new MailboxViews(store);
    const userConnections = new UserConnections(
      options.connectionsPerUserIp ?? DEFAULT_CONNECTIONS_PER_USER_IP,
    );
    const start = async (name: string, mode: "starttls" | "tls") => {
      const listener = await startImapListener({
        name,
        addresses: ["127.0.0.1"],
        port: 0,
        mode,
        tls: world.tls,
        flow: new FlowControl({ isBanned: (ip) => bans.isBanned(ip) }),
        settings,
        deps: (options.deps ?? ((deps) => deps))(imapStoreDeps({
          store,
          login: world.login,
          scram: world.scram,
          views,
          userConnections,
          log,
        })),
      });
      listeners.push(listener);
      return listener.endpoints[0]!.port;
    };
    try {
      const ports = { imap: await start("imap", "starttls"), imaps: await start("imaps", "tls") };
      await fn({ ...world, ports });
    } finally {
      await Promise.all(listeners.map((l) => l.close()));
    }
  }, log);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A raw IMAP client for transcripts: sends bytes as given, reads lines, and reads everything
 * up to a tagged response.
 *
 * @example
 * ```ts
 * const c = await ImapClient.connect(port);
 * await c.line(); // greeting
 * const lines = await c.command("a1 CAPABILITY"); // [..., "a1 OK CAPABILITY completed"]
 * ```
 */
export class ImapClient {
  #buffer = "";
  #chunk = new Uint8Array(65536);
  #reading: Promise<number | null> | null = null;
  private constructor(private conn: Deno.Conn) {}

  static async connect(port: number): Promise<ImapClient> {
    return new ImapClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Connects with implicit TLS trusting `caPem`. */
  static async connectTls(port: number, caPem: string): Promise<ImapClient> {
    return new ImapClient(
      await Deno.connectTls({ hostname: "localhost", port, caCerts: [caPem] }),
    );
  }

  /** Upgrades to TLS (after the server's OK to STARTTLS). */
  async startTls(caPem: string): Promise<void> {
    this.conn = await Deno.startTls(this.conn as Deno.TcpConn, {
      hostname: "localhost",
      caCerts: [caPem],
    });
    this.#reading = null;
  }

  /** Writes text (or bytes) exactly as given. */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  /** Reads one line without its CRLF; null at the end of the stream. */
  async line(timeoutMs = 10_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.#buffer.indexOf("\n");
      if (at !== -1) {
        const line = this.#buffer.slice(0, at).replace(/\r$/, "");
        this.#buffer = this.#buffer.slice(at + 1);
        return line;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`No line in time; have ${JSON.stringify(this.#buffer)}`);
      this.#reading ??= this.conn.read(this.#chunk).catch(() => null);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.#reading,
        new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), left)),
      ]).finally(() => clearTimeout(timer));
      if (n === "timeout") continue;
      this.#reading = null;
      if (n === null) {
        if (this.#buffer === "") return null;
        const rest = this.#buffer;
        this.#buffer = "";
        return rest;
      }
      this.#buffer += decoder.decode(this.#chunk.subarray(0, n));
    }
  }

  /** Reads lines until one starts with `prefix`; returns them all (that one last). */
  async until(prefix: string, timeoutMs = 10_000): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.line(timeoutMs);
      if (line === null) {
        throw new Error(`Closed before ${JSON.stringify(prefix)}; got ${JSON.stringify(lines)}`);
      }
      lines.push(line);
      if (line.startsWith(prefix)) return lines;
    }
  }

  /** Sends a command (CRLF added) and reads up to its tagged response. */
  async command(line: string): Promise<string[]> {
    await this.send(`${line}\r\n`);
    return await this.until(`${line.split(" ", 1)[0]} `);
  }

  /** True once the server closed the connection. */
  async closedByServer(timeoutMs = 5000): Promise<boolean> {
    try {
      for (;;) if ((await this.line(timeoutMs)) === null) return true;
    } catch {
      return false;
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/** Signs in over implicit TLS and returns the client (greeting read). */
export async function signedIn(t: ImapFixture, user = "alice@example.org"): Promise<ImapClient> {
  const c = await ImapClient.connectTls(t.ports.imaps, t.caPem);
  await c.line();
  const lines = await c.command(`L1 LOGIN ${user} "${GOOD_PASSWORD}"`);
  if (!lines[lines.length - 1]!.startsWith("L1 OK")) throw new Error(lines.join("\n"));
  return c;
}
