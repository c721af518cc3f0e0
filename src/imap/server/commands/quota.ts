/**
 * GETQUOTA and GETQUOTAROOT (RFC 9208 §4.2, §4.3): one quota root, "", for the whole account,
 * with the STORAGE resource in units of 1024 octets (RFC 9208 §5.1). SETQUOTA is not offered.
 *
 * @module
 */

import { no, ok } from "../errors.ts";
import type { ImapSession } from "../session.ts";
import { accountId, getMailbox, nameData } from "./_mailbox.ts";
import { AUTHENTICATED, handler } from "./command.ts";

async function quotaResponse(session: ImapSession): Promise<string> {
  const { used, limit } = await session.deps.quota(accountId(session));
  // RFC 9208 §5.1: STORAGE in KiB; an account without a limit has no resource to report.
  const resources = limit > 0
    ? `STORAGE ${Math.ceil(used / 1024)} ${Math.floor(limit / 1024)}`
    : "";
  return `* QUOTA "" (${resources})\r\n`;
}

/** RFC 9208 §4.2. */
export const getquota = handler("GETQUOTA", AUTHENTICATED, async (session, _tag, command) => {
  if (command.root !== "") return no("No such quota root", "NONEXISTENT");
  session.send(await quotaResponse(session));
  return ok("GETQUOTA completed");
});

/** RFC 9208 §4.3. */
export const getquotaroot = handler(
  "GETQUOTAROOT",
  AUTHENTICATED,
  async (session, _tag, command) => {
    const mailbox = await getMailbox(session, command.mailbox);
    session.send(`* QUOTAROOT ${nameData(session, mailbox.name)} ""\r\n`);
    session.send(await quotaResponse(session));
    return ok("GETQUOTAROOT completed");
  },
);
