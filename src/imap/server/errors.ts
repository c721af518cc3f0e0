/**
 * The IMAP error map: the one place where an error a command threw becomes a tagged response
 * (shared/STYLE.md, "Errors"). Internal error text never reaches the client.
 *
 * @module
 */

import { LineTooLongError } from "../../net/connection.ts";
import type { Logger } from "../../ops/log.ts";
import { OverQuotaError } from "../../store/mod.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../../util/errors.ts";
import type { ResponseCode, TaggedStatus } from "../proto/mod.ts";

/** How a command ends: the tagged response's status, code and text. */
export interface Completion {
  readonly status: TaggedStatus;
  readonly text: string;
  readonly code?: ResponseCode;
}

/** `OK [code] text`. */
export function ok(text: string, code?: ResponseCode): Completion {
  return code === undefined ? { status: "OK", text } : { status: "OK", text, code };
}

/** `NO [code] text`. */
export function no(text: string, code?: ResponseCode): Completion {
  return code === undefined ? { status: "NO", text } : { status: "NO", text, code };
}

/** `BAD [code] text`. */
export function bad(text: string, code?: ResponseCode): Completion {
  return code === undefined ? { status: "BAD", text } : { status: "BAD", text, code };
}

/**
 * A command's refusal thrown from deep inside it (a mailbox that does not exist while
 * resolving a name); the session answers with its completion.
 */
export class ImapRefusal extends Error {
  constructor(readonly completion: Completion) {
    super(completion.text);
  }
}

/** The completion for an error a command threw. Unexpected errors are logged. */
export function completionForError(error: unknown, log: Logger): Completion {
  if (error instanceof ImapRefusal) return error.completion;
  // A SASL response or DONE line beyond its bound (the line was consumed).
  if (error instanceof LineTooLongError) return bad("Line too long", "TOOBIG");
  // RFC 9208 §4.3, RFC 5530: over quota.
  if (error instanceof OverQuotaError) return no("Over quota", "OVERQUOTA");
  if (error instanceof NotFoundError) return no("No such mailbox or message", "NONEXISTENT");
  if (error instanceof ConflictError) return no("That name is taken or in use", "ALREADYEXISTS");
  if (error instanceof InvalidInputError) return no("Not allowed", "CANNOT");
  log.error("command failed", { error });
  return no("Internal error, try again later", "SERVERBUG");
}
