/**
 * APPEND (RFC 9051 §6.3.12; APPENDUID, RFC 4315 §3; APPENDLIMIT, RFC 7889; OVERQUOTA,
 * RFC 9208 §4.3). The literal's size was bounded by the reader (the message size limit after
 * authentication); the store charges the quota in the same transaction as the message.
 *
 * @module
 */

import { no, ok } from "../errors.ts";
import { accountId, getMailbox } from "./_mailbox.ts";
import { AUTHENTICATED, handler } from "./command.ts";

/** RFC 9051 §6.3.12. */
export const append = handler("APPEND", AUTHENTICATED, async (session, _tag, command) => {
  // RFC 9051 §6.3.12: TRYCREATE when the mailbox does not exist.
  const mailbox = await getMailbox(session, command.mailbox, "TRYCREATE");
  if (command.message.length === 0) return no("Empty message", "CANNOT");
  if (command.message.length > session.settings.maxMessageSize) {
    return no("Message too large", "TOOBIG"); // RFC 7889 §4
  }
  const id = accountId(session);
  const quota = await session.deps.quota(id);
  if (quota.limit > 0 && quota.used + command.message.length > quota.limit) {
    return no("Over quota", "OVERQUOTA"); // RFC 9208 §4.3
  }
  const [delivered] = await session.deps.messages.deliver(
    command.message, // a view into the command: no copy of up to the largest message
    [{ accountId: id, mailbox: mailbox.name, flags: command.flags }],
    command.date === null ? {} : { internalDate: command.date },
  );
  if (delivered === undefined) throw new Error("APPEND stored no message");
  return ok("APPEND completed", {
    code: "APPENDUID",
    uidValidity: mailbox.uidValidity,
    uids: [delivered.uid],
  });
});
