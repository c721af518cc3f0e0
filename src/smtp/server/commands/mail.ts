/**
 * MAIL (RFC 5321 §4.1.1.2): starts a transaction with its reverse-path and ESMTP parameters.
 *
 * @module
 */

import { parseMailFrom, reply } from "../../proto/mod.ts";
import { AUTH_REQUIRED, SENDER_NOT_OWNED } from "../replies.ts";
import { type Command, inPhases } from "./command.ts";
import { passFilter } from "./filtered.ts";

export const mail: Command = {
  verb: "MAIL",
  allowed: inPhases("ready"),
  async run(session, args) {
    const { state, settings } = session;
    if (settings.role === "submission" && state.account === null) {
      await session.fail(AUTH_REQUIRED); // RFC 4954 §6
      return;
    }
    if (state.messages >= settings.maxMessagesPerSession) {
      await session.end(reply(421, "4.7.0", "Too many messages in one session, reconnect"));
      return;
    }
    const { sender, params } = parseMailFrom(args, {
      esmtp: state.esmtp,
      smtputf8: true,
      requireTls: session.connection.tls !== null,
    });
    if (params.auth !== null && settings.role !== "submission") {
      // RFC 5321 §4.1.1.11: a parameter of an extension not offered here (no AUTH on MX).
      await session.fail(reply(555, "5.5.4", "AUTH parameter not supported here"));
      return;
    }
    if (state.account !== null && !(await session.deps.ownsSender(state.account.id, sender))) {
      session.log.info("sender not owned", { account: state.account.address });
      await session.fail(SENDER_NOT_OWNED);
      return;
    }
    let recipientsLeft: number | null = null;
    if (state.account !== null) {
      const use = await session.deps.sendingUse(state.account.id);
      if (use.messagesPerHour !== null && use.messagesLastHour >= use.messagesPerHour) {
        // A rate: temporary (RFC 3463 §3.8 X.7.1, delivery not authorized for now).
        session.log.warn("sending limit reached", {
          account: state.account.address,
          limit: "messages per hour",
        });
        await session.fail(reply(
          450,
          "4.7.1",
          `Sending limit reached: ${use.messagesPerHour} messages per hour; try again later`,
        ));
        return;
      }
      if (use.recipientsPerDay !== null) {
        recipientsLeft = Math.max(0, use.recipientsPerDay - use.recipientsLastDay);
      }
    }
    state.transaction = { sender, params, recipients: [], recipientsLeft };
    if (await passFilter(session, session.filterContext("mail")) === null) {
      state.transaction = null;
      return;
    }
    state.phase = "mail";
    session.send(reply(250, "2.1.0", "Sender OK"));
  },
};
