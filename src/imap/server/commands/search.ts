/**
 * SEARCH and UID SEARCH (RFC 9051 §6.4.4, ESEARCH RFC 4731, SAVE RFC 5182, MODSEQ RFC 7162
 * §3.1.5). Evaluation and the response are ../search.ts's; here: the messages, the charset,
 * the cost (the store is read only as far as the key needs), and the saved result `$`.
 *
 * @module
 */

import { ok } from "../errors.ts";
import { savedResult, searchResponse } from "../search.ts";
import { badCharset, matching, SEARCH_CHARSETS, usesModseq } from "./_search.ts";
import { handler, SELECTED } from "./command.ts";

/** RFC 9051 §6.4.4. */
export const search = handler("SEARCH", SELECTED, async (session, tag, command) => {
  if (command.charset !== null && !SEARCH_CHARSETS.has(command.charset)) return badCharset();
  const found: number[] = [];
  const uids: number[] = [];
  let highest = 0;
  for await (const chunk of matching(session, command.search)) {
    for (const { seq, info } of chunk) {
      found.push(command.uid ? info.uid : seq);
      uids.push(info.uid);
      highest = Math.max(highest, info.modseq);
    }
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
