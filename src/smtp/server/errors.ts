/**
 * The SMTP error map: the one place where a domain error becomes a reply (shared/STYLE.md,
 * "Errors"). Internal error text never reaches the client.
 *
 * @module
 */

import type { Logger } from "../../ops/log.ts";
import { OverQuotaError } from "../../store/mod.ts";
import type { Reply } from "../proto/mod.ts";
import { INTERNAL, MAILBOX_FULL } from "./replies.ts";

/** The reply for an error a command threw. Unexpected errors are logged with the connection. */
export function replyForError(error: unknown, log: Logger): Reply {
  if (error instanceof OverQuotaError) return MAILBOX_FULL;
  log.error("command failed", { error });
  return INTERNAL;
}
