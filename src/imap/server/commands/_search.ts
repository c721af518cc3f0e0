/**
 * What SEARCH, SORT and THREAD share: the charsets they accept, whether a key involves
 * MODSEQ, and the walk over the selected messages that match a key.
 *
 * @module
 */

import type { MessageCache, MessageInfo } from "../../../store/mod.ts";
import { NotFoundError } from "../../../util/errors.ts";
import type { SearchKey } from "../../proto/mod.ts";
import { type Completion, no } from "../errors.ts";
import { matches } from "../search.ts";
import type { ImapSession } from "../session.ts";
import { accountId } from "./_mailbox.ts";

/** Messages tested between two turns given to the other sessions. */
const YIELD_EVERY = 256;

/** RFC 9051 §6.4.4, RFC 5256 §3: US-ASCII and UTF-8 (everything is matched as Unicode). */
export const SEARCH_CHARSETS: ReadonlySet<string> = new Set(["US-ASCII", "UTF-8"]);

/** `NO [BADCHARSET (US-ASCII UTF-8)]`. */
export function badCharset(): Completion {
  return no("Unsupported charset", { code: "BADCHARSET", charsets: [...SEARCH_CHARSETS] });
}

/** Whether a key tests MODSEQ (the answer then carries the highest one, RFC 7162 §3.1.5). */
export function usesModseq(key: SearchKey): boolean {
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

/** A selected message that matched, with its contents loaded at most once, on demand. */
export interface Matched {
  readonly seq: number;
  readonly info: MessageInfo;
  cache(): Promise<MessageCache>;
  raw(): Promise<Uint8Array>;
}

/**
 * The selected messages matching `search`, in sequence order. The store is read only as far
 * as the key needs; a message another session expunged meanwhile (not yet announced) is
 * skipped.
 */
export async function* matching(
  session: ImapSession,
  search: SearchKey,
): AsyncGenerator<Matched> {
  const { messages } = session.deps;
  const account = accountId(session);
  const list = session.selected!.messages;
  const context = {
    maxSeq: list.length,
    maxUid: list[list.length - 1]?.uid ?? 0,
    saved: session.savedUids,
  };
  for (const [i, info] of list.entries()) {
    // Keys on flags and numbers resolve without I/O: let other sessions run now and then.
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setTimeout(resolve, 0));
    let cached: Promise<MessageCache> | undefined;
    let raw: Promise<Uint8Array> | undefined;
    const source: Matched = {
      seq: i + 1,
      info,
      cache: () => cached ??= messages.readCache(account, info.messageId),
      raw: () => raw ??= messages.read(account, info.messageId),
    };
    try {
      if (!(await matches(search, source, context))) continue;
    } catch (error) {
      if (error instanceof NotFoundError) continue;
      throw error;
    }
    yield source;
  }
}
