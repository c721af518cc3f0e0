/**
 * The error the command parsers throw; it carries the reply to send. Re-exported by
 * command.ts, which is where callers take it from.
 *
 * @module
 */

import { FumiError } from "../../util/errors.ts";
import { type Reply, reply } from "./reply.ts";

/**
 * A command's syntax or arguments are wrong; {@link SmtpSyntaxError.reply} is the answer to
 * send (always 5xx, so never temporary). Its message is the reply's text, fit for a log.
 */
export class SmtpSyntaxError extends FumiError {
  constructor(readonly reply: Reply) {
    super(reply.lines.join(" "));
  }
}

/** Throws an {@link SmtpSyntaxError} with a one-line reply. */
export function refuse(code: number, enhanced: string, text: string): never {
  throw new SmtpSyntaxError(reply(code, enhanced, text));
}
