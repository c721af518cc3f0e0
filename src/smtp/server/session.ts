/**
 * One SMTP session: greeting, the command loop, replies and their batching, and the one place
 * where errors become replies.
 *
 * Invariants:
 * - Replies come in command order. They are batched while more pipelined commands are already
 *   buffered and flushed before any read that would wait (RFC 2920 §3.1), so a pipelining
 *   client gets one packet per group and a lock-step client an answer per command.
 * - Every read is bounded in length and time (settings), and so is a message's content as a
 *   whole. Permanent refusals are counted (`maxErrors`), and so are commands that move nothing
 *   forward (`maxJunkCommands`); either limit ends the session with 421.
 * - Internal error text never reaches the client: anything unexpected is `451 4.3.0` and a log
 *   line with the connection id.
 * - A client that talks before the greeting, or speaks HTTP, is cut off: neither is a mail
 *   client following RFC 5321 §3.1.
 * - Every mail transaction (from an accepted MAIL to the end of its content, RSET, a new
 *   EHLO, STARTTLS or the client leaving) gets exactly one "smtp transaction" log line, with
 *   the connection id, a transaction id, sender, recipient count, size, result and duration;
 *   never content, never credentials ({@link SmtpSession.endTransaction}).
 *
 * @module
 */

import type { FilterContext, FilterStage } from "../../filter/mod.ts";
import { latin1 } from "../../mime/mod.ts";
import { type Connection, LineTooLongError, ReadTimeoutError } from "../../net/connection.ts";
import type { Logger } from "../../ops/log.ts";
import { type Metrics, noMetrics } from "../../ops/metrics.ts";
import { formatReply, parseCommandLine, type Reply, SmtpSyntaxError } from "../proto/mod.ts";
import { COMMANDS } from "./commands/mod.ts";
import type { SmtpDeps } from "./deps.ts";
import { replyForError } from "./errors.ts";
import {
  BARE_LF_COMMAND,
  closing,
  LINE_TOO_LONG,
  SYNC_ERROR,
  TIMEOUT,
  TOO_MANY_ERRORS,
  TOO_MANY_JUNK,
  UNRECOGNIZED,
} from "./replies.ts";
import type { SmtpSettings } from "./settings.ts";
import { SessionState, type Transaction } from "./state.ts";

/** Verbs of other protocols: a browser or proxy probe sent to an SMTP port (cross-protocol). */
const FOREIGN_VERBS = new Set(["GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS"]);
/** "Host: …", "User-Agent: …": HTTP header lines. */
const HEADER_LINE = /^[A-Za-z][A-Za-z0-9-]*:/;

/** How a mail transaction ended, as its log line says. */
export type TransactionResult = "accepted" | "refused" | "tempfailed" | "abandoned";

/** What a transaction's log line may add: the reason of a refusal, the size, the queue id. */
export interface TransactionFields {
  readonly reason?: string;
  readonly size?: number;
  readonly [field: string]: unknown;
}

/** A running SMTP session; commands act on it. */
export class SmtpSession {
  readonly state = new SessionState();
  readonly log: Logger;
  readonly metrics: Metrics;
  #out: string[] = [];
  #closing = false;
  /** The open transaction as its log line will name it. */
  #txn: { readonly of: Transaction; readonly id: string; readonly started: number } | null = null;
  #transactions = 0;
  #lastReply: Reply | null = null;
  /** The first negative reply to the command being served (it speaks for its transaction). */
  #commandFailure: Reply | null = null;

  constructor(
    readonly connection: Connection,
    readonly settings: SmtpSettings,
    readonly deps: SmtpDeps,
  ) {
    this.log = deps.log.child({ conn: connection.id, role: settings.role });
    this.metrics = deps.metrics ?? noMetrics;
  }

  /** True once the session decided to end. */
  get ending(): boolean {
    return this.#closing || this.connection.closed;
  }

