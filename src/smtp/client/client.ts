/**
 * The outbound SMTP client (RFC 5321): one connection to one server, over which messages are
 * sent one after another. Ours, as the server is: the queue's workers drive it.
 *
 * Invariants:
 * - Every read has the timeout RFC 5321 §4.5.3.2 gives its stage (greeting 5 min, MAIL and
 *   RCPT 5 min, DATA 2 min, each data block 3 min, the final dot 10 min); replies are bounded
 *   in line length and count, and a malformed one ends the connection.
 * - TLS follows the policy: "none" never starts it; "opportunistic" starts it whenever offered
 *   and accepts any certificate (RFC 7435: encryption without authentication beats none);
 *   "verify" requires STARTTLS and a certificate valid for the host (MTA-STS enforce, RFC 8461
 *   §4.2; a smarthost), else {@link TlsRequiredError}; "required" is "verify" without the PKIX
 *   check, for a caller that judges the certificate itself (DANE, RFC 7672 §3) before it sends
 *   anything. After STARTTLS the client forgets what it
 *   knew and says EHLO again (RFC 3207 §4.2).
 * - A message is sent only as the server can take it: larger than its SIZE, or with 8-bit
 *   content it did not offer 8BITMIME for, or needing SMTPUTF8 it lacks, it fails at once with
 *   a permanent result of our own, nothing sent (RFC 1870 §6, RFC 6152 §3, RFC 6531 §3.4);
 *   so does a REQUIRETLS message to a server that does not offer REQUIRETLS under TLS
 *   (RFC 8689 §4.2.1: 550 5.7.30).
 * - With PIPELINING (RFC 2920 §3.1) MAIL, every RCPT and DATA go in one write and their
 *   replies are read in order; without it, one command at a time. Either way each recipient
 *   gets its own outcome, and the final reply after the dot applies to those RCPT accepted.
 * - The message goes out dot-stuffed (RFC 5321 §4.5.2) and ends with CRLF . CRLF.
 *
 * @module
 */

import type { ClientTlsState, Connection } from "../../net/connection.ts";
import { FumiError } from "../../util/errors.ts";
import { encodeXtext, type Reply, ReplyAssembler, replyText } from "../proto/mod.ts";

/** How long each stage may take (RFC 5321 §4.5.3.2), in milliseconds. */
export interface ClientTimeouts {
  readonly greeting: number;
  /** EHLO, HELO, STARTTLS, AUTH, RSET, QUIT: not named by the RFC; as for MAIL. */
  readonly command: number;
  readonly mail: number;
  readonly rcpt: number;
  readonly dataInit: number;
  readonly dataBlock: number;
  readonly dataEnd: number;
  readonly tlsHandshake: number;
}

/** RFC 5321 §4.5.3.2's minimums. */
export const RFC_TIMEOUTS: ClientTimeouts = {
  greeting: 5 * 60_000,
  command: 5 * 60_000,
  mail: 5 * 60_000,
  rcpt: 5 * 60_000,
  dataInit: 2 * 60_000,
  dataBlock: 3 * 60_000,
  dataEnd: 10 * 60_000,
  tlsHandshake: 60_000,
};

/** When to use TLS; see the module documentation. */
export type TlsMode = "none" | "opportunistic" | "required" | "verify";

/** How to open a session on a connection. */
export interface ClientOptions {
  /** Our name for EHLO (RFC 5321 §4.1.1.1: the FQDN of this host). */
  readonly heloName: string;
  readonly tls: TlsMode;
  /** The server's host name: SNI, and the name its certificate must have with "verify". */
  readonly serverName: string;
  /** Trusted roots instead of the system's (tests, a private smarthost). */
  readonly ca?: readonly string[];
  readonly timeouts?: Partial<ClientTimeouts>;
  /**
   * TLS from the first byte (RFC 8314 §3.3, port 465: a smarthost's submissions port), with
   * the certificate verified; `tls` is then ignored.
   */
  readonly implicitTls?: boolean;
}

/** A recipient of one transaction, with its DSN parameters (RFC 3461 §4). */
export interface OutboundRecipient {
  readonly address: string;
  /** "NEVER" or a comma-separated list of SUCCESS, FAILURE, DELAY; null when not given. */
  readonly notify: string | null;
  /** "addr-type;address", decoded; null when not given. */
  readonly orcpt: string | null;
}

