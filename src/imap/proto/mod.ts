/**
 * IMAP's wire format (RFC 9051 IMAP4rev2 and RFC 3501 IMAP4rev1): the command parser, the
 * literal announcements a line reader needs, sequence sets, modified UTF-7 mailbox names, and
 * (serialize.ts, response.ts) the encoding of responses. Bytes in, values out: no I/O, no
 * timers, no `Deno.*` or `node:*`, no npm packages (tests/layering_test.ts keeps it so).
 * States, capabilities, limits per listener and what each command does belong to
 * src/imap/server.
 *
 * How a command is read: the session reads a line (bounded); {@link literalAtEnd} says whether
 * it announces a literal, whose size the session checks against its limit before it sends
 * `+ ` (or refuses with `[TOOBIG]`); it reads the octets and the next line, and so on; then
 * {@link parseCommand} parses the whole command at once into a {@link Command}.
 *
 * Invariants:
 * - `parseCommand` throws nothing but {@link ImapParseError} (fuzzed), which carries the tag
 *   when one was read (else the answer is `* BAD`), a printable one-line text, and
 *   `TOOBIG` or `CLIENTBUG` where they apply. Unknown command names are not errors here:
 *   they come back as `UNKNOWN` for the session to answer.
 * - The parser is strict where the grammar is (one SP between arguments, no `\` escapes but
 *   `\\` and `\"`, nz-numbers without leading zeros) and lenient in three documented places:
 *   trailing spaces before the end, UTF-8 octets in unquoted astrings and patterns, and a
 *   one-digit day in APPEND's date-time. Stricter than the grammar: number64 values (sizes,
 *   partial offsets) above 2^53-1 and literals above 2^32-1 are refused with TOOBIG, and
 *   control characters in quoted strings with BAD.
 * - Text comes out as UTF-8 strings (invalid UTF-8 is BAD), mailbox names as the client sent
 *   them except that INBOX in any case is "INBOX". Modified UTF-7 is not undone here: for a
 *   client without UTF8=ACCEPT the server calls {@link decodeMailboxName}.
 * - Names from the grammar (commands, options, items, capabilities, charsets) come out in
 *   upper case (ASCII only); system flags in their canonical case (`\Seen`); other flags,
 *   keywords (`$Forwarded`) and header field names as written. FETCH macros are expanded;
 *   NEW and OLD become flag tests; `RETURN ()` becomes `RETURN (ALL)`.
 *
 * Security model:
 * - Bounded recursion. Only search keys nest; they may not go deeper than
 *   {@link MAX_SEARCH_DEPTH} groups, ORs and NOTs (10,000 nested parentheses are one BAD, not a
 *   stack overflow). Every other list is one level and a nested "(" is a syntax error.
 * - No allocation in proportion to a number from the client. A sequence range stays a pair
 *   of numbers (`1:4294967295` costs what `1` costs); {@link resolveSequenceSet} works on
 *   ranges in O(k log k) and the caller clamps to what exists. A literal's size is checked
 *   against the octets actually present before anything is taken, and it is a view of the
 *   input, not a copy.
 * - Literals as announced: exactly n octets after the CRLF of `{n}`; NUL only in `~{n}`,
 *   which only APPEND accepts (RFC 3516). Control characters are refused in quoted strings
 *   (beyond the grammar's CR, LF and NUL), so they reach a name only through a literal, and
 *   the server's mailbox policy sees them.
 * - Linear time: each octet is looked at a bounded number of times; error texts quote at most
 *   24 characters of input, sanitised.
 * - Nothing here decides policy: whether LITERAL+ is in effect, how large a literal may be,
 *   what a mailbox name may contain (`..`, `%`, `*`, controls) is the session's.
 *
 * Standards (parsing; responses: see serialize.ts):
 * | standard | status | where |
 * | --- | --- | --- |
 * | RFC 9051 §4 data formats, §6 commands, §9 grammar | yes | command.ts, _lexer.ts, per-command files |
 * | RFC 3501 IMAP4rev1: CHECK, LSUB, RECENT/NEW/OLD, STATUS RECENT | yes | command.ts, list.ts, search_keys.ts |
 * | RFC 3501 §5.1.3 modified UTF-7 | yes, canonical forms only | mutf7.ts |
 * | RFC 7888 LITERAL+ / LITERAL- | yes (`{n+}`, `{n-}`; policy in the session) | literal.ts, _lexer.ts |
 * | RFC 3516 BINARY | FETCH BINARY[], BINARY.PEEK, BINARY.SIZE; APPEND `~{n}` | fetch_items.ts, append.ts |
 * | RFC 4466 collected ABNF (select, create, fetch, store modifiers) | yes, known parameters only | select.ts, mailbox.ts, fetch_items.ts, store.ts |
 * | RFC 4315 UIDPLUS: UID EXPUNGE | yes | store.ts |
 * | RFC 4731 / RFC 9051 §6.4.4.1 ESEARCH return options, RFC 5182 SAVE and `$` | yes | search_keys.ts, sequence_set.ts |
 * | RFC 4959 SASL-IR | yes (initial response checked as base64, not decoded) | auth.ts |
 * | RFC 5161 ENABLE | yes | client.ts |
 * | RFC 2971 ID | yes, with its limits (30 pairs, 30/1024 octets) | client.ts |
 * | RFC 2177 IDLE | command only (DONE is the session's) | command.ts |
 * | RFC 5256 SORT, THREAD | yes; ESORT (RFC 5267) no | sort.ts |
 * | RFC 5957 DISPLAYFROM, DISPLAYTO | yes | sort.ts |
 * | RFC 5258 LIST-EXTENDED | yes (selection and return options, pattern lists) | list.ts |
 * | RFC 5819 LIST-STATUS | yes | list.ts |
 * | RFC 6154 SPECIAL-USE | LIST option and return option, CREATE USE | list.ts, mailbox.ts |
 * | RFC 6851 MOVE | yes | store.ts |
 * | RFC 6855 UTF8=ACCEPT | APPEND `UTF8 (~{n})`; quoted UTF-8 everywhere | append.ts, _lexer.ts |
 * | RFC 7162 CONDSTORE, QRESYNC | SELECT params, CHANGEDSINCE, VANISHED, UNCHANGEDSINCE, MODSEQ key and item, HIGHESTMODSEQ | select.ts, fetch_items.ts, store.ts, search_keys.ts |
 * | RFC 7889 APPENDLIMIT | STATUS item | status.ts |
 * | RFC 9208 QUOTA | GETQUOTA, GETQUOTAROOT; SETQUOTA no (UNKNOWN) | mailbox.ts |
 * | RFC 3502 MULTIAPPEND, RFC 4469 CATENATE, RFC 5032 WITHIN, RFC 8474 OBJECTID | no | — |
 *
 * @module
 */

