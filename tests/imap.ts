/**
 * An IMAP server in process over a test store: 143-style (STARTTLS) and 993-style (implicit
 * TLS) listeners on free loopback ports, with a test CA, the domain example.org and two users.
 * Also a raw client for transcripts that reads responses up to a tagged one.
 *
 * @module
 */

import { Bans } from "../src/auth/bans.ts";
import { Login, sqlCredentials } from "../src/auth/login.ts";
import { ScramLogin, sqlScramCredentials } from "../src/auth/scram_login.ts";
import {
  IMAP_DEFAULTS,
  type ImapSettings,
  imapStoreDeps,
  startImapListener,
} from "../src/imap/server/mod.ts";
import { FlowControl } from "../src/net/flow.ts";
import type { RunningListener } from "../src/net/listener.ts";
import { TlsContexts } from "../src/net/tls_contexts.ts";
import { type Logger, silentLogger } from "../src/ops/log.ts";
import { GOOD_PASSWORD, type TestStore, withStore } from "./store.ts";
import { makeTestPki, type TestPki } from "./tls.ts";

/** The running test server. */
export interface ImapFixture extends TestStore {
  readonly hostname: string;
  /** Ports of the STARTTLS listener and the implicit TLS one. */
  readonly ports: { readonly imap: number; readonly imaps: number };
  /** The CA that signed the server certificate (PEM file and text). */
  readonly caFile: string;
  readonly caPem: string;
  /** alice@example.org and bob@example.org, both with {@link GOOD_PASSWORD}. */
  readonly alice: { readonly id: number; readonly address: string };
  readonly bob: { readonly id: number; readonly address: string };
  readonly bans: Bans;
}

/** What a test may change. */
export interface ImapFixtureOptions {
  readonly settings?: Partial<ImapSettings>;
  readonly log?: Logger;
}

let pki: TestPki | undefined;
let leaf: { certPem: string; keyPem: string } | undefined;

/** Runs `fn` against a fresh server. */
export async function withImap(
  fn: (t: ImapFixture) => Promise<void>,
  options: ImapFixtureOptions = {},
): Promise<void> {
  pki ??= await makeTestPki();
  leaf ??= await pki.issue(["mail.example.org", "localhost", "127.0.0.1"]);
  await withStore(async (t) => {
    const { store } = t;
    const log = options.log ?? silentLogger;
    const sleep = () => Promise.resolve();
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const bob = await store.accounts.create({
      address: "bob@example.org",
      password: GOOD_PASSWORD,
    });
    const bans = new Bans(store.sql, { log });
    const login = new Login({ bans, credentials: sqlCredentials(store.sql), log, sleep });
    const scram = new ScramLogin({
      bans,
      credentials: sqlScramCredentials(store.sql),
      log,
      sleep,
    });
    const tls = new TlsContexts({ fallback: leaf!, byName: new Map() });
    const hostname = "mail.example.org";
    const settings: ImapSettings = { ...IMAP_DEFAULTS, hostname, ...options.settings };
    const listeners: RunningListener[] = [];
    const start = async (name: string, mode: "starttls" | "tls") => {
      const listener = await startImapListener({
        name,
        addresses: ["127.0.0.1"],
        port: 0,
        mode,
        tls,
        flow: new FlowControl({ isBanned: (ip) => bans.isBanned(ip) }),
        settings,
        deps: imapStoreDeps({ store, login, scram, log }),
      });
      listeners.push(listener);
      return listener.endpoints[0]!.port;
    };
    try {
      const ports = { imap: await start("imap", "starttls"), imaps: await start("imaps", "tls") };
      await fn({
        ...t,
        hostname,
        ports,
        caFile: pki!.caFile,
        caPem: pki!.caPem,
        alice: { id: alice.id, address: alice.address },
        bob: { id: bob.id, address: bob.address },
        bans,
      });
    } finally {
      await Promise.all(listeners.map((l) => l.close()));
    }
  });
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
