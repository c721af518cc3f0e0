/**
 * One IMAP command, parsed whole (RFC 9051 §2.2.1, §6): the tag, the command name (with the
 * UID prefix, RFC 9051 §6.4.9) and its arguments, into a {@link Command} the session
 * dispatches on by `name`.
 *
 * The input is the command as received: lines joined by their CRLFs with each literal's
 * octets inline after its announcement (`{n}`, `{n+}`, `{n-}` and, in APPEND, `~{n}`); the
 * final CRLF may be there or not. The session's reader builds it with `literalAtEnd`
 * (literal.ts), having applied its size limits.
 *
 * Invariants:
 * - Every refusal is an {@link ImapParseError} with the tag once it is known; nothing else is
 *   thrown for any input (a fuzz test holds it to that).
 * - Work is linear in the input; recursion is bounded ({@link MAX_SEARCH_DEPTH}); no value
 *   is allocated in proportion to a number in the input (sequence ranges stay ranges, a
 *   literal is a view of the input after its size is checked against what is there).
 * - Unknown commands are not refused here but returned as `UNKNOWN`, arguments unread: which
 *   commands exist in which state, and what to answer, is the session's.
 *
 * @module
 */

import { quote } from "./_errors.ts";
import { Reader } from "./_lexer.ts";
import { type AppendCommand, parseAppend } from "./append.ts";
import {
  type AuthenticateCommand,
  type LoginCommand,
  parseAuthenticate,
  parseLogin,
} from "./auth.ts";
import { type EnableCommand, type IdCommand, parseEnable, parseId } from "./client.ts";
import { type FetchCommand, parseFetch } from "./fetch_items.ts";
import { type ListCommand, type LsubCommand, parseList, parseLsub } from "./list.ts";
import {
  type CreateCommand,
  type GetQuotaCommand,
  type MailboxCommand,
  parseCreate,
  parseGetQuota,
  parseMailboxCommand,
  parseRename,
  type RenameCommand,
} from "./mailbox.ts";
import { parseSearch, type SearchCommand } from "./search_keys.ts";
import { parseSelect, type SelectCommand } from "./select.ts";
import { parseSort, parseThread, type SortCommand, type ThreadCommand } from "./sort.ts";
import { parseStatus, type StatusCommand } from "./status.ts";
import {
  type CopyCommand,
  type ExpungeCommand,
  parseCopy,
  parseExpunge,
  parseStore,
  type StoreCommand,
} from "./store.ts";

export { ImapParseError, type ImapParseErrorCode } from "./_errors.ts";
export { MAX_SEARCH_DEPTH } from "./search_keys.ts";

/** A command without arguments. */
export interface SimpleCommand {
  readonly name:
    | "CAPABILITY"
    | "NOOP"
    | "LOGOUT"
    | "STARTTLS"
    | "NAMESPACE"
    | "IDLE"
    | "CHECK"
    | "CLOSE"
    | "UNSELECT";
}

/** A command name the parser does not know; the session answers BAD. */
export interface UnknownCommand {
  readonly name: "UNKNOWN";
  /** The command name as sent, in upper case (an atom: printable ASCII, safe to echo). */
  readonly verb: string;
}

/** Every command, discriminated by `name`. */
export type Command =
  | SimpleCommand
  | AuthenticateCommand
  | LoginCommand
  | EnableCommand
  | IdCommand
  | SelectCommand
  | CreateCommand
  | MailboxCommand
  | RenameCommand
  | GetQuotaCommand
  | ListCommand
  | LsubCommand
  | StatusCommand
  | AppendCommand
  | ExpungeCommand
  | SearchCommand
  | FetchCommand
  | StoreCommand
  | CopyCommand
  | SortCommand
  | ThreadCommand
  | UnknownCommand;

/** A parsed command and its tag. */
export interface ParsedCommand {
  /** RFC 9051 §9 `tag`: printable ASCII but `+` and atom-specials other than `]`. */
  readonly tag: string;
  readonly command: Command;
}

type Parse = (r: Reader, uid: boolean) => Command;

const simple = (name: SimpleCommand["name"]): Parse => () => ({ name });

