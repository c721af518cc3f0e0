/**
 * STORE and UID STORE (RFC 9051 §6.4.6, §6.4.9; UNCHANGEDSINCE and MODIFIED, RFC 7162
 * §3.1.3).
 *
 * @module
 */

import { formatFlags } from "../../proto/mod.ts";
import { no, ok } from "../errors.ts";
import { resolveIn } from "./_messages.ts";
import { handler, SELECTED } from "./command.ts";

/** RFC 9051 §6.4.6. */
export const store = handler("STORE", SELECTED, async (session, _tag, command) => {
  const selected = session.selected!;
  if (selected.readOnly) return no("Mailbox is read-only", "READ-ONLY");
  if (command.unchangedSince !== null) session.condstore = true; // RFC 7162 §3.1
  const targets = resolveIn(session, command.set, command.uid);
  if (targets.length === 0) return ok("STORE completed");
  const result = await session.deps.messages.setFlags(
    selected.mailbox.id,
    targets.map((t) => t.info.uid),
    command.operation,
    command.flags,
    command.unchangedSince === null ? {} : { unchangedSince: Number(command.unchangedSince) },
  );
  for (const c of result.changed) selected.noteFlags(c.uid, c.flags, c.modseq);
  const modified = new Set(result.modified);
  if (!command.silent || session.condstore) {
    const changed = new Set(result.changed.map((c) => c.uid));
    for (const { msn, info } of targets) {
      if (modified.has(info.uid)) continue;
      // RFC 7162 §3.1.3: with CONDSTORE, .SILENT still reports the new MODSEQ.
      if (command.silent && !changed.has(info.uid)) continue;
      const now = selected.messages[msn - 1] ?? info;
      const parts: string[] = [];
      if (command.uid || session.condstore) parts.push(`UID ${now.uid}`);
      if (!command.silent) parts.push(`FLAGS ${formatFlags(now.flags)}`);
      if (session.condstore) parts.push(`MODSEQ (${now.modseq})`);
      session.send(`* ${msn} FETCH (${parts.join(" ")})\r\n`);
    }
  }
  if (modified.size > 0) {
    const numbers = targets.filter((t) => modified.has(t.info.uid)).map((t) =>
      command.uid ? t.info.uid : t.msn
    );
    return ok("Some messages were modified meanwhile", { code: "MODIFIED", set: numbers });
  }
  return ok("STORE completed");
});
