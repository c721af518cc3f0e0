/**
 * SMTP's wire format, shared by the server and the client: replies, command lines, the paths
 * and parameters of MAIL and RCPT, xtext, and the receiver of message content. Bytes and
 * strings in, values out: no I/O, no timers, no `Deno.*` or `node:*`, no npm packages
 * (tests/layering_test.ts keeps it so). Behaviour — states, limits per listener, what to
 * offer in EHLO — belongs to src/smtp/server.
 *
 * Invariants:
 * - Parsers refuse with an `SmtpSyntaxError` that carries the exact reply (code, enhanced
 *   code, text); the session writes it and needs no error map of its own for syntax.
 * - Addresses are parsed by util/address.ts only, so a path accepted here has the same limits
 *   and canonical form as an address in the store.
 * - `formatReply` cannot be made to write a line break: text is sanitised and cut at 512
 *   octets per line.
 * - `DataReceiver` gives the same result for the same bytes however they are split into
 *   chunks, in time linear in their number.
 *
 * Security model:
 * - SMTP smuggling. A message ends at CRLF "." CRLF and nowhere else. In DATA a bare LF or a
 *   bare CR anywhere (the shapes `\n.\r\n`, `\r.\r\n`, `\n.\n`, `\r\n.\n`, `\r\n.\r`) is a
 *   fatal problem: the session replies 5xx and closes, so no byte after the ambiguous spot is
 *   ever read as a command or as a second message. The receiver reports how many bytes of a
 *   chunk belong to the message, so pipelined commands after the terminator are neither lost
 *   nor swallowed.
 * - Command injection. A command line with a NUL, CR, LF or any other control character is
 *   refused before its verb is looked at; reply text is sanitised so a client's address
 *   echoed in a reply cannot add lines.
 * - Bounded buffering. Message content is kept up to `maxSize`; a line beyond 1000 octets or a
 *   header beyond `maxHeaderSize` stops the keeping too; after a problem only counters move.
 *   Paths are limited to 256 octets before any address parsing, ENVID to 100 characters, and
 *   SIZE to 20 digits.
 * - Nothing here decides trust: AUTH= is parsed, but whether to believe it is the session's.
 *
 * Standards:
 * | standard | status | where |
 * | --- | --- | --- |
 * | RFC 5321 §4.1 commands, §4.1.2 path syntax, §4.2 replies, §4.5.2 transparency, §4.5.3.1 limits | yes; address literals as mail domains refused (553) | all |
 * | RFC 3463, RFC 2034 enhanced status codes | yes | reply.ts |
 * | RFC 1870 SIZE | yes (parameter; the limit is enforced as content streams) | command.ts, data_receiver.ts |
 * | RFC 6152 8BITMIME | yes (BODY=7BIT / 8BITMIME) | command.ts |
 * | RFC 3030 CHUNKING | receiver side (raw mode); BINARYMIME not offered (555) | data_receiver.ts |
 * | RFC 3461 DSN parameters, xtext | parsed (RET, ENVID, NOTIFY, ORCPT) | command.ts, xtext.ts |
 * | RFC 4954 §5 AUTH= parameter | parsed | command.ts |
 * | RFC 6531 SMTPUTF8 | yes (UTF-8 paths only with the parameter; 5.6.7 otherwise) | command.ts |
 * | RFC 2920 PIPELINING | receiver side (bytes after the terminator are returned) | data_receiver.ts |
 *
 * @module
 */

export { formatReply, isPositive, MAX_REPLY_LINE_OCTETS, type Reply, reply } from "./reply.ts";
export { MalformedReplyError, ReplyAssembler, replyText } from "./reply_parser.ts";
export {
  type CommandLine,
  type MailFrom,
  type MailParams,
  parseCommandLine,
  parseHeloArgument,
  parseMailFrom,
  type ParseOptions,
  parseRcptTo,
  type RcptParams,
  type RcptTo,
  SmtpSyntaxError,
} from "./command.ts";
export { decodeXtext, encodeXtext } from "./xtext.ts";
export { type DataProblem, DataReceiver, type DataReceiverOptions } from "./data_receiver.ts";
