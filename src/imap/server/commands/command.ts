/**
 * The shape of a command: the states that allow it (checked once, at dispatch) and what it
 * does. A handler returns the tagged completion, or null when it wrote it itself (LOGOUT,
 * STARTTLS).
 *
 * @module
 */

import type { Command } from "../../proto/mod.ts";
import type { Completion } from "../errors.ts";
import type { ImapSession, ImapState } from "../session.ts";

/** One IMAP command. */
export interface Handler {
  readonly name: Command["name"];
  readonly states: readonly ImapState[];
  run(session: ImapSession, tag: string, command: Command): Promise<Completion | null>;
}

/** RFC 9051 §6.1: any state. */
export const ANY: readonly ImapState[] = ["not-authenticated", "authenticated", "selected"];
/** RFC 9051 §6.2: not authenticated. */
export const NOT_AUTHENTICATED: readonly ImapState[] = ["not-authenticated"];
/** RFC 9051 §6.3: authenticated (and so also selected). */
export const AUTHENTICATED: readonly ImapState[] = ["authenticated", "selected"];
/** RFC 9051 §6.4: selected. */
export const SELECTED: readonly ImapState[] = ["selected"];

/** The parsed command for the name `N` (MailboxCommand, for one, carries several names). */
export type CommandOf<N extends Command["name"]> = Command extends infer C
  ? C extends { readonly name: infer M } ? N extends M ? C : never : never
  : never;

/** Declares a handler for the command named `name`, typed for that command. */
export function handler<N extends Command["name"]>(
  name: N,
  states: readonly ImapState[],
  run: (
    session: ImapSession,
    tag: string,
    command: CommandOf<N>,
  ) => Promise<Completion | null>,
): Handler {
  return {
    name,
    states,
    run: (session, tag, command) => run(session, tag, command as CommandOf<N>),
  };
}