  /** Serves the connection until QUIT, an error limit, a timeout or the client leaving. */
  async run(): Promise<void> {
    const { connection, settings } = this;
    if (settings.greetPauseMs > 0) await sleep(settings.greetPauseMs);
    if (connection.pending > 0) {
      // RFC 5321 §3.1: the client waits for the greeting. One that does not is not a real MTA.
      this.log.info("client talked before the greeting", { ip: connection.remote.address });
      await this.end(SYNC_ERROR);
      return;
    }
    const blocked = await this.deps.filter(this.filterContext("connect"));
    if (blocked.verdict.action === "reject" || blocked.verdict.action === "tempfail") {
      const { action, enhanced, text } = blocked.verdict;
      // RFC 5321 §3.1, §4.3.2: at connection time only 220, 554 (refused) and 421 (not now)
      // are allowed, whatever code the check chose.
      const code = action === "reject" ? 554 : 421;
      await this.end({
        code,
        enhanced: `${code === 554 ? 5 : 4}${enhanced.slice(1)}`,
        lines: [text],
      });
      return;
    }
    this.send({ code: 220, enhanced: null, lines: [`${settings.hostname} ESMTP Fumi`] });
    while (!this.ending) {
      if (!connection.hasLine()) await this.flush();
      if (this.ending) break;
      let reply: Reply | null = null;
      this.#commandFailure = null;
      try {
        const line = await connection.readLine(settings.maxCommandLength, settings.idleTimeoutMs);
        if (line === null) break; // the client left; an open transaction is simply dropped
        if (line.ending !== "crlf") {
          reply = BARE_LF_COMMAND;
        } else {
          await this.#dispatch(line.bytes);
        }
      } catch (error) {
        reply = await this.#replyFor(error);
      }
      if (reply !== null) await this.fail(reply);
      this.#trackTransaction();
    }
    this.#trackTransaction(true);
    if (!connection.closed) await this.flush().catch(() => {});
  }

  /**
   * Writes the current transaction's one log line and counts it (accepted: received; refused
   * or tempfailed: rejected, by reason). Commands call it where they know the outcome; a
   * transaction that ends otherwise is logged after its command, from the last reply.
   */
  endTransaction(result: TransactionResult, fields: TransactionFields = {}): void {
    const txn = this.#txn;
    if (txn === null) return;
    this.#txn = null;
    const sender = txn.of.sender;
    this.log.info("smtp transaction", {
      txn: txn.id,
      from: sender === null ? "<>" : sender.canonical,
      rcpts: txn.of.recipients.length,
      result,
      ...fields,
      ms: Math.round(performance.now() - txn.started),
    });
    if (result === "accepted") this.metrics.messageReceived(this.settings.role);
    if (result === "refused" || result === "tempfailed") {
      this.metrics.messageRejected(this.settings.role, fields.reason ?? "other");
    }
  }

  /** Logs the transaction as refused for `reason`, temporarily or not as its refusal was. */
  refuseTransaction(reason: string, fields: TransactionFields = {}): void {
    const code = this.#commandFailure?.code ?? 500;
    this.endTransaction(code >= 500 ? "refused" : "tempfailed", { reason, ...fields });
  }