/** The parsers by command name; commands listed in {@link UID_COMMANDS} take a UID prefix. */
const PARSERS = new Map<string, Parse>([
  // RFC 9051 §6.1: any state
  ["CAPABILITY", simple("CAPABILITY")],
  ["NOOP", simple("NOOP")],
  ["LOGOUT", simple("LOGOUT")],
  ["ID", parseId], // RFC 2971
  // RFC 9051 §6.2: not authenticated
  ["STARTTLS", simple("STARTTLS")],
  ["AUTHENTICATE", parseAuthenticate],
  ["LOGIN", parseLogin],
  // RFC 9051 §6.3: authenticated
  ["ENABLE", parseEnable], // RFC 5161
  ["SELECT", (r) => parseSelect(r, "SELECT")],
  ["EXAMINE", (r) => parseSelect(r, "EXAMINE")],
  ["CREATE", parseCreate],
  ["DELETE", (r) => parseMailboxCommand(r, "DELETE")],
  ["RENAME", parseRename],
  ["SUBSCRIBE", (r) => parseMailboxCommand(r, "SUBSCRIBE")],
  ["UNSUBSCRIBE", (r) => parseMailboxCommand(r, "UNSUBSCRIBE")],
  ["LIST", parseList],
  ["LSUB", parseLsub], // RFC 3501 §6.3.9
  ["NAMESPACE", simple("NAMESPACE")],
  ["STATUS", parseStatus],
  ["APPEND", parseAppend],
  ["IDLE", simple("IDLE")], // RFC 2177
  ["GETQUOTA", parseGetQuota], // RFC 9208 §4.2
  ["GETQUOTAROOT", (r) => parseMailboxCommand(r, "GETQUOTAROOT")],
  // RFC 9051 §6.4: selected
  ["CHECK", simple("CHECK")], // RFC 3501 §6.4.1
  ["CLOSE", simple("CLOSE")],
  ["UNSELECT", simple("UNSELECT")],
  ["EXPUNGE", parseExpunge],
  ["SEARCH", parseSearch],
  ["FETCH", parseFetch],
  ["STORE", parseStore],
  ["COPY", (r, uid) => parseCopy(r, "COPY", uid)],
  ["MOVE", (r, uid) => parseCopy(r, "MOVE", uid)], // RFC 6851
  ["SORT", parseSort], // RFC 5256
  ["THREAD", parseThread], // RFC 5256
]);

/** Commands that may follow `UID` (RFC 9051 §6.4.9; UID EXPUNGE, MOVE, SORT, THREAD). */
export const UID_COMMANDS: ReadonlySet<string> = new Set([
  "COPY",
  "MOVE",
  "FETCH",
  "SEARCH",
  "STORE",
  "EXPUNGE",
  "SORT",
  "THREAD",
]);

/**
 * Parses one complete command (see the module doc for its form).
 *
 * @example
 * ```ts
 * parseCommand(new TextEncoder().encode("a1 UID FETCH 1:* (FLAGS)\r\n"));
 * // { tag: "a1", command: { name: "FETCH", uid: true, set: …, items: [{ item: "FLAGS" }],
 * //   changedSince: null, vanished: false } }
 * parseCommand(new TextEncoder().encode("a2 LOGIN {5}\r\nalice \"pw\""));
 * // { tag: "a2", command: { name: "LOGIN", user: "alice", password: "pw" } }
 * ```
 * @throws {ImapParseError} for anything that is not a command: `tag` is null when there is
 *   no valid tag (answer `* BAD`), else the tag to answer `tag BAD` with.
 */
export function parseCommand(bytes: Uint8Array): ParsedCommand {
  const r = new Reader(bytes);
  const tag = r.readTag();
  // RFC 9051 §9: command = tag SP (command-any / command-auth / command-nonauth /
  //   command-select) CRLF
  let verb = r.keyword("command name");
  let uid = false;
  if (verb === "UID") {
    // RFC 9051 §9: uid = "UID" SP (copy / move / fetch / search / store / uid-expunge)
    r.sp("command after UID");
    verb = r.keyword("command after UID");
    if (!UID_COMMANDS.has(verb)) r.fail(`UID cannot precede ${quote(verb)}`);
    uid = true;
  }
  const parse = PARSERS.get(verb);
  if (parse === undefined) return { tag, command: { name: "UNKNOWN", verb } };
  const command = parse(r, uid);
  r.end();
  return { tag, command };
}
