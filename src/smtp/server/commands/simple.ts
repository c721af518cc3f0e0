/**
 * The commands without state of their own: RSET, NOOP, QUIT, VRFY, EXPN, HELP.
 *
 * @module
 */

import { reply } from "../../proto/mod.ts";
import { OK } from "../replies.ts";
import type { SmtpSession } from "../session.ts";
import { always, type Command } from "./command.ts";

async function noArguments(session: SmtpSession): Promise<void> {
  await session.fail(reply(501, "5.5.4", "Syntax error (no parameters allowed)"));
}

/** RFC 5321 §4.1.1.5: abort the transaction; the session stays (HELO is kept). */
export const rset: Command = {
  verb: "RSET",
  allowed: always,
  async run(session, args) {
    if (args.trim() !== "") return await noArguments(session); // RFC 5321 §4.1.1.5
    if (await session.junk()) return;
    session.state.resetTransaction();
    session.send(OK);
  },
};

/** RFC 5321 §4.1.1.9. */
export const noop: Command = {
  verb: "NOOP",
  allowed: always,
  async run(session) {
    if (await session.junk()) return;
    session.send(OK); // RFC 5321 §4.1.1.9: a parameter is allowed and ignored
  },
};

/** RFC 5321 §4.1.1.10. */
export const quit: Command = {
  verb: "QUIT",
  allowed: always,
  async run(session, args) {
    if (args.trim() !== "") return await noArguments(session); // RFC 5321 §4.1.1.10
    await session.end(reply(221, "2.0.0", `${session.settings.hostname} closing connection`));
  },
};

/**
 * RFC 5321 §3.5.3: 252 says neither yes nor no, so VRFY reveals nothing about which users
 * exist (the same answer for every argument, in the same time).
 */
export const vrfy: Command = {
  verb: "VRFY",
  allowed: always,
  async run(session) {
    if (await session.junk()) return;
    session.send(
      reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"),
    );
  },
};

/** RFC 5321 §3.5.2, §7.3: list expansion is not offered (it would reveal members). */
export const expn: Command = {
  verb: "EXPN",
  allowed: always,
  async run(session) {
    await session.fail(reply(502, "5.5.1", "EXPN not available"));
  },
};

/** RFC 5321 §4.1.1.8. */
export const help: Command = {
  verb: "HELP",
  allowed: always,
  async run(session) {
    if (await session.junk()) return;
    session.send(reply(214, "2.0.0", "See https://www.rfc-editor.org/rfc/rfc5321"));
  },
};
