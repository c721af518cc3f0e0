/**
 * A minimal IMAP client for the benchmark, over node:net or node:tls, speaking raw IMAP: one
 * command at a time, each under a tag of its own, answered when the tagged status arrives.
 *
 * - The reader frames responses as RFC 9051 §2.2.2 describes: a line that ends in a literal
 *   announcement `{n}` (§4.3) continues after n bytes, so a message body with CRLFs inside is
 *   never taken for a response boundary.
 * - Untagged responses are counted per command (`* n FETCH …` for instance); their content is
 *   kept only when asked (SELECT's EXISTS and UIDNEXT).
 * - TLS is implicit (RFC 8314 §3.3) with the certificate unchecked (`rejectUnauthorized:
 *   false`): the server's is self-signed in --dev. This is the bench client only.
 *
 * @module
 */

import net from "node:net";
import tls from "node:tls";

/** Where to connect. */
export interface ImapTarget {
  readonly host: string;
  readonly port: number;
  /** Implicit TLS (imaps) rather than plain TCP. */
  readonly tls: boolean;
}

/** The end of one command. */
export interface Completion {
  /** OK, NO or BAD. */
  readonly status: string;
  /** The tagged line. */
  readonly line: string;
  /** Untagged responses that came before it. */
  readonly untagged: number;
  /** Their text, when `keep` was asked. */
  readonly kept: readonly string[];
}

const RESPONSE_TIMEOUT_MS = 60_000;
const MAX_BUFFER = 64 * 1024 * 1024;

/** One IMAP connection; see the module documentation. */
export class ImapConnection {
  readonly #socket: net.Socket;
  #buffer = "";
  /** Where the response being read starts, and where to look for its next CRLF. */
  #start = 0;
  #scan = 0;
  #tag = "";
  #next = 0;
  #untagged = 0;
  #keep = false;
  #kept: string[] = [];
  #waiter: { resolve: (c: Completion) => void; reject: (e: Error) => void } | null = null;
  #onContinuation: (() => void) | null = null;
  #failure: Error | null = null;
  #greeted: Promise<void>;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setEncoding("latin1");
    socket.setTimeout(RESPONSE_TIMEOUT_MS);
    socket.on("data", (text: string) => this.#feed(text));
    socket.on("timeout", () => {
      if (this.#waiter !== null) this.#fail(new Error("no response in 60 s"));
    });
    socket.on("error", (error: Error) => this.#fail(error));
    socket.on("close", () => this.#fail(new Error("closed by the server")));
    // The greeting is read as the answer to a command with no tag (RFC 9051 §7.1.1).
    this.#greeted = new Promise<Completion>((resolve, reject) => {
      this.#tag = "*";
      this.#waiter = { resolve, reject };
    }).then((c) => {
      if (c.status !== "OK" && c.status !== "PREAUTH") throw new Error(`greeting: ${c.line}`);
    });
  }

  /** Connects and reads the greeting. */
  static async open(target: ImapTarget): Promise<ImapConnection> {
    const socket = target.tls
      ? tls.connect({ host: target.host, port: target.port, rejectUnauthorized: false })
      : net.createConnection({ host: target.host, port: target.port });
    const connection = new ImapConnection(socket);
    try {
      await connection.#greeted;
      return connection;
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /** Sends `command` (without tag and CRLF); resolves at its tagged status. */
  command(command: string, keep = false): Promise<Completion> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    this.#tag = `a${++this.#next}`;
    this.#untagged = 0;
    this.#keep = keep;
    this.#kept = [];
    const done = new Promise<Completion>((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
    this.#socket.write(`${this.#tag} ${command}\r\n`, "latin1");
    return done;
  }

  /** LOGIN with quoted strings (RFC 9051 §6.2.3); throws unless OK. */
  async login(user: string, password: string): Promise<void> {
    const quote = (s: string) => `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
    const done = await this.command(`LOGIN ${quote(user)} ${quote(password)}`);
    if (done.status !== "OK") throw new Error(`LOGIN: ${done.line}`);
  }

  /** SELECT INBOX; its EXISTS and UIDNEXT (RFC 9051 §6.3.2). */
  async select(): Promise<{ done: Completion; exists: number; uidNext: number }> {
    const done = await this.command("SELECT INBOX", true);
    let exists = 0;
    let uidNext = 0;
    for (const line of done.kept) {
      const e = /^\* (\d+) EXISTS/i.exec(line);
      if (e !== null) exists = Number(e[1]);
      const u = /\[UIDNEXT (\d+)\]/i.exec(line);
      if (u !== null) uidNext = Number(u[1]);
    }
    return { done, exists, uidNext };
  }

  /** Starts IDLE (RFC 2177, RFC 9051 §6.3.13): resolves at the server's continuation. */
  idle(): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    this.#tag = `a${++this.#next}`;
    return new Promise<void>((resolve, reject) => {
      this.#onContinuation = resolve;
      this.#waiter = {
        resolve: (c) => reject(new Error(`IDLE: ${c.line}`)),
        reject,
      };
      this.#socket.write(`${this.#tag} IDLE\r\n`, "latin1");
    });
  }

  /** Closes at once, without LOGOUT. */
  close(): void {
    this.#fail(new Error("closed"));
    this.#socket.destroy();
  }

  #feed(text: string): void {
    this.#buffer += text;
    for (;;) {
      const end = this.#buffer.indexOf("\r\n", this.#scan);
      if (end === -1) break;
      // RFC 9051 §4.3: "{n}" (or "{n+}") at the end of a line: n bytes follow, then the line goes on.
      const literal = /\{(\d+)\+?\}$/.exec(
        this.#buffer.slice(Math.max(this.#start, end - 24), end),
      );
      if (literal !== null) {
        const after = end + 2 + Number(literal[1]);
        if (this.#buffer.length < after) break;
        this.#scan = after;
        continue;
      }
      this.#response(this.#buffer.slice(this.#start, end));
      this.#start = this.#scan = end + 2;
    }
    if (this.#start > 0) {
      this.#buffer = this.#buffer.slice(this.#start);
      this.#scan -= this.#start;
      this.#start = 0;
    }
    if (this.#buffer.length > MAX_BUFFER) {
      this.#fail(new Error(`a response longer than ${MAX_BUFFER} bytes`));
      this.#socket.destroy();
    }
  }

  #response(text: string): void {
    if (text.startsWith("+")) {
      const resume = this.#onContinuation;
      this.#onContinuation = null;
      resume?.();
      return;
    }
    const greeting = this.#tag === "*";
    if (text.startsWith("* ") && !greeting) {
      this.#untagged++;
      if (this.#keep) this.#kept.push(text);
      return;
    }
    const tag = greeting ? "* " : `${this.#tag} `;
    if (!text.startsWith(tag)) return; // An update after the command ended: not counted.
    const status = text.slice(tag.length).split(" ", 1)[0]!.toUpperCase();
    const waiter = this.#waiter;
    this.#waiter = null;
    this.#tag = "";
    waiter?.resolve({
      status,
      line: text.slice(0, 200),
      untagged: this.#untagged,
      kept: this.#kept,
    });
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(this.#failure);
  }
}