/** One message to send. */
export interface OutboundMessage {
  /** The reverse-path; "" for the null path. */
  readonly sender: string;
  readonly recipients: readonly OutboundRecipient[];
  readonly envid: string | null;
  readonly ret: "FULL" | "HDRS" | null;
  /** The message, CRLF line ends, not dot-stuffed. */
  readonly content: Uint8Array;
  /** The envelope or the header needs SMTPUTF8 (RFC 6531). */
  readonly smtputf8: boolean;
  /**
   * RFC 8689: true, the sender asked for REQUIRETLS: sent only under TLS to a server that
   * offers REQUIRETLS, with the parameter. False (`TLS-Required: No`) or null: as any message.
   */
  readonly requireTls?: boolean | null;
}

/** What became of a recipient. */
export type Outcome = "delivered" | "temporary" | "permanent";

/** A recipient's outcome and the reply that decided it. */
export interface RecipientResult {
  readonly address: string;
  readonly outcome: Outcome;
  readonly reply: Reply;
  /** True when the reply is our own (a check before sending), not the server's. */
  readonly local: boolean;
}

/** The server closed, timed out or broke the protocol: every open recipient is temporary. */
export class ConnectionLostError extends FumiError {
  constructor(readonly stage: string, cause?: unknown) {
    super(`Connection lost during ${stage}${cause instanceof Error ? `: ${cause.message}` : ""}`);
    this.name = "ConnectionLostError";
  }
}

/** The policy asked for TLS the server cannot give (not offered, refused, or unverified). */
export class TlsRequiredError extends FumiError {
  constructor(message: string) {
    super(message);
    this.name = "TlsRequiredError";
  }
}

/** The server refused the session as a whole (greeting or EHLO/HELO not 2xx). */
export class SessionRefusedError extends FumiError {
  constructor(readonly reply: Reply) {
    super(`Session refused: ${replyText(reply)}`);
    this.name = "SessionRefusedError";
  }
}

/** The server's answer to AUTH was not 235. */
export class AuthFailedError extends FumiError {
  constructor(readonly reply: Reply) {
    super(`Authentication failed: ${replyText(reply)}`);
    this.name = "AuthFailedError";
  }
}

/** Longest reply line accepted (RFC 5321 §4.5.3.1.5 says 512; servers exceed it a little). */
const MAX_REPLY_LINE = 2048;
/** Octets written per data block: each write has its own timeout. */
const DATA_BLOCK = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An open SMTP session; see the module documentation. */
export class SmtpClient {
  readonly #connection: Connection;
  readonly #timeouts: ClientTimeouts;
  readonly #replies = new ReplyAssembler();
  #extensions = new Map<string, string>();
  #tls: ClientTlsState | null = null;
  #greeting: Reply | null = null;

  private constructor(connection: Connection, timeouts: ClientTimeouts) {
    this.#connection = connection;
    this.#timeouts = timeouts;
  }

