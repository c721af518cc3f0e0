/**
 * An SMTP load generator over node:net (or node:tls): `sessions` connections each say EHLO
 * once and then send messages one transaction after another (MAIL, RCPT, DATA, the body) until
 * `messages` have been tried or the time limit has passed. Recipients take turns over the list.
 *
 * - With PIPELINING offered (RFC 2920 §3.1), MAIL, RCPT and DATA go in one write and the body
 *   follows the 354; without it, each command waits for its reply.
 * - A message's latency runs from the write of MAIL to the reply after the body. Only messages
 *   answered 250 are accepted; every other outcome is an error counted under its reply (or the
 *   connection failure), and a failed transaction is ended with RSET (RFC 5321 §4.1.1.5).
 * - After `perConnection` messages a session says QUIT and opens a new connection, as servers
 *   cap the messages of one connection (Fumi's default is 1000).
 * - A connection that fails is opened again; a session gives up after three failures in a row.
 * - Messages are built and dot-stuffed (RFC 5321 §4.5.2) before the clock starts.
 * - With `tls`, connections use implicit TLS (RFC 8314 §3.3, a submissions port) and the
 *   server's certificate is not checked (the benches' servers are self-signed); with `auth`,
 *   each session says AUTH PLAIN (RFC 4954 §4, RFC 4616) after EHLO.
 *
 * @module
 */

import net from "node:net";
import tls from "node:tls";

/** What to send, and where. */
export interface LoadOptions {
  readonly host: string;
  readonly port: number;
  readonly sessions: number;
  readonly messages: number;
  readonly sender: string;
  readonly recipients: readonly string[];
  /** Message `index` as it should arrive: CRLF lines, not dot-stuffed. */
  readonly message: (index: number) => Uint8Array;
  readonly timeLimitSeconds: number;
  /** Messages sent over one connection before a new one is opened. */
  readonly perConnection: number;
  readonly print: (line: string) => void;
  /** Implicit TLS, the certificate unchecked. */
  readonly tls?: boolean;
  /** Credentials for AUTH PLAIN after EHLO. */
  readonly auth?: { readonly user: string; readonly password: string };
}

/** What a load run did. */
export interface LoadResult {
  /** Messages whose transaction was started. */
  readonly attempted: number;
  /** Messages answered 250 after the body. */
  readonly accepted: number;
  /** Latency of each accepted message, in ms, sorted. */
  readonly latenciesMs: Float64Array;
  /** Per message index: when MAIL was written, epoch ms (NaN if never sent). */
  readonly sentAt: Float64Array;
  /** Per message index: when its 250 came back, epoch ms (NaN if it was not accepted). */
  readonly acceptedAt: Float64Array;
  /** Epoch ms when the sessions were open and the first MAIL went out. */
  readonly startedAt: number;
  /** From the start to the last reply. */
  readonly seconds: number;
  /** Errors by kind (reply or connection failure), with counts. */
  readonly errors: ReadonlyMap<string, number>;
  /** Sessions that opened at the start. */
  readonly opened: number;
  /** How many of them the server offered PIPELINING to. */
  readonly pipelined: number;
  /** Why it stopped before trying every message, or null. */
  readonly cutShort: string | null;
}

interface Reply {
  readonly code: number;
  readonly lines: readonly string[];
}

const REPLY_TIMEOUT_MS = 60_000;
const MAX_LINE = 64 * 1024;
const MAX_FAILURES_IN_A_ROW = 3;
const PROGRESS_EVERY_MS = 5_000;
const encoder = new TextEncoder();
const now = () => performance.timeOrigin + performance.now();

