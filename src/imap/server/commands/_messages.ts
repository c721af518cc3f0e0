/**
 * Resolving a sequence set of a selected-state command to the messages the client means
 * (RFC 9051 §6.4.8, §6.4.9): by message sequence number or by UID, clamped to what the client
 * knows, without allocating in proportion to the numbers in the set.
 *
 * @module
 */

import type { MessageInfo } from "../../../store/mod.ts";
import { intervalsInclude, resolveSequenceSet, type SequenceSet } from "../../proto/mod.ts";
import type { SelectedMailbox } from "../selected.ts";

/** A message and its sequence number. */
export interface Numbered {
  readonly msn: number;
  readonly info: MessageInfo;
}

/** The messages `set` names, in MSN order. `*` is the last message (or the largest UID). */
export function resolve(
  selected: SelectedMailbox,
  set: SequenceSet,
  uid: boolean,
  saved: readonly (readonly [number, number])[] = [],
): Numbered[] {
  const messages = selected.messages;
  const out: Numbered[] = [];
  if (messages.length === 0) return out;
  if (!uid) {
    for (const [first, last] of resolveSequenceSet(set, messages.length, saved)) {
      for (let n = first; n <= last; n++) out.push({ msn: n, info: messages[n - 1]! });
    }
    return out;
  }
  const maxUid = messages[messages.length - 1]!.uid;
  const intervals = resolveSequenceSet(set, maxUid, saved);
  messages.forEach((info, i) => {
    if (intervalsInclude(intervals, info.uid)) out.push({ msn: i + 1, info });
  });
  return out;
}

/** The saved result `$` (RFC 5182) as intervals of UIDs, or of MSNs for a non-UID command. */
export function savedIntervals(
  selected: SelectedMailbox,
  savedUids: readonly number[],
  uid: boolean,
): [number, number][] {
  const numbers = uid ? savedUids : savedUids.map((u) => selected.msnOf(u)).filter((n) => n > 0);
  return numbers.map((n) => [n, n]);
}

/** {@link resolve} with the session's saved result. */
export function resolveIn(
  session: { readonly selected: SelectedMailbox | null; readonly savedUids: readonly number[] },
  set: SequenceSet,
  uid: boolean,
): Numbered[] {
  const selected = session.selected!;
  return resolve(selected, set, uid, savedIntervals(selected, session.savedUids, uid));
}