  /**
   * Reads the greeting, says EHLO (HELO if the server does not know EHLO) and starts TLS as the
   * policy says. On any failure the connection is closed.
   *
   * @throws {SessionRefusedError}, {@link TlsRequiredError}, {@link ConnectionLostError}
   */
  static async open(connection: Connection, options: ClientOptions): Promise<SmtpClient> {
    const client = new SmtpClient(connection, { ...RFC_TIMEOUTS, ...options.timeouts });
    try {
      await client.#start(options);
      return client;
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /** The server's EHLO keywords (upper case) and their parameters. */
  get extensions(): ReadonlyMap<string, string> {
    return this.#extensions;
  }

  /** The TLS state, or null in clear. */
  get tls(): ClientTlsState | null {
    return this.#tls;
  }

  /** The server's greeting. */
  get greeting(): Reply {
    return this.#greeting!;
  }

  /** The server as our peer: its address and port. */
  get remote(): { readonly address: string; readonly port: number } {
    return this.#connection.remote;
  }

  /** True once the connection is closed. */
  get closed(): boolean {
    return this.#connection.closed;
  }

  async #start(options: ClientOptions): Promise<void> {
    if (options.implicitTls) {
      try {
        this.#tls = await this.#connection.startTlsClient({
          servername: options.serverName,
          verify: true,
          ...(options.ca ? { ca: options.ca } : {}),
          handshakeTimeoutMs: this.#timeouts.tlsHandshake,
        });
      } catch (error) {
        throw new TlsRequiredError(`TLS handshake failed: ${(error as Error).message}`);
      }
    }
    this.#greeting = await this.#read("greeting", this.#timeouts.greeting);
    // RFC 5321 §3.1: 554 instead of 220 refuses the session; anything else is no session.
    if (this.#greeting.code !== 220) throw new SessionRefusedError(this.#greeting);
    await this.#hello(options.heloName);
    if (options.tls === "none" || this.#tls !== null) return;
    const mandatory = options.tls === "verify" || options.tls === "required";
    if (!this.#extensions.has("STARTTLS")) {
      if (mandatory) {
        throw new TlsRequiredError("The server does not offer STARTTLS");
      }
      return;
    }
    const ready = await this.#command("STARTTLS", "STARTTLS", this.#timeouts.command);
    if (ready.code !== 220) {
      // RFC 3207 §4: 454 means TLS is unavailable now; without a policy, go on in clear.
      if (mandatory) {
        throw new TlsRequiredError(`STARTTLS refused: ${replyText(ready)}`);
      }
      return;
    }
    try {
      this.#tls = await this.#connection.startTlsClient({
        servername: options.serverName,
        verify: options.tls === "verify",
        ...(options.ca ? { ca: options.ca } : {}),
        handshakeTimeoutMs: this.#timeouts.tlsHandshake,
      });
    } catch (error) {
      if (mandatory) {
        throw new TlsRequiredError(`TLS handshake failed: ${(error as Error).message}`);
      }
      throw new ConnectionLostError("the TLS handshake", error);
    }
    // RFC 3207 §4.2: discard what the server said before; ask again.
    this.#extensions = new Map();
    await this.#hello(options.heloName);
  }

  async #hello(name: string): Promise<void> {
    const ehlo = await this.#command(`EHLO ${name}`, "EHLO", this.#timeouts.command);
    if (ehlo.code === 250) {
      for (const line of ehlo.lines.slice(1)) {
        const [keyword = "", ...params] = line.trim().split(/\s+/);
        if (keyword !== "") this.#extensions.set(keyword.toUpperCase(), params.join(" "));
      }
      return;
    }
    // RFC 5321 §3.2: a server that does not know EHLO answers 500/502; try HELO.
    if (ehlo.code >= 500 && ehlo.code <= 504) {
      const helo = await this.#command(`HELO ${name}`, "HELO", this.#timeouts.command);
      if (helo.code === 250) return;
      throw new SessionRefusedError(helo);
    }
    throw new SessionRefusedError(ehlo);
  }

  /**
   * AUTH PLAIN (RFC 4954, RFC 4616) with SASL-IR, for a smarthost; only over TLS.
   *
   * @throws {AuthFailedError}, {@link TlsRequiredError}, {@link ConnectionLostError}
   */
  async authenticate(user: string, password: string): Promise<void> {
    if (this.#tls === null) throw new TlsRequiredError("No password is sent in clear");
    const mechanisms = (this.#extensions.get("AUTH") ?? "").toUpperCase().split(/\s+/);
    if (!mechanisms.includes("PLAIN")) {
      throw new AuthFailedError({
        code: 504,
        enhanced: "5.5.4",
        lines: ["The server does not offer AUTH PLAIN"],
      });
    }
    const token = btoa(String.fromCharCode(...encoder.encode(`\0${user}\0${password}`)));
    const reply = await this.#command(`AUTH PLAIN ${token}`, "AUTH", this.#timeouts.command);
    if (reply.code !== 235) throw new AuthFailedError(reply);
  }

  /**
   * Sends one message; returns each recipient's outcome. A lost connection makes every
   * recipient not yet decided temporary (the caller retries them) and closes the client.
   */
  async send(message: OutboundMessage): Promise<RecipientResult[]> {
    const refused = this.#cannotTake(message);
    if (refused !== null) {
      return message.recipients.map((r) => ({
        address: r.address,
        outcome: "permanent",
        reply: refused,
        local: true,
      }));
    }
    try {
      return await this.#transaction(message);
    } catch (error) {
      this.#connection.close();
      if (error instanceof ConnectionLostError) {
        const reply = { code: 421, enhanced: "4.4.2", lines: [error.message] };
        return message.recipients.map((r) => ({
          address: r.address,
          outcome: "temporary",
          reply,
          local: true,
        }));
      }
      throw error;
    }
  }

  /** Our own permanent refusal when the server cannot take the message, or null. */
  #cannotTake(message: OutboundMessage): Reply | null {
    const size = Number(this.#extensions.get("SIZE") ?? "0");
    if (this.#extensions.has("SIZE") && size > 0 && message.content.length > size) {
      // RFC 1870 §6: the client should not send a message the server declared too large.
      const text =
        `The message (${message.content.length} octets) exceeds the server's limit of ${size}`;
      return { code: 552, enhanced: "5.3.4", lines: [text] };
    }
    if (
      message.requireTls === true && (this.#tls === null || !this.#extensions.has("REQUIRETLS"))
    ) {
      // RFC 8689 §4.2.1: such a message goes only to a server that offers REQUIRETLS after TLS;
      // RFC 8689 §7 (RFC 3463 registry) X.7.30 "REQUIRETLS support required".
      return {
        code: 550,
        enhanced: "5.7.30",
        lines: ["REQUIRETLS support required: the server does not offer REQUIRETLS"],
      };
    }
    if (message.smtputf8 && !this.#extensions.has("SMTPUTF8")) {
      // RFC 6531 §3.4: without SMTPUTF8 at the server the message cannot be sent as it is.
      return {
        code: 553,
        enhanced: "5.6.7",
        lines: ["The server does not support SMTPUTF8, which the message needs"],
      };
    }
    if (!this.#extensions.has("8BITMIME") && hasEightBit(message.content)) {
      // RFC 6152 §3: 8-bit content only to a server that offered 8BITMIME.
      return {
        code: 554,
        enhanced: "5.6.3",
        lines: ["The server does not support 8BITMIME, which the message needs"],
      };
    }
    return null;
  }

  async #transaction(message: OutboundMessage): Promise<RecipientResult[]> {
    const dsn = this.#extensions.has("DSN");
    const mail = [`MAIL FROM:<${message.sender}>`];
    if (this.#extensions.has("SIZE")) mail.push(`SIZE=${message.content.length}`);
    if (this.#extensions.has("8BITMIME") && hasEightBit(message.content)) {
      mail.push("BODY=8BITMIME");
    }
    if (message.smtputf8) mail.push("SMTPUTF8");
    if (message.requireTls === true) mail.push("REQUIRETLS"); // RFC 8689 §4.2.1
    if (dsn && message.ret !== null) mail.push(`RET=${message.ret}`);
    if (dsn && message.envid !== null) mail.push(`ENVID=${encodeXtext(message.envid)}`);
    const rcpts = message.recipients.map((r) => {
      const parts = [`RCPT TO:<${r.address}>`];
      if (dsn && r.notify !== null) parts.push(`NOTIFY=${r.notify}`);
      if (dsn && r.orcpt !== null) {
        const at = r.orcpt.indexOf(";");
        parts.push(`ORCPT=${r.orcpt.slice(0, at)};${encodeXtext(r.orcpt.slice(at + 1))}`);
      }
      return parts.join(" ");
    });

    let mailReply: Reply;
    const rcptReplies: Reply[] = [];
    let dataReply: Reply | null = null;
    if (this.#extensions.has("PIPELINING")) {
      // RFC 2920 §3.1: DATA may end a group; its reply comes after the RCPT replies.
      await this.#write([mail.join(" "), ...rcpts, "DATA"].join("\r\n") + "\r\n", "MAIL");
      mailReply = await this.#read("MAIL", this.#timeouts.mail);
      for (const _ of rcpts) rcptReplies.push(await this.#read("RCPT", this.#timeouts.rcpt));
      dataReply = await this.#read("DATA", this.#timeouts.dataInit);
    } else {
      mailReply = await this.#command(mail.join(" "), "MAIL", this.#timeouts.mail);
      if (mailReply.code === 250) {
        for (const rcpt of rcpts) {
          rcptReplies.push(await this.#command(rcpt, "RCPT", this.#timeouts.rcpt));
        }
        if (rcptReplies.some((r) => r.code === 250 || r.code === 251)) {
          dataReply = await this.#command("DATA", "DATA", this.#timeouts.dataInit);
        }
      }
    }

    const accepted = (i: number) =>
      mailReply.code === 250 && (rcptReplies[i]?.code === 250 || rcptReplies[i]?.code === 251);
    const anyAccepted = message.recipients.some((_, i) => accepted(i));
    let finalReply: Reply | null = null;
    if (dataReply?.code === 354) {
      if (anyAccepted) {
        await this.#sendContent(message.content);
        finalReply = await this.#read("the end of the data", this.#timeouts.dataEnd);
      } else {
        // RFC 2920 §3.1: DATA was accepted though no recipient was; end it empty.
        await this.#write(".\r\n", "DATA");
        await this.#read("the end of the data", this.#timeouts.dataEnd);
      }
    }
    const results = message.recipients.map((r, i): RecipientResult => {
      const reply = mailReply.code !== 250
        ? mailReply
        : !accepted(i)
        ? rcptReplies[i]!
        : dataReply === null || dataReply.code !== 354
        ? dataReply ?? mailReply
        : finalReply!;
      return { address: r.address, outcome: outcomeOf(reply), reply, local: false };
    });
    // A transaction that did not end with the final reply leaves the server mid-way: RSET.
    // If that fails the connection is done, but the replies already given still stand.
    if (finalReply === null) await this.reset().catch(() => this.#connection.close());
    return results;
  }

  /** RSET (RFC 5321 §4.1.1.5): forgets a transaction. */
  async reset(): Promise<void> {
    const reply = await this.#command("RSET", "RSET", this.#timeouts.command);
    if (reply.code !== 250) throw new ConnectionLostError(`RSET (${replyText(reply)})`);
  }

  /** QUIT, then closes the connection; never throws. */
  async quit(): Promise<void> {
    if (!this.#connection.closed) {
      await this.#command("QUIT", "QUIT", Math.min(this.#timeouts.command, 10_000)).catch(() => {});
    }
    this.#connection.close();
  }

  /** Closes the connection at once. */
  close(): void {
    this.#connection.close();
  }

  async #sendContent(content: Uint8Array): Promise<void> {
    const stuffed = dotStuff(content);
    for (let at = 0; at < stuffed.length; at += DATA_BLOCK) {
      await this.#write(stuffed.subarray(at, at + DATA_BLOCK), "data", this.#timeouts.dataBlock);
    }
  }

  async #command(line: string, stage: string, timeoutMs: number): Promise<Reply> {
    await this.#write(`${line}\r\n`, stage);
    return await this.#read(stage, timeoutMs);
  }

  async #write(data: string | Uint8Array, stage: string, timeoutMs?: number): Promise<void> {
    try {
      await this.#connection.write(data, timeoutMs ?? this.#timeouts.command);
    } catch (error) {
      throw new ConnectionLostError(stage, error);
    }
  }

  async #read(stage: string, timeoutMs: number): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let line;
      try {
        line = await this.#connection.readLine(MAX_REPLY_LINE, Math.max(1, deadline - Date.now()));
      } catch (error) {
        // A timeout, a line beyond any reply's length, a reset: this connection is done.
        throw new ConnectionLostError(stage, error);
      }
      if (line === null) throw new ConnectionLostError(stage, new Error("closed by the server"));
      let reply;
      try {
        reply = this.#replies.push(decoder.decode(line.bytes));
      } catch (error) {
        throw new ConnectionLostError(stage, error);
      }
      if (reply !== null) return reply;
    }
  }
}