/** Runs the load; see the module documentation. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { messages, print } = options;
  // Built before the clock starts, so only the server is timed.
  const envelopes = Array.from({ length: messages }, (_, i) => {
    const to = options.recipients[i % options.recipients.length]!;
    return [`MAIL FROM:<${options.sender}>\r\n`, `RCPT TO:<${to}>\r\n`, "DATA\r\n"] as const;
  });
  const bodies = Array.from({ length: messages }, (_, i) => dotStuff(options.message(i)));
  const errors = new Map<string, number>();
  const fail = (what: string) => errors.set(what, (errors.get(what) ?? 0) + 1);
  const latencies: number[] = [];
  const sentAt = new Float64Array(messages).fill(NaN);
  const acceptedAt = new Float64Array(messages).fill(NaN);

  const opened = await Promise.all(
    Array.from({ length: options.sessions }, () => openSession(options).catch((e) => e)),
  );
  const sessions = opened.filter((s): s is Session => s instanceof Session);
  for (const e of opened) if (!(e instanceof Session)) fail(`connect: ${describe(e)}`);
  if (sessions.length === 0) {
    throw new Error(
      `No session could open to ${options.host}:${options.port}: ${[...errors.keys()].join("; ")}`,
    );
  }

  const startedAt = now();
  const deadline = startedAt + options.timeLimitSeconds * 1000;
  let next = 0;
  let lastReply = startedAt;
  let outOfTime = false;
  const progress = setInterval(() => {
    const s = (now() - startedAt) / 1000;
    print(`  ${latencies.length} / ${messages} accepted after ${s.toFixed(0)} s`);
  }, PROGRESS_EVERY_MS);

  const worker = async (first: Session) => {
    let session: Session | null = first;
    let failures = 0;
    let sent = 0;
    while (next < messages) {
      if (session !== null && sent >= options.perConnection) {
        await session.quit();
        session = null;
      }
      if (now() > deadline) {
        outOfTime = true;
        break;
      }
      if (session === null) {
        session = await openSession(options).catch((error) => {
          fail(`connect: ${describe(error)}`);
          return null;
        });
        if (session === null) {
          if (++failures >= MAX_FAILURES_IN_A_ROW) break;
          continue;
        }
        sent = 0;
      }
      const index = next++;
      const [mail, rcpt, data] = envelopes[index]!;
      const start = now();
      sentAt[index] = start;
      sent++;
      try {
        const error = await session.transaction(mail, rcpt, data, bodies[index]!);
        lastReply = now();
        if (error === null) {
          latencies.push(lastReply - start);
          acceptedAt[index] = lastReply;
        } else fail(error);
        failures = 0;
      } catch (error) {
        fail(`connection: ${describe(error)}`);
        session.close();
        session = null;
        if (++failures >= MAX_FAILURES_IN_A_ROW) break;
      }
    }
    await session?.quit();
  };
  try {
    await Promise.all(sessions.map(worker));
  } finally {
    clearInterval(progress);
  }
  const attempted = Math.min(next, messages);
  const cutShort = attempted === messages
    ? null
    : outOfTime
    ? `stopped at the ${options.timeLimitSeconds} s limit after ${attempted} of ${messages}`
    : `every session failed ${MAX_FAILURES_IN_A_ROW} times in a row; ${attempted} of ${messages} tried`;
  return {
    attempted,
    accepted: latencies.length,
    latenciesMs: Float64Array.from(latencies).sort(),
    sentAt,
    acceptedAt,
    startedAt,
    seconds: (lastReply - startedAt) / 1000,
    errors,
    opened: sessions.length,
    pipelined: sessions.filter((s) => s.pipelining).length,
    cutShort,
  };
}

/** The `p` quantile (0…1) of sorted values, nearest rank; NaN when empty. */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
}

/** The body as sent after 354: dot-stuffed and ended by the lone dot. RFC 5321 §4.5.2 */
export function dotStuff(message: Uint8Array): Uint8Array {
  const text = new TextDecoder("latin1").decode(message);
  const stuffed = text.replace(/^\./, "..").replaceAll("\r\n.", "\r\n..");
  const ending = stuffed.endsWith("\r\n") ? ".\r\n" : "\r\n.\r\n";
  return Uint8Array.from(stuffed + ending, (c) => c.charCodeAt(0));
}

