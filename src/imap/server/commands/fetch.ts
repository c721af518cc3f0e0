/**
 * FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9; CHANGEDSINCE and VANISHED, RFC 7162 §3.1.4,
 * §3.2.6). The response of each message is built by ../fetch.ts; here: which messages, \Seen
 * for a non-PEEK body fetch (not in a read-only mailbox), and the CONDSTORE options.
 *
 * The store is read in batches: the descriptions, and the messages, of up to {@link BATCH}
 * messages (and {@link BATCH_OCTETS} of message) in one query each, and only what the items
 * need (../fetch.ts `fetchNeeds`); then their responses are written.
 *
 * A message expunged by another session but not yet announced to this one is skipped: its
 * content is gone (absent from its batch), and RFC 9051 §7.5.1 forbids announcing the expunge
 * during FETCH. Items answered from its description alone (ENVELOPE, BODYSTRUCTURE) may still
 * be answered while that is in memory (src/store/description_cache.ts), as RFC 2180 §4.1.1
 * allows.
 *
 * @module
 */

import { type FetchItem, formatNumberSet, resolveSequenceSet } from "../../proto/mod.ts";
import { no, ok } from "../errors.ts";
import { fetchNeeds, fetchResponse, impliesSeen, needsRawFor, UnknownCteError } from "../fetch.ts";
import type { MessageCache } from "../../../store/mod.ts";
import { NotFoundError } from "../../../util/errors.ts";
import { accountId } from "./_mailbox.ts";
import { type Numbered, resolveIn } from "./_messages.ts";
import { handler, SELECTED } from "./command.ts";

/** Queued octets beyond which FETCH writes what it has. */
const FLUSH_AT = 256 * 1024;
/** The most messages whose descriptions or contents one query reads. */
export const BATCH = 64;
/** The most message octets one batch reads when the contents are needed (at least one message). */
export const BATCH_OCTETS = 4 * 1024 * 1024;

/** `targets` in batches of {@link BATCH}, and of {@link BATCH_OCTETS} when `bytes` counts. */
function* batches(targets: readonly Numbered[], bytes: boolean): Generator<Numbered[]> {
  let batch: Numbered[] = [];
  let octets = 0;
  for (const target of targets) {
    const full = batch.length === BATCH || (bytes && octets + target.info.size > BATCH_OCTETS);
    if (batch.length > 0 && full) {
      yield batch;
      batch = [];
      octets = 0;
    }
    batch.push(target);
    octets += target.info.size;
  }
  if (batch.length > 0) yield batch;
}

/** The value a batch read for `id`; NotFoundError when the batch did not find it (expunged). */
function fromBatch<T>(batch: ReadonlyMap<number, T>, id: number): Promise<T> {
  const value = batch.get(id);
  return value === undefined
    ? Promise.reject(new NotFoundError(`No message ${id}`))
    : Promise.resolve(value);
}

/**
 * The most content octets one message's FETCH response may carry: each message's response is
 * built whole in memory, and `BODY.PEEK[]<0.N> BODY.PEEK[]<1.N> …` would otherwise copy the
 * message once per item (a few KiB of command for gigabytes of response).
 */
function contentOctets(items: readonly FetchItem[], size: number): number {
  let total = 0;
  for (const item of items) {
    if (item.item === "BODY[]" || item.item === "BINARY[]") {
      total += Math.min(item.partial?.length ?? size, size);
    } else if (
      item.item === "RFC822" || item.item === "RFC822.TEXT" || item.item === "RFC822.HEADER"
    ) {
      total += size;
    }
  }
  return total;
}

