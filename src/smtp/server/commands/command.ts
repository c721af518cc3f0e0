/**
 * The shape of a command: which phases allow it (checked once, at dispatch) and what it does.
 *
 * @module
 */

import type { Reply } from "../../proto/mod.ts";
import { BAD_SEQUENCE, SEND_HELO_FIRST } from "../replies.ts";
import type { SmtpSession } from "../session.ts";
import type { Phase } from "../state.ts";

/** One SMTP command. */
export interface Command {
  readonly verb: string;
  /** The refusal when the command is not allowed now, or null. */
  allowed(session: SmtpSession): Reply | null;
  run(session: SmtpSession, args: string): Promise<void>;
}

/** A permission check: the command is allowed in `phases`, else `503` (RFC 5321 §4.1.4). */
export function inPhases(...phases: Phase[]): (session: SmtpSession) => Reply | null {
  return (session) => {
    const phase = session.state.phase;
    if (phases.includes(phase)) return null;
    return phase === "greeted" ? SEND_HELO_FIRST : BAD_SEQUENCE;
  };
}

/** Allowed in every phase. */
export const always = (): Reply | null => null;
