/**
 * RCPT (RFC 5321 §4.1.1.3): each recipient is resolved now, so an unknown user is refused here
 * (550 5.1.1) and never bounced later (no backscatter), and mail for other domains is accepted
 * only from a signed-in user (never an open relay).
 *
 * @module
 */

import { parseRcptTo, reply } from "../../proto/mod.ts";
import { MAILBOX_FULL, RELAY_DENIED, TOO_MANY_RECIPIENTS, UNKNOWN_USER } from "../replies.ts";
import { type Command, inPhases } from "./command.ts";
import { passFilter } from "./filtered.ts";

export const rcpt: Command = {
  verb: "RCPT",
  allowed: inPhases("mail", "rcpt"),
  async run(session, args) {
    const { state, settings, deps } = session;
    const transaction = state.transaction!;
    const { recipient, params } = parseRcptTo(args, {
      esmtp: state.esmtp,
      smtputf8: transaction.params.smtputf8,
    });
    // RFC 5321 §4.5.3.1.10: past the limit, 452; the client sends the rest in another
    // transaction. Counted here on every recipient, <Postmaster> included.
    if (
      transaction.recipients.length >= settings.maxRecipients ||
      state.recipients >= settings.maxRecipientsPerSession
    ) {
      await session.fail(TOO_MANY_RECIPIENTS);
      return;
    }
    if (
      transaction.recipientsLeft !== null &&
      transaction.recipients.length >= transaction.recipientsLeft
    ) {
      // RFC 5321 §4.5.3.1.10: 452 for too many recipients; the client may send the rest later.
      session.log.warn("sending limit reached", {
        account: state.account?.address,
        limit: "recipients per day",
      });
      await session.fail(reply(452, "4.5.3", "Sending limit reached: recipients per day"));
      return;
    }
    const resolution = await deps.resolveRecipient(recipient);
    if (resolution.kind === "unknown") {
      await session.fail(UNKNOWN_USER);
      return;
    }
    if (resolution.kind === "remote" && state.account === null) {
      session.log.info("relay denied", { ip: session.connection.remote.address });
      await session.fail(RELAY_DENIED);
      return;
    }
    // The rcpt-stage filters (greylisting, plugins) only after the recipient and relay checks
    // (DESIGN.md: envelope order): an unknown user or a relay probe is refused for good, 550,
    // and leaves no greylisting state behind.
    const context = session.filterContext("rcpt", {
      recipient: recipient === "postmaster" ? null : recipient,
    });
    if (await passFilter(session, context) === null) return;
    if (resolution.kind === "local" && resolution.accountIds.length > 0) {
      // With SIZE= (RFC 1870, which MTAs send when it is offered) the message must fit; without
      // it, a mailbox that is already full is refused here, so the other recipients are not held
      // back by it after DATA.
      const full = await deps.overQuota(
        resolution.accountIds,
        Math.max(transaction.params.size ?? 0, 1),
      );
      if (full.length > 0) {
        await session.fail(MAILBOX_FULL);
        return;
      }
    }
    transaction.recipients.push({ address: recipient, resolution, params });
    state.recipients++;
    state.phase = "rcpt";
    session.send(reply(250, "2.1.5", "Recipient OK"));
  },
};
