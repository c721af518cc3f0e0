/**
 * One IMAP session (RFC 9051 §3): greeting, the command loop, the states, untagged and tagged
 * responses, and the one place where errors become responses.
 *
 * Invariants:
 * - States are checked once, at dispatch, from the command table (commands/mod.ts).
 * - Responses are queued and written before any read that would wait, so a pipelining client
 *   gets one packet per group and a lock-step client an answer per command.
 * - Updates of the selected mailbox (EXPUNGE, EXISTS, FETCH FLAGS) are sent only where
 *   RFC 9051 §7 allows them: after a command's own responses and before its tagged response;
 *   never EXPUNGE during FETCH, STORE or SEARCH (§7.5.1).
 * - Every read is bounded (reader.ts: line, literal, whole command, time); BAD responses are
 *   counted and too many end the session with BYE.
 * - Internal error text never reaches the client: anything unexpected is `NO [SERVERBUG]` and
 *   a log line with the connection id (errors.ts).
 * - Every session ends with one "imap session" log line: connection id, user (if one signed
 *   in), duration, commands, octets in and out. Never a password, never message content.
 *
 * @module
 */

import type { SignedIn } from "../../auth/login.ts";
import { type Connection, LineTooLongError, ReadTimeoutError } from "../../net/connection.ts";
import type { Logger } from "../../ops/log.ts";
import {
  continuation,
  decodeMailboxName,
  encodeMailboxName,
  ImapParseError,
  parseCommand,
  type ResponseCode,
  tagged,
  untagged,
} from "../proto/mod.ts";
import { COMMANDS, NO_EXPUNGE } from "./commands/mod.ts";
import { THREAD_ALGORITHMS } from "./commands/sort.ts";
import type { ImapDeps } from "./deps.ts";
import { bad, type Completion, completionForError, ImapRefusal } from "./errors.ts";
import { readCommand } from "./reader.ts";
import type { SelectedMailbox } from "./selected.ts";
import type { ImapSettings } from "./settings.ts";

/** RFC 9051 §3: the connection's state. */
export type ImapState = "not-authenticated" | "authenticated" | "selected" | "logout";

/** Extensions a client may ENABLE (RFC 5161), upper case. */
export const ENABLEABLE: ReadonlySet<string> = new Set([
  "IMAP4REV2",
  "UTF8=ACCEPT",
  "CONDSTORE",
  "QRESYNC",
]);

const encoder = new TextEncoder();
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/** The longest command other than APPEND, literals included. */
const MAX_COMMAND_OCTETS = 1024 * 1024;

/** Commands a client may send before it signs in (CAPABILITY, STARTTLS, a few tries). */
const MAX_COMMANDS_BEFORE_SIGN_IN = 30;

/** A running IMAP session; commands act on it. */
export class ImapSession {
  state: ImapState = "not-authenticated";
  account: SignedIn | null = null;
  selected: SelectedMailbox | null = null;
  /** Extensions the client enabled (RFC 5161), upper case. */
  readonly enabled = new Set<string>();
  /** CONDSTORE is in effect: enabled, or used by a command (RFC 7162 §3.1). */
  condstore = false;
  /** The saved search result `$` as UIDs (RFC 5182); reset when a mailbox is selected. */
  savedUids: readonly number[] = [];
  readonly log: Logger;
  #bad = 0;
  /** Until when the client may stay unauthenticated, commands and continuations included. */
  readonly #signInBy: number;
  /** Commands before sign-in (bounded: see MAX_COMMANDS_BEFORE_SIGN_IN). */
  #preAuthCommands = 0;
  #out: Uint8Array[] = [];
  #queued = 0;
  /** Counts this session out of its account's connections (see {@link countIn}). */
  #countOut: (() => void) | null = null;
  /** For the session's log line: commands read, octets read and written, start time. */
  #commands = 0;
  #octetsIn = 0;
  #octetsOut = 0;
  readonly #started = performance.now();

  constructor(
    readonly connection: Connection,
    readonly settings: ImapSettings,
    readonly deps: ImapDeps,
  ) {
    this.log = deps.log.child({ conn: connection.id, protocol: "imap" });
    this.#signInBy = Date.now() + settings.preAuthTimeoutMs;
  }

  /**
   * How long the next read may wait: the idle timeout once signed in; before that, what is left
   * of the time to sign in, so an anonymous client cannot hold its connection with NOOPs or a
   * silent AUTHENTICATE.
   */
  #readTimeout(): number {
    if (this.state !== "not-authenticated") return this.settings.idleTimeoutMs;
    return Math.max(1, this.#signInBy - Date.now());
  }

  /** IMAP4rev2 enabled: rev2 responses (RFC 9051 §6.3.1). */
  get rev2(): boolean {
    return this.enabled.has("IMAP4REV2");
  }

