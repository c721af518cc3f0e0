/**
 * SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3; CONDSTORE and QRESYNC, RFC 7162 §3.1.8,
 * §3.2.5), CLOSE (§6.4.1) and UNSELECT (§6.4.2).
 *
 * @module
 */

import {
  formatFlags,
  formatNumberSet,
  intervalsInclude,
  type QresyncParams,
  resolveSequenceSet,
  untagged,
} from "../../proto/mod.ts";
import { bad, no, ok } from "../errors.ts";
import { SelectedMailbox } from "../selected.ts";
import type { ImapSession } from "../session.ts";
import { findMailbox, nameData } from "./_mailbox.ts";
import { AUTHENTICATED, handler, SELECTED } from "./command.ts";

/** The system flags (RFC 9051 §2.3.2); keywords are accepted too (`\*`). */
const FLAGS = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];

/** Leaves the selected mailbox, if any (RFC 9051 §6.3.2: SELECT closes the current one). */
export function deselect(session: ImapSession): boolean {
  const was = session.selected;
  if (was === null) return false;
  was.close();
  session.selected = null;
  session.state = "authenticated";
  return true;
}

const select = (name: "SELECT" | "EXAMINE") =>
  handler(name, AUTHENTICATED, async (session, _tag, command) => {
    if (command.qresync !== null && !session.qresync) {
      return bad("Enable QRESYNC first"); // RFC 7162 §3.2.5
    }
    // RFC 7162 §3.2.11 / RFC 9051 §7.1: [CLOSED] when a mailbox is closed implicitly.
    if (deselect(session)) session.send(untagged("OK", "Previous mailbox is now closed", "CLOSED"));
    const mailbox = await findMailbox(session, command.mailbox);
    if (mailbox === null) return no("No such mailbox", "NONEXISTENT");
    if (command.condstore) session.condstore = true; // RFC 7162 §3.1.8
    const readOnly = name === "EXAMINE";
    const selected = await SelectedMailbox.open(session.deps.views, mailbox, readOnly);
    session.selected = selected;
    session.state = "selected";
    session.savedUids = [];
    const send = (line: string) => session.send(line);
    send(`* FLAGS ${formatFlags(FLAGS)}\r\n`);
    send(untagged("OK", "Flags permitted", {
      code: "PERMANENTFLAGS",
      flags: readOnly ? [] : [...FLAGS, "\\*"],
    }));
    send(`* ${selected.exists} EXISTS\r\n`);
    if (!session.rev2) {
      send("* 0 RECENT\r\n"); // RFC 3501 §7.3.2; Fumi keeps no \Recent
      const unseen = selected.messages.findIndex((m) => !m.flags.includes("\\Seen"));
      if (unseen >= 0) send(untagged("OK", "First unseen", { code: "UNSEEN", seq: unseen + 1 }));
    }
    send(untagged("OK", "UIDs valid", { code: "UIDVALIDITY", uidValidity: mailbox.uidValidity }));
    send(untagged("OK", "Predicted next UID", { code: "UIDNEXT", uid: selected.uidNext }));
    send(untagged("OK", "Highest", { code: "HIGHESTMODSEQ", modseq: selected.highestModseq }));
    if (session.rev2) {
      // RFC 9051 §6.3.2: the mailbox's LIST response, for its canonical name.
      send(`* LIST () "/" ${nameData(session, mailbox.name)}\r\n`);
    }
    if (command.qresync !== null && command.qresync.uidValidity === mailbox.uidValidity) {
      await resync(session, selected, command.qresync);
    }
    const code = readOnly ? "READ-ONLY" : "READ-WRITE";
    return ok(`${name} completed`, code);
  });

/** RFC 7162 §3.2.5.2: what vanished and what changed since the client's modseq. */
async function resync(
  session: ImapSession,
  selected: SelectedMailbox,
  params: QresyncParams,
): Promise<void> {
  const since = Number(params.modseq);
  const known = params.knownUids === null
    ? null
    : resolveSequenceSet(params.knownUids, Number.MAX_SAFE_INTEGER);
  const vanished = (await session.deps.messages.expungedSince(selected.mailbox.id, since))
    .filter((uid) => known === null || intervalsInclude(known, uid));
  if (vanished.length > 0) session.send(`* VANISHED (EARLIER) ${formatNumberSet(vanished)}\r\n`);
  selected.messages.forEach((m, i) => {
    if (m.modseq <= since) return;
    if (known !== null && !intervalsInclude(known, m.uid)) return;
    session.send(
      `* ${i + 1} FETCH (UID ${m.uid} FLAGS ${formatFlags(m.flags)} MODSEQ (${m.modseq}))\r\n`,
    );
  });
}

/** RFC 9051 §6.3.2. */
export const selectCommand = select("SELECT");
/** RFC 9051 §6.3.3. */
export const examine = select("EXAMINE");

/** RFC 9051 §6.4.1: expunges silently (when read-write), then leaves the mailbox. */
export const close = handler("CLOSE", SELECTED, async (session) => {
  const selected = session.selected!;
  deselect(session);
  if (!selected.readOnly) await session.deps.messages.expunge(selected.mailbox.id);
  return ok("CLOSE completed");
});

/** RFC 9051 §6.4.2: leaves the mailbox without expunging. */
export const unselect = handler("UNSELECT", SELECTED, (session) => {
  deselect(session);
  return Promise.resolve(ok("UNSELECT completed"));
});
