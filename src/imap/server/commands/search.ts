/**
 * SEARCH and UID SEARCH (RFC 9051 §6.4.4, ESEARCH RFC 4731, SAVE RFC 5182, MODSEQ RFC 7162
 * §3.1.5). Evaluation and the response are ../search.ts's; here: the messages, the charset,
 * the cost (the store is read only as far as the key needs), and the saved result `$`.
 *
 * @module
 */

import { NotFoundError } from "../../../util/errors.ts";
import type { SearchKey } from "../../proto/mod.ts";
import { no, ok } from "../errors.ts";
import { matches, savedResult, searchResponse } from "../search.ts";
import { accountId } from "./_mailbox.ts";
import { handler, SELECTED } from "./command.ts";

/** RFC 9051 §6.4.4: US-ASCII and UTF-8 (everything here is matched as Unicode). */
const CHARSETS: ReadonlySet<string> = new Set(["US-ASCII", "UTF-8"]);

function usesModseq(key: SearchKey): boolean {
  switch (key.key) {
    case "MODSEQ":
      return true;
    case "NOT":
      return usesModseq(key.operand);
    case "OR":
      return usesModseq(key.left) || usesModseq(key.right);
    case "AND":
      return key.operands.some(usesModseq);
    default:
      return false;
  }
}

/** RFC 9051 §6.4.4. */
export const search = handler("SEARCH", SELECTED, async (session, tag, command) => {
  if (command.charset !== null && !CHARSETS.has(command.charset)) {
    return no("Unsupported charset", { code: "BADCHARSET", charsets: [...CHARSETS] });
  }
  const selected = session.selected!;
  const { messages } = session.deps;
  const account = accountId(session);
  const list = selected.messages;
  const context = {
    maxSeq: list.length,
    maxUid: list[list.length - 1]?.uid ?? 0,
    saved: session.savedUids,
  };
  const found: number[] = [];
  const uids: number[] = [];
  let highest = 0;
  for (const [i, info] of list.entries()) {
    const source = {
      seq: i + 1,
      info,
      cache: () => messages.readCache(account, info.messageId),
      raw: () => messages.read(account, info.messageId),
    };
    let hit: boolean;
    try {
      hit = await matches(command.search, source, context);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      hit = false; // expunged by another session, not yet announced
    }
    if (!hit) continue;
    found.push(command.uid ? info.uid : i + 1);
    uids.push(info.uid);
    highest = Math.max(highest, info.modseq);
  }
  const modseq = usesModseq(command.search);
  if (modseq) session.condstore = true; // RFC 7162 §3.1
  const saved = savedResult(uids, command.returnOptions);
  if (saved !== null) session.savedUids = saved;
  const response = searchResponse({
    tag,
    uid: command.uid,
    returnOptions: command.returnOptions,
    rev2: session.rev2,
    results: found,
    highestModseq: modseq && found.length > 0 ? highest : null,
  });
  if (response !== "") session.send(response);
  return ok("SEARCH completed");
});