export {
  type Command,
  ImapParseError,
  type ImapParseErrorCode,
  MAX_SEARCH_DEPTH,
  parseCommand,
  type ParsedCommand,
  type SimpleCommand,
  UID_COMMANDS,
  type UnknownCommand,
} from "./command.ts";
export type { AppendCommand } from "./append.ts";
export type { AuthenticateCommand, LoginCommand } from "./auth.ts";
export type { EnableCommand, IdCommand } from "./client.ts";
export type {
  FetchAttribute,
  FetchCommand,
  FetchItem,
  FetchPartial,
  FetchSection,
} from "./fetch_items.ts";
export type { ListCommand, ListReturn, ListSelection, LsubCommand } from "./list.ts";
export type { CreateCommand, GetQuotaCommand, MailboxCommand, RenameCommand } from "./mailbox.ts";
export type { SearchCommand, SearchDate, SearchKey, SearchReturnOption } from "./search_keys.ts";
export type { QresyncParams, SelectCommand } from "./select.ts";
export {
  SORT_KEYS,
  type SortCommand,
  type SortCriterion,
  type SortKey,
  type ThreadCommand,
} from "./sort.ts";
export { STATUS_ITEMS, type StatusCommand, type StatusItem } from "./status.ts";
export type { CopyCommand, ExpungeCommand, StoreCommand } from "./store.ts";
export { type LiteralAnnouncement, literalAtEnd } from "./literal.ts";
export {
  expandSequenceSet,
  formatSequenceSet,
  type Interval,
  intervalsInclude,
  MAX_SEQ_NUMBER,
  parseSequenceSet,
  resolveSequenceSet,
  type SeqNumber,
  type SequenceRange,
  type SequenceSet,
  sequenceSetFromNumbers,
  usesStar,
} from "./sequence_set.ts";
export { decodeMailboxName, encodeMailboxName } from "./mutf7.ts";
export { parseDateTime, parseSearchDate } from "./_datetime.ts";
export * from "./serialize.ts";
export * from "./response.ts";