  /** Mailbox names and quoted strings in UTF-8 (IMAP4rev2, or UTF8=ACCEPT: RFC 6855 §3). */
  get utf8(): boolean {
    return this.rev2 || this.enabled.has("UTF8=ACCEPT");
  }

  /** QRESYNC enabled (RFC 7162 §3.2.3). */
  get qresync(): boolean {
    return this.enabled.has("QRESYNC");
  }

  /** True once the session decided to end. */
  get ending(): boolean {
    return this.state === "logout" || this.connection.closed;
  }

  /** The capabilities in the current state (RFC 9051 §6.1.1). */
  capabilities(): string[] {
    const caps = ["IMAP4rev1", "IMAP4rev2", this.settings.literalExtension, "ENABLE", "ID"];
    caps.push("SASL-IR", "IDLE", "NAMESPACE", "UNSELECT", "UIDPLUS", "MOVE", "CHILDREN");
    caps.push("LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE", "ESEARCH", "CONDSTORE", "QRESYNC");
    caps.push("QUOTA", "QUOTA=RES-STORAGE", "STATUS=SIZE", "BINARY", "UTF8=ACCEPT");
    // RFC 5256 §3 SORT, RFC 5957 SORT=DISPLAY, RFC 5256 §2 THREAD (commands/sort.ts)
    caps.push("SORT", "SORT=DISPLAY", ...THREAD_ALGORITHMS.map((a) => `THREAD=${a}`));
    caps.push(`APPENDLIMIT=${this.settings.maxMessageSize}`);
    if (this.state !== "not-authenticated") return caps;
    if (this.connection.tls === null) {
      // RFC 9051 §6.2.3, RFC 8314: no password in clear; loopback gets no exemption.
      if (this.deps.startTls !== null) caps.push("STARTTLS");
      caps.push("LOGINDISABLED");
    } else {
      caps.push("AUTH=PLAIN", "AUTH=SCRAM-SHA-256");
    }
    return caps;
  }