  /**
   * After each command: notes a transaction that began, logs one that ended unlogged (all of
   * them when the session is `over`).
   */
  #trackTransaction(over = false): void {
    const current = over ? null : this.state.transaction;
    if (this.#txn !== null && this.#txn.of !== current) {
      // The refusal of the command that ended it; at the end, also a reply the server closed
      // with (a 550 to one RCPT before the client left does not count).
      const closing = over && this.#closing ? this.#lastReply : null;
      const code = (this.#commandFailure ?? closing)?.code ?? 0;
      this.endTransaction(
        code >= 500 ? "refused" : code >= 400 ? "tempfailed" : "abandoned",
        code >= 400 ? { reason: `reply ${code}` } : {},
      );
    }
    if (current !== null && this.#txn === null) {
      this.#transactions++;
      this.#txn = {
        of: current,
        id: `${this.connection.id}.${this.#transactions}`,
        started: performance.now(),
      };
    }
  }

  /** Queues a reply; it is written at the next flush. */
  send(reply: Reply): void {
    this.#lastReply = reply;
    this.#out.push(formatReply(reply));
  }

  /**
   * Sends a negative reply. Permanent ones (5xx) are counted and too many end the session;
   * temporary ones (a full mailbox, too many recipients) ask the client to come back, which is
   * not misbehaviour.
   */
  async fail(reply: Reply): Promise<void> {
    this.#commandFailure ??= reply;
    this.send(reply);
    if (reply.code < 500) return;
    this.state.errors++;
    if (this.state.errors >= this.settings.maxErrors) {
      this.log.info("too many errors", { ip: this.connection.remote.address });
      await this.end(TOO_MANY_ERRORS);
    }
  }

  /**
   * Counts a command that moves nothing forward; when there were too many, ends the session
   * (instead of the command's reply) and returns true.
   */
  async junk(): Promise<boolean> {
    this.state.junk++;
    if (this.state.junk < this.settings.maxJunkCommands) return false;
    this.log.info("too many commands without progress", { ip: this.connection.remote.address });
    await this.end(TOO_MANY_JUNK);
    return true;
  }

  /** Queues a line exactly as given (a 334 challenge, which is not cut at 512 octets). */
  sendLine(text: string): void {
    this.#out.push(`${text}\r\n`);
  }

  /** Writes the queued replies. */
  async flush(): Promise<void> {
    if (this.#out.length === 0 || this.connection.closed) return;
    const text = this.#out.join("");
    this.#out = [];
    await this.connection.write(text);
  }

  /** Sends a last reply and closes the connection. */
  async end(reply: Reply): Promise<void> {
    this.#closing = true;
    this.send(reply);
    await this.flush().catch(() => {});
    this.connection.close();
  }

  /**
   * Builds the filter chain's view of the session for a stage, with the current transaction
   * (or `transaction`, for one the session has already closed).
   */
  filterContext(
    stage: FilterStage,
    extra: Partial<FilterContext> = {},
    transaction: Transaction | null = this.state.transaction,
  ): FilterContext {
    const { connection, state, settings } = this;
    return {
      stage,
      connection: {
        ip: connection.remote.address,
        port: connection.local.port,
        tls: connection.tls
          ? { protocol: connection.tls.protocol, cipher: connection.tls.cipher }
          : null,
        role: settings.role,
      },
      helo: state.helo,
      account: state.account ? { id: state.account.id, address: state.account.address } : null,
      sender: transaction ? transaction.sender : undefined,
      declaredSize: transaction?.params.size ?? null,
      recipients:
        transaction?.recipients.flatMap((r) => r.address === "postmaster" ? [] : [r.address]) ?? [],
      recipient: null,
      message: null,
      ...extra,
    };
  }

  async #dispatch(bytes: Uint8Array): Promise<void> {
    // Before parsing: "Host: …" is no SMTP verb at all, and would only be a syntax error.
    const start = latin1(bytes.subarray(0, 16));
    const first = start.split(" ", 1)[0]!.toUpperCase();
    if (FOREIGN_VERBS.has(first) || HEADER_LINE.test(start)) {
      this.log.info("not an SMTP client", { ip: this.connection.remote.address, verb: first });
      await this.end(closing(this.settings.hostname, "This is an SMTP server; closing"));
      return;
    }
    const { verb, args } = parseCommandLine(bytes);
    const command = COMMANDS.get(verb);
    if (command === undefined) {
      await this.fail(UNRECOGNIZED);
      return;
    }
    const refusal = command.allowed(this);
    if (refusal !== null) {
      await this.fail(refusal);
      return;
    }
    await command.run(this, args);
  }

  async #replyFor(error: unknown): Promise<Reply | null> {
    if (error instanceof SmtpSyntaxError) return error.reply;
    if (error instanceof LineTooLongError) return LINE_TOO_LONG;
    if (error instanceof ReadTimeoutError) {
      await this.end(TIMEOUT);
      return null;
    }
    if (this.connection.closed) return null;
    return replyForError(error, this.log);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
