/**
 * COPY, MOVE and their UID forms (RFC 9051 §6.4.7, §6.4.8; COPYUID, RFC 4315 §3). The
 * messages share their stored bytes; MOVE's expunges are announced by the session after the
 * command (RFC 6851 §3.3: after the untagged COPYUID).
 *
 * @module
 */

import { untagged } from "../../proto/mod.ts";
import { no, ok } from "../errors.ts";
import { getMailbox } from "./_mailbox.ts";
import { resolveIn } from "./_messages.ts";
import { handler, SELECTED } from "./command.ts";

const copyOrMove = (name: "COPY" | "MOVE") =>
  handler(name, SELECTED, async (session, _tag, command) => {
    const selected = session.selected!;
    if (name === "MOVE" && selected.readOnly) return no("Mailbox is read-only", "READ-ONLY");
    // RFC 9051 §6.4.7: TRYCREATE when the target does not exist.
    const target = await getMailbox(session, command.mailbox, "TRYCREATE");
    const uids = resolveIn(session, command.set, command.uid).map((t) => t.info.uid);
    if (uids.length === 0) return ok(`${name} completed`);
    const { messages } = session.deps;
    const pairs = name === "COPY"
      ? await messages.copy(selected.mailbox.id, uids, target.id)
      : await messages.move(selected.mailbox.id, uids, target.id);
    if (pairs.length === 0) return ok(`${name} completed`);
    const code = {
      code: "COPYUID",
      uidValidity: target.uidValidity,
      source: pairs.map(([s]) => s),
      destination: pairs.map(([, d]) => d),
    } as const;
    if (name === "COPY") return ok("COPY completed", code);
    session.send(untagged("OK", "Moved", code)); // RFC 6851 §4.3
    return ok("MOVE completed");
  });

/** RFC 9051 §6.4.7. */
export const copy = copyOrMove("COPY");
/** RFC 6851, RFC 9051 §6.4.8. */
export const move = copyOrMove("MOVE");
