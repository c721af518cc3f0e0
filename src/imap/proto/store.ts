/**
 * The commands that change messages: STORE (RFC 9051 §6.4.6, with UNCHANGEDSINCE of
 * CONDSTORE, RFC 7162 §3.1.3), COPY and MOVE (RFC 9051 §6.4.7-8, RFC 6851) and EXPUNGE with
 * UID EXPUNGE (RFC 9051 §6.4.3, §6.4.9; RFC 4315 §2.1), each with its UID form.
 *
 * @module
 */

import { quote } from "./_errors.ts";
import { LPAREN, type Reader } from "./_lexer.ts";
import type { SequenceSet } from "./sequence_set.ts";

/** `[UID] STORE set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] flags`. */
export interface StoreCommand {
  readonly name: "STORE";
  /** True for UID STORE: `set` holds UIDs. */
  readonly uid: boolean;
  readonly set: SequenceSet;
  /** RFC 7162 §3.1.3 UNCHANGEDSINCE (0 allowed), or null. */
  readonly unchangedSince: bigint | null;
  /** `FLAGS` replaces, `+FLAGS` adds, `-FLAGS` removes. */
  readonly operation: "replace" | "add" | "remove";
  /** `.SILENT`: no untagged FETCH for the change itself. */
  readonly silent: boolean;
  /** The flags, system flags in canonical case; may be empty (`FLAGS ()` clears). */
  readonly flags: readonly string[];
}

/** `[UID] COPY set mailbox` or `[UID] MOVE set mailbox`. */
export interface CopyCommand {
  readonly name: "COPY" | "MOVE";
  readonly uid: boolean;
  readonly set: SequenceSet;
  readonly mailbox: string;
}

/** `EXPUNGE`, or `UID EXPUNGE set`. */
export interface ExpungeCommand {
  readonly name: "EXPUNGE";
  readonly uid: boolean;
  /** The UIDs of UID EXPUNGE; null for EXPUNGE. */
  readonly uids: SequenceSet | null;
}

// RFC 9051 §9: store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP
//   (flag-list / (flag *(SP flag)))
const ACTION = /^([+-]?)FLAGS(\.SILENT)?$/;

/** Parses the arguments of STORE or UID STORE. */
export function parseStore(r: Reader, uid: boolean): StoreCommand {
  // RFC 9051 §9: store = "STORE" SP sequence-set SP store-att-flags
  // RFC 4466 §2.5 and RFC 7162 §7: [SP store-modifiers] after the set
  r.sp("sequence set");
  const set = r.sequenceSet();
  r.sp("flags to store");
  let unchangedSince: bigint | null = null;
  if (r.peek() === LPAREN) {
    r.list("STORE modifiers", () => {
      const modifier = r.keyword("STORE modifier");
      if (modifier !== "UNCHANGEDSINCE" || unchangedSince !== null) {
        r.fail(`Unknown or repeated STORE modifier ${quote(modifier)}`);
      }
      r.sp("mod-sequence");
      // RFC 7162 §7: store-modifier =/ "UNCHANGEDSINCE" SP mod-sequence-valzer
      unchangedSince = r.modseq("mod-sequence", true);
    }, false);
    r.sp("flags to store");
  }
  const action = r.keyword("FLAGS, +FLAGS or -FLAGS");
  const match = ACTION.exec(action);
  if (match === null) r.fail(`Expected FLAGS, +FLAGS or -FLAGS, found ${quote(action)}`);
  r.sp("flags");
  let flags: string[];
  if (r.peek() === LPAREN) {
    flags = r.flagList();
  } else {
    flags = [r.flag()];
    while (r.more()) {
      r.sp("flag");
      flags.push(r.flag());
    }
  }
  return {
    name: "STORE",
    uid,
    set,
    unchangedSince,
    operation: match[1] === "+" ? "add" : match[1] === "-" ? "remove" : "replace",
    silent: match[2] !== undefined,
    flags,
  };
}

/** Parses the arguments of COPY, MOVE and their UID forms. */
export function parseCopy(r: Reader, name: CopyCommand["name"], uid: boolean): CopyCommand {
  // RFC 9051 §9: copy = "COPY" SP sequence-set SP mailbox; move = "MOVE" SP sequence-set SP
  // mailbox (RFC 6851 §4.1)
  r.sp("sequence set");
  const set = r.sequenceSet();
  r.sp("mailbox name");
  return { name, uid, set, mailbox: r.mailbox() };
}

/** Parses EXPUNGE (no arguments) or UID EXPUNGE (a UID set). */
export function parseExpunge(r: Reader, uid: boolean): ExpungeCommand {
  if (!uid) return { name: "EXPUNGE", uid, uids: null };
  // RFC 9051 §9: uid-expunge = "EXPUNGE" SP sequence-set (RFC 4315 §3)
  r.sp("UID set");
  return { name: "EXPUNGE", uid, uids: r.sequenceSet("UID set") };
}
