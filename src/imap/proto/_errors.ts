/**
 * The error the command parser throws: a command that must be answered with a tagged (or,
 * when even the tag could not be read, an untagged) BAD. Re-exported by command.ts and mod.ts.
 *
 * @module
 */

import { FumiError } from "../../util/errors.ts";

/**
 * Response codes a parse error may carry (RFC 9051 §7.1): TOOBIG for a literal, a number or a
 * nesting beyond what is accepted; CLIENTBUG for arguments that are well-formed but combined
 * in a way the RFC forbids.
 */
export type ImapParseErrorCode = "TOOBIG" | "CLIENTBUG";

/** Longest text of a parse error; what is quoted from the input is cut well before this. */
const MAX_TEXT = 200;

/**
 * A command could not be parsed: the session answers `tag BAD [code] text`, or `* BAD text`
 * when {@link ImapParseError.tag} is null (RFC 9051 §7.1.5). The text is printable ASCII
 * without CR or LF, so it can be written as it is; it quotes at most a few octets of input.
 * Never temporary.
 */
export class ImapParseError extends FumiError {
  /** The command's tag, or null when the line did not start with a valid tag. */
  readonly tag: string | null;
  /** Human-readable reason, fit for the BAD response. */
  readonly text: string;
  /** Response code to put in brackets, when there is one. */
  readonly code?: ImapParseErrorCode;

  constructor(tag: string | null, text: string, code?: ImapParseErrorCode) {
    const clean = printable(text).slice(0, MAX_TEXT);
    super(clean);
    this.tag = tag;
    this.text = clean;
    if (code !== undefined) this.code = code;
  }
}

/** Replaces what could break a response line (controls, non-ASCII) with "?". */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?");
}

/**
 * Quotes a piece of input for an error text: at most 24 characters, as JSON-ish ASCII, so a
 * client's bytes are shown but cannot add lines or escape codes to the reply.
 */
export function quote(value: string): string {
  const cut = value.length > 24 ? `${value.slice(0, 24)}...` : value;
  return `"${cut.replace(/[^\x20-\x7e]|["\\]/g, "?")}"`;
}