async function openSession(options: LoadOptions): Promise<Session> {
  const socket = options.tls === true
    ? tls.connect({ host: options.host, port: options.port, rejectUnauthorized: false })
    : net.createConnection({ host: options.host, port: options.port });
  const session = new Session(socket);
  try {
    const greeting = await session.reply();
    if (greeting.code !== 220) throw new Error(`greeting ${firstLine(greeting)}`);
    const ehlo = await session.command("EHLO loadgen.test\r\n");
    if (ehlo.code !== 250) throw new Error(`EHLO answered ${firstLine(ehlo)}`);
    // RFC 5321 §4.1.1.1: the keywords follow the first line.
    session.pipelining = ehlo.lines.slice(1).some((l) => /^pipelining\b/i.test(l.slice(4)));
    if (options.auth !== undefined) {
      // RFC 4616 §2: authzid NUL authcid NUL passwd; RFC 4954 §4: the initial response.
      const plain = btoa(`\0${options.auth.user}\0${options.auth.password}`);
      const auth = await session.command(`AUTH PLAIN ${plain}\r\n`);
      if (auth.code !== 235) throw new Error(`AUTH answered ${firstLine(auth)}`);
    }
    return session;
  } catch (error) {
    session.close();
    throw error;
  }
}

/** One connection: writes commands and reads replies in order. */
class Session {
  pipelining = false;
  readonly #socket: net.Socket;
  #buffer = "";
  #lines: string[] = [];
  readonly #replies: Reply[] = [];
  #waiter: { resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  #failure: Error | null = null;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.setEncoding("latin1");
    socket.setTimeout(REPLY_TIMEOUT_MS);
    socket.on("data", (text: string) => this.#feed(text));
    socket.on("timeout", () => this.#fail(new Error(`no reply in ${REPLY_TIMEOUT_MS / 1000} s`)));
    socket.on("error", (error: Error) => this.#fail(error));
    socket.on("close", () => this.#fail(new Error("closed by the server")));
  }

  /** The next reply. */
  reply(): Promise<Reply> {
    const ready = this.#replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  command(line: string): Promise<Reply> {
    this.#socket.write(encoder.encode(line));
    return this.reply();
  }

  /** Sends one message; null when accepted, else what went wrong. Throws if the link fails. */
  async transaction(
    mail: string,
    rcpt: string,
    data: string,
    body: Uint8Array,
  ): Promise<string | null> {
    let replies: Reply[];
    if (this.pipelining) {
      this.#socket.write(encoder.encode(mail + rcpt + data)); // RFC 2920 §3.1
      replies = [await this.reply(), await this.reply(), await this.reply()];
    } else {
      replies = [];
      for (const line of [mail, rcpt, data]) {
        const reply = await this.command(line);
        replies.push(reply);
        if (reply.code >= 400) break;
      }
    }
    const dataReply = replies[2];
    if (dataReply?.code !== 354) {
      const i = replies.findIndex((r) => r.code >= 400);
      const failed = replies[i] ?? dataReply ?? replies.at(-1)!;
      if (replies[0]!.code === 250) await this.command("RSET\r\n"); // RFC 5321 §4.1.1.5
      return `${["MAIL", "RCPT", "DATA"][i] ?? "DATA"}: ${firstLine(failed)}`;
    }
    this.#socket.write(body);
    const final = await this.reply();
    return final.code === 250 ? null : `end of data: ${firstLine(final)}`;
  }

  /** Says QUIT (RFC 5321 §4.1.1.10) and closes, whatever the answer. */
  async quit(): Promise<void> {
    await this.command("QUIT\r\n").catch(() => {});
    this.close();
  }

  close(): void {
    this.#fail(new Error("closed"));
    this.#socket.destroy();
  }

  #feed(text: string): void {
    this.#buffer += text;
    let at;
    while ((at = this.#buffer.indexOf("\r\n")) !== -1) {
      const line = this.#buffer.slice(0, at);
      this.#buffer = this.#buffer.slice(at + 2);
      this.#lines.push(line);
      // RFC 5321 §4.2.1: "250-" continues a reply, "250 " (or a bare code) ends it.
      if (line.length > 3 && line[3] === "-") continue;
      const reply = { code: Number(line.slice(0, 3)) || 0, lines: this.#lines };
      this.#lines = [];
      const waiter = this.#waiter;
      this.#waiter = null;
      if (waiter) waiter.resolve(reply);
      else this.#replies.push(reply);
    }
    if (this.#buffer.length > MAX_LINE) {
      this.#fail(new Error(`a reply line longer than ${MAX_LINE} bytes`));
      this.#socket.destroy();
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.reject(this.#failure);
  }
}

function firstLine(reply: Reply): string {
  return (reply.lines[0] ?? String(reply.code)).slice(0, 120);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
