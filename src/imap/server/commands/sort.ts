/**
 * SORT, UID SORT, THREAD and UID THREAD (RFC 5256; DISPLAYFROM and DISPLAYTO of RFC 5957).
 * The messages are those SEARCH would find (../search.ts `matches`, same context); ordering and
 * threading are ../sort.ts's and ../thread.ts's. The cached envelope and summary are read for
 * the keys that need them; THREAD=REFERENCES also decrypts each message found to read its
 * References header, which the cache does not keep.
 *
 * @module
 */

import { NotFoundError } from "../../../util/errors.ts";
import type { SearchKey } from "../../proto/mod.ts";
import { bad, ok } from "../errors.ts";
import { sortItems, sortNeedsCache, sortResponse } from "../sort.ts";
import type { ImapSession } from "../session.ts";
import {
  type ThreadItem,
  threadOrderedSubject,
  threadReferences,
  threadResponse,
} from "../thread.ts";
import { headerValues } from "../_search_text.ts";
import { badCharset, matching, SEARCH_CHARSETS, usesModseq } from "./_search.ts";
import { handler, SELECTED } from "./command.ts";

/** The THREAD algorithms offered (capabilities THREAD=…). */
export const THREAD_ALGORITHMS: readonly string[] = ["ORDEREDSUBJECT", "REFERENCES"];

/**
 * The messages matching `search`, with their cache when `withCache`, and their References
 * header when `withReferences`. Messages expunged meanwhile by another session are left out.
 */
async function find(
  session: ImapSession,
  search: SearchKey,
  options: { withCache: boolean; withReferences: boolean },
): Promise<{ found: ThreadItem[]; highestModseq: number }> {
  const found: ThreadItem[] = [];
  let highestModseq = 0;
  const wanted = { cache: options.withCache, raw: options.withReferences }; // read in batches
  for await (const chunk of matching(session, search, wanted)) {
    for (const match of chunk) {
      try {
        const cache = options.withCache ? await match.cache() : null;
        const references = options.withReferences
          ? headerValues(await match.raw(), "references")[0] ?? null
          : null;
        found.push({ seq: match.seq, info: match.info, cache, references });
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
        continue; // expunged by another session, not yet announced
      }
      highestModseq = Math.max(highestModseq, match.info.modseq);
    }
  }
  return { found, highestModseq };
}

/** RFC 5256 §3 SORT and UID SORT: `* SORT n n n` (with MODSEQ, RFC 7162 §3.1.5). */
export const sort = handler("SORT", SELECTED, async (session, _tag, command) => {
  if (!SEARCH_CHARSETS.has(command.charset)) return badCharset();
  const withCache = command.sort.some((c) => sortNeedsCache(c.key));
  const { found, highestModseq } = await find(session, command.search, {
    withCache,
    withReferences: false,
  });
  const modseq = usesModseq(command.search);
  if (modseq) session.condstore = true; // RFC 7162 §3.1
  const sorted = sortItems(found, command.sort);
  const numbers = sorted.map((item) => command.uid ? item.info.uid : item.seq);
  session.send(sortResponse(numbers, modseq ? highestModseq : null));
  return ok("SORT completed");
});

/** RFC 5256 §2 THREAD and UID THREAD: `* THREAD (…)(…)`. */
export const thread = handler("THREAD", SELECTED, async (session, _tag, command) => {
  if (!THREAD_ALGORITHMS.includes(command.algorithm)) {
    return bad(`Unsupported threading algorithm ${command.algorithm}`); // RFC 5256 §3: arguments invalid
  }
  if (!SEARCH_CHARSETS.has(command.charset)) return badCharset();
  const references = command.algorithm === "REFERENCES";
  const { found } = await find(session, command.search, {
    withCache: true,
    withReferences: references,
  });
  if (usesModseq(command.search)) session.condstore = true; // RFC 7162 §3.1
  const number = (item: ThreadItem) => command.uid ? item.info.uid : item.seq;
  const threads = references
    ? threadReferences(found, number)
    : threadOrderedSubject(found, number);
  session.send(threadResponse(threads));
  return ok("THREAD completed");
});
