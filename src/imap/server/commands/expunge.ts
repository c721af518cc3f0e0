/**
 * EXPUNGE and UID EXPUNGE (RFC 9051 §6.4.3, RFC 4315 §2.1). The EXPUNGE (or VANISHED)
 * responses are sent by the session's refresh after the command, with those of other
 * sessions' expunges.
 *
 * @module
 */

import { no, ok } from "../errors.ts";
import { resolveIn } from "./_messages.ts";
import { handler, SELECTED } from "./command.ts";

/** RFC 9051 §6.4.3. */
export const expunge = handler("EXPUNGE", SELECTED, async (session, _tag, command) => {
  const selected = session.selected!;
  if (selected.readOnly) return no("Mailbox is read-only", "READ-ONLY");
  const { messages } = session.deps;
  if (command.uids === null) {
    await messages.expunge(selected.mailbox.id);
  } else {
    const uids = resolveIn(session, command.uids, true).map((t) => t.info.uid);
    if (uids.length > 0) await messages.expunge(selected.mailbox.id, uids);
  }
  return ok("EXPUNGE completed");
});