/** 2xx and 3xx: done; 4xx: try again later; 5xx: never (RFC 5321 §4.2.1). */
export function outcomeOf(reply: Reply): Outcome {
  if (reply.code < 400) return "delivered";
  return reply.code < 500 ? "temporary" : "permanent";
}

function hasEightBit(content: Uint8Array): boolean {
  for (const byte of content) if (byte >= 0x80) return true;
  return false;
}

/**
 * The message as DATA sends it (RFC 5321 §4.5.2): a "." doubled at the start of every line,
 * a CRLF added if the last line lacks one, and the terminating "." line.
 */
export function dotStuff(content: Uint8Array): Uint8Array {
  let dots = 0;
  for (let i = 0; i < content.length; i++) {
    if (content[i] === 0x2e && (i === 0 || content[i - 1] === 0x0a)) dots++;
  }
  const endsWithCrlf = content.length >= 2 && content[content.length - 2] === 0x0d &&
    content[content.length - 1] === 0x0a;
  const tail = endsWithCrlf || content.length === 0 ? ".\r\n" : "\r\n.\r\n";
  const out = new Uint8Array(content.length + dots + tail.length);
  let o = 0;
  for (let i = 0; i < content.length; i++) {
    if (content[i] === 0x2e && (i === 0 || content[i - 1] === 0x0a)) out[o++] = 0x2e;
    out[o++] = content[i]!;
  }
  out.set(encoder.encode(tail), o);
  return out;
}
