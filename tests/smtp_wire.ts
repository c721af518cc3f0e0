/**
 * A raw SMTP client for tests: bytes out exactly as given, whole replies in, with STARTTLS on
 * the same connection and implicit TLS. It checks a reply's status exactly: the code and the
 * enhanced code (`"553 5.7.1"`), so a test cannot pass on the right code with the wrong
 * enhanced code.
 *
 * @module
 */

import { AssertionError } from "./assert.ts";
import type { SmtpFixture } from "./smtp.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** The name in the test certificate. */
const SERVER_NAME = "mail.example.org";

/**
 * The status of a reply: its code and, when it has one, its enhanced code (RFC 3463), as
 * `"250 2.1.5"` or `"354"`. Only the first line is looked at.
 */
export function statusOf(reply: string): string {
  const match = /^(\d{3})(?:[ -](\d\.\d{1,3}\.\d{1,3})(?= |$))?/m.exec(reply);
  if (match === null) throw new AssertionError(`Not an SMTP reply: ${JSON.stringify(reply)}`);
  return match[2] === undefined ? match[1]! : `${match[1]} ${match[2]}`;
}

/** One client connection. Close it in a `finally`. */
export class Wire {
  #conn: Deno.Conn;
  #buffer = "";
  #chunk = new Uint8Array(65536);
  #reading: Promise<number | null> | null = null;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** A plain connection to 127.0.0.1:`port`; the greeting is not read. */
  static async connect(port: number): Promise<Wire> {
    return new Wire(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** An implicit-TLS connection (submissions), verified against the test CA. */
  static async connectTls(port: number, caPem: string): Promise<Wire> {
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      const tls = await Deno.startTls(tcp, { hostname: SERVER_NAME, caCerts: [caPem] });
      await tls.handshake();
      return new Wire(tls);
    } catch (error) {
      tcp.close();
      throw error;
    }
  }

  /** Writes text (or bytes) exactly as given, in one write when the kernel takes it. */
  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    let written = 0;
    while (written < bytes.length) written += await this.#conn.write(bytes.subarray(written));
  }

  /** Reads one complete reply (its lines joined by "\n"); null at the end of the stream. */
  async reply(timeoutMs = 10_000): Promise<string | null> {
    const raw = await this.rawReply(timeoutMs);
    return raw === null ? null : raw.replace(/\r\n/g, "\n").trimEnd();
  }

  /** Reads one complete reply exactly as sent, CRLFs included; null at the end of the stream. */
  async rawReply(timeoutMs = 10_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // A bare code ("334" CRLF) is a complete line too: the parser is lenient, tests are not.
      const match = /^(?:\d{3}-[^\n]*\n)*\d{3}(?:[ \r][^\n]*)?\n/.exec(this.#buffer);
      if (match) {
        this.#buffer = this.#buffer.slice(match[0].length);
        return match[0];
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new AssertionError(`No reply in time; have ${show(this.#buffer)}`);
      // One read at a time: a read that outlives a timeout is awaited again, never doubled.
      this.#reading ??= this.#conn.read(this.#chunk).catch(() => null);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.#reading,
        new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), left)),
      ]).finally(() => clearTimeout(timer));
      if (n === "timeout") continue;
      this.#reading = null;
      if (n === null) {
        if (this.#buffer === "") return null;
        const partial = this.#buffer;
        this.#buffer = "";
        throw new AssertionError(`Stream ended inside a reply: ${show(partial)}`);
      }
      this.#buffer += decoder.decode(this.#chunk.subarray(0, n));
    }
  }

  /** Reads a reply and asserts its status (`"250 2.1.5"`, `"354"`); returns the whole reply. */
  async expect(status: string): Promise<string> {
    const got = await this.reply();
    if (got === null) throw new AssertionError(`Expected ${status}, the server closed`);
    if (statusOf(got) !== status) {
      throw new AssertionError(`Expected ${status}, got ${show(got)}`);
    }
    return got;
  }

  /** Sends a command line (CRLF added) and asserts the reply's status; returns the reply. */
  async command(line: string, status: string): Promise<string> {
    await this.send(`${line}\r\n`);
    return await this.expect(status);
  }

  /** True once the server closed the connection: nothing more but the end of the stream. */
  async closedByServer(timeoutMs = 5000): Promise<boolean> {
    try {
      return (await this.reply(timeoutMs)) === null;
    } catch {
      return false;
    }
  }

  /** Asserts that the server closed the connection with nothing more to say. */
  async assertClosed(): Promise<void> {
    if (!(await this.closedByServer())) {
      throw new AssertionError("Expected the server to close the connection");
    }
  }

  /**
   * The client side of STARTTLS after the server's 220: a TLS handshake on this connection.
   * Whatever the client had buffered in clear is dropped, as RFC 3207 §4.2 asks.
   */
  async startTls(caPem: string): Promise<void> {
    if (this.#reading !== null) throw new AssertionError("A read is still pending");
    if (this.#buffer !== "") {
      throw new AssertionError(`Clear-text bytes after the 220: ${show(this.#buffer)}`);
    }
    const tls = await Deno.startTls(this.#conn as Deno.TcpConn, {
      hostname: SERVER_NAME,
      caCerts: [caPem],
    });
    this.#conn = tls;
    await tls.handshake();
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/** base64 of a PLAIN message (RFC 4616): authzid NUL authcid NUL password. */
export function plain(authzid: string, authcid: string, password: string): string {
  return btoa(String.fromCharCode(...encoder.encode(`${authzid}\0${authcid}\0${password}`)));
}

/** A greeted MX (port 25) connection after EHLO. */
export async function mxSession(t: SmtpFixture): Promise<Wire> {
  const c = await Wire.connect(t.ports.mx);
  try {
    await c.expect("220");
    await c.command("EHLO client.example", "250");
    return c;
  } catch (error) {
    c.close();
    throw error;
  }
}

/**
 * A submission connection (implicit TLS, port 465) after EHLO and, when `user` is given,
 * AUTH PLAIN as that user with `password`.
 */
export async function submission(
  t: SmtpFixture,
  user: string | null,
  password: string,
): Promise<Wire> {
  const c = await Wire.connectTls(t.ports.submissions, t.caPem);
  try {
    await c.expect("220");
    await c.command("EHLO client.example", "250");
    if (user !== null) await c.command(`AUTH PLAIN ${plain("", user, password)}`, "235 2.7.0");
    return c;
  } catch (error) {
    c.close();
    throw error;
  }
}

/** Runs `fn` with a connection made by `open`, always closing it. */
export async function using<T>(
  open: () => Promise<Wire>,
  fn: (c: Wire) => Promise<T>,
): Promise<T> {
  const c = await open();
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** A message with CRLF line ends (a final CRLF added), for DATA or BDAT. */
export function message(...lines: string[]): string {
  return lines.join("\r\n") + "\r\n";
}

function show(value: string): string {
  return JSON.stringify(value);
}
