/**
 * The commands without state of their own: RSET, NOOP, QUIT, VRFY, EXPN, HELP.
 *
 * @module
 */

import { reply } from "../../proto/mod.ts";
import { OK } from "../replies.ts";
import { always, type Command } from "./command.ts";

/** RFC 5321 §4.1.1.5: abort the transaction; the session stays (HELO is kept). */
export const rset: Command = {
  verb: "RSET",
  allowed: always,
  run(session) {
    session.state.resetTransaction();
    session.send(OK);
    return Promise.resolve();
  },
};

/** RFC 5321 §4.1.1.9. */
export const noop: Command = {
  verb: "NOOP",
  allowed: always,
  run(session) {
    session.send(OK);
    return Promise.resolve();
  },
};

/** RFC 5321 §4.1.1.10. */
export const quit: Command = {
  verb: "QUIT",
  allowed: always,
  async run(session) {
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
  run(session) {
    session.send(
      reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"),
    );
    return Promise.resolve();
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
  run(session) {
    session.send(reply(214, "2.0.0", "See https://www.rfc-editor.org/rfc/rfc5321"));
    return Promise.resolve();
  },
};