/** RFC 9051 §6.4.5. */
export const fetch = handler("FETCH", SELECTED, async (session, _tag, command) => {
  const selected = session.selected!;
  const { messages } = session.deps;
  const account = accountId(session);
  if (command.changedSince !== null) session.condstore = true; // RFC 7162 §3.1
  if (command.vanished) {
    // RFC 7162 §3.2.6: VANISHED (EARLIER) for the UIDs of the set expunged since.
    const maxUid = Math.max(selected.uidNext - 1, 1);
    const intervals = resolveSequenceSet(command.set, maxUid);
    const gone = (await messages.expungedSince(selected.mailbox.id, Number(command.changedSince)))
      .filter((uid) => intervals.some(([a, b]) => uid >= a && uid <= b));
    if (gone.length > 0) session.send(`* VANISHED (EARLIER) ${formatNumberSet(gone)}\r\n`);
  }
  let targets = resolveIn(session, command.set, command.uid);
  if (command.changedSince !== null) {
    const since = Number(command.changedSince);
    targets = targets.filter((t) => t.info.modseq > since);
  }
  // Twice the largest message: a body and its sections, say, but never a pile of copies.
  const budget = 2 * session.settings.maxMessageSize;
  if (targets.some((t) => contentOctets(command.items, t.info.size) > budget)) {
    return no("Too much content in one response; fetch fewer sections at a time", "LIMIT");
  }
  const asksModseq = command.items.some((i) => i.item === "MODSEQ");
  const options = {
    utf8: session.utf8,
    uid: command.uid,
    modseq: session.condstore && (command.changedSince !== null || asksModseq),
    rev2: session.rev2,
  };
  const seen = impliesSeen(command.items) && !selected.readOnly;
  const unseen = seen
    ? targets.filter((t) => !t.info.flags.includes("\\Seen")).map((t) => t.info.uid)
    : [];
  const changed = new Map<number, { flags: readonly string[]; modseq: number }>();
  if (unseen.length > 0) {
    // RFC 9051 §6.4.5: fetching a body sets \Seen; the response then includes FLAGS.
    const result = await messages.setFlags(selected.mailbox.id, unseen, "add", ["\\Seen"]);
    for (const c of result.changed) {
      changed.set(c.uid, c);
      selected.noteFlags(c.uid, c.flags, c.modseq);
    }
  }
  const need = fetchNeeds(command.items);
  // BINARY.SIZE may need the message of some (encoded parts): batches are bounded for it too.
  const mayReadBytes = need.raw || command.items.some((i) => i.item === "BINARY.SIZE");
  let gone = 0;
  for (const batch of batches(targets, mayReadBytes)) {
    const ids = batch.map((t) => t.info.messageId);
    const [caches, raws] = await Promise.all([
      need.cache ? messages.readCaches(account, ids) : new Map<number, MessageCache>(),
      need.raw ? messages.readMany(account, ids) : new Map<number, Uint8Array>(),
    ]);
    if (!need.raw && mayReadBytes) {
      // RFC 3516 §4.2: BINARY.SIZE of an encoded part is its decoded length.
      const more = ids.filter((id) =>
        needsRawFor(command.items, caches.get(id)?.structure ?? null)
      );
      if (more.length > 0) {
        for (const [id, raw] of await messages.readMany(account, more)) raws.set(id, raw);
      }
    }
    for (const { msn, info: stale } of batch) {
      const update = changed.get(stale.uid);
      const info = update ? { ...stale, flags: update.flags, modseq: update.modseq } : stale;
      try {
        const bytes = await fetchResponse(
          {
            seq: msn,
            info,
            cache: () => fromBatch(caches, info.messageId),
            raw: () => fromBatch(raws, info.messageId),
          },
          command.items,
          { ...options, flagsChanged: update !== undefined },
        );
        session.send(bytes);
        // A large FETCH is written as it goes, not held whole in memory.
        if (session.queued > FLUSH_AT) await session.flush();
      } catch (error) {
        if (error instanceof UnknownCteError) {
          return no("Unknown Content-Transfer-Encoding", "UNKNOWN-CTE");
        }
        if (!(error instanceof NotFoundError)) throw error;
        gone++; // expunged meanwhile (see the module doc)
      }
    }
  }
  // RFC 9051 §6.4.5 leaves it open; RFC 5530 EXPUNGEISSUED says why some are missing.
  if (gone > 0) return ok("Some messages were expunged meanwhile", "EXPUNGEISSUED");
  return ok("FETCH completed");
});