  /** Serves the connection until LOGOUT, too many errors, a timeout or the client leaving. */
  async run(): Promise<void> {
    const { connection, settings } = this;
    this.send(untagged(
      "OK",
      `${settings.hostname} Fumi IMAP ready`,
      { code: "CAPABILITY", capabilities: this.capabilities() },
    ));
    try {
      while (!this.ending) {
        if (!connection.hasLine()) await this.flush();
        if (this.ending) break;
        await this.#step();
      }
      if (!connection.closed) await this.flush().catch(() => {});
    } finally {
      this.selected?.close();
      this.selected = null;
      this.#countOut?.();
      this.log.info("imap session", {
        user: this.account?.address ?? null,
        ms: Math.round(performance.now() - this.#started),
        commands: this.#commands,
        octetsIn: this.#octetsIn,
        octetsOut: this.#octetsOut,
      });
    }
  }

  /**
   * Counts the session among `accountId`'s from the client's address (user_connections.ts),
   * until it ends; false, counting nothing, when that many are already signed in.
   */
  countIn(accountId: number): boolean {
    const countOut = this.deps.userConnections.take(accountId, this.connection.remote.address);
    this.#countOut = countOut;
    return countOut !== null;
  }

  /** Queues a response; it is written at the next flush. */
  send(response: string | Uint8Array): void {
    const bytes = typeof response === "string" ? encoder.encode(response) : response;
    this.#out.push(bytes);
    this.#queued += bytes.length;
  }

  /** Octets queued and not yet written. */
  get queued(): number {
    return this.#queued;
  }

  /** Writes the queued responses. */
  async flush(): Promise<void> {
    if (this.#out.length === 0 || this.connection.closed) return;
    const parts = this.#out;
    const total = this.#queued;
    this.#out = [];
    this.#queued = 0;
    this.#octetsOut += total;
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    await this.connection.write(bytes);
  }

  /** Sends BYE and closes the connection. */
  async bye(text: string, code?: ResponseCode): Promise<void> {
    this.state = "logout";
    this.send(untagged("BYE", text, code));
    await this.flush().catch(() => {});
    this.connection.close();
  }

  /** A mailbox name as the client sent it, in the store's form; BAD when it is not one. */
  mailboxName(name: string): string {
    const decoded = this.utf8 ? name : decodeMailboxName(name);
    if (decoded === null) throw new ImapRefusal(bad("Invalid modified UTF-7 mailbox name"));
    // Control characters are refused, never stored (the parser lets them through literals).
    if (CONTROL.test(decoded)) throw new ImapRefusal(bad("Invalid mailbox name"));
    return decoded;
  }

  /** A mailbox name as this client reads it: UTF-8, or modified UTF-7 (RFC 3501 §5.1.3). */
  clientName(name: string): string {
    return this.utf8 ? name : encodeMailboxName(name);
  }

  /** Sends a continuation request and reads one line (AUTHENTICATE, IDLE). */
  async continueWith(text: string, maxLength: number): Promise<string | null> {
    this.send(continuation(text));
    await this.flush();
    const line = await this.connection.readLine(maxLength, this.#readTimeout());
    return line === null ? null : new TextDecoder().decode(line.bytes);
  }

  /** Counts a BAD; too many end the session. */
  async #countBad(): Promise<void> {
    this.#bad++;
    if (this.#bad >= this.settings.maxBadCommands) {
      this.log.info("too many bad commands", { ip: this.connection.remote.address });
      await this.bye("Too many invalid commands");
    }
  }

  async #step(): Promise<void> {
    const { connection, settings } = this;
    if (
      this.state === "not-authenticated" && ++this.#preAuthCommands > MAX_COMMANDS_BEFORE_SIGN_IN
    ) {
      this.log.info("too many commands before sign-in", { ip: connection.remote.address });
      await this.bye("Too many commands without signing in");
      return;
    }
    let bytes: Uint8Array;
    try {
      const result = await readCommand(connection, {
        maxLineLength: settings.maxLineLength,
        maxLiteral: this.state === "not-authenticated"
          ? settings.maxLiteralBeforeAuth
          : settings.maxMessageSize,
        extension: settings.literalExtension,
        timeoutMs: this.#readTimeout(),
      }, async () => {
        this.send(continuation("Ready for literal data"));
        await this.flush();
      });
      if (result.kind === "end") {
        this.state = "logout";
        return;
      }
      if (result.kind === "refused") {
        const text = result.text;
        this.send(
          result.tag === null
            ? untagged("BAD", text, "TOOBIG")
            : tagged(result.tag, "BAD", text, "TOOBIG"),
        );
        if (result.close) await this.bye("Closing: literal refused", "TOOBIG");
        else await this.#countBad();
        return;
      }
      bytes = result.bytes;
    } catch (error) {
      if (error instanceof LineTooLongError) {
        this.send(untagged("BAD", "Command line too long", "TOOBIG"));
        await this.#countBad();
        return;
      }
      if (error instanceof ReadTimeoutError) {
        await this.bye("Autologout; idle for too long"); // RFC 9051 §5.4
        return;
      }
      if (!connection.closed) this.log.info("read failed", { error: String(error) });
      this.state = "logout";
      connection.close();
      return;
    }
    await this.#execute(bytes);
  }

  async #execute(bytes: Uint8Array): Promise<void> {
    this.#commands++;
    this.#octetsIn += bytes.length;
    let tag: string;
    let completion: Completion | null;
    let command;
    try {
      ({ tag, command } = parseCommand(bytes));
    } catch (error) {
      if (!(error instanceof ImapParseError)) throw error;
      const text = error.text || "Syntax error";
      this.send(
        error.tag === null
          ? untagged("BAD", text, error.code)
          : tagged(error.tag, "BAD", text, error.code),
      );
      await this.#countBad();
      return;
    }
    const handler = command.name === "UNKNOWN" ? undefined : COMMANDS.get(command.name);
    if (command.name !== "APPEND" && bytes.length > MAX_COMMAND_OCTETS) {
      // Only APPEND carries a message; a megabyte of anything else (search keys, say) is
      // work for the server and no use to a client.
      this.send(tagged(tag, "BAD", "Command too long", "TOOBIG"));
      await this.#countBad();
      return;
    }
    if (handler === undefined) {
      completion = bad("Unknown command");
    } else if (!handler.states.includes(this.state)) {
      completion = this.state === "not-authenticated"
        ? bad("Authenticate first")
        : bad("Not allowed in this state");
    } else {
      try {
        completion = await handler.run(this, tag, command);
        if (completion !== null && this.selected !== null && completion.status !== "BAD") {
          await this.sendUpdates(!NO_EXPUNGE.has(command.name));
        }
      } catch (error) {
        if (this.connection.closed) return;
        if (error instanceof ReadTimeoutError) {
          await this.bye("Autologout; idle for too long"); // a SASL exchange left hanging
          return;
        }
        completion = completionForError(error, this.log);
      }
    }
    if (completion === null) return;
    this.send(tagged(tag, completion.status, completion.text, completion.code));
    if (completion.status === "BAD") await this.#countBad();
  }

  /** Queues the selected mailbox's changes as untagged responses. */
  async sendUpdates(expunge: boolean): Promise<void> {
    const selected = this.selected;
    if (selected === null) return;
    const responses = await selected.refresh({
      expunge,
      qresync: this.qresync,
      condstore: this.condstore,
    });
    for (const r of responses) this.send(r);
  }
}
