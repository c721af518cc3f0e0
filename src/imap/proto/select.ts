/**
 * SELECT and EXAMINE (RFC 9051 §6.3.2-3) with their parameters CONDSTORE (RFC 7162 §3.1.8)
 * and QRESYNC (RFC 7162 §3.2.5).
 *
 * @module
 */

import { quote } from "./_errors.ts";
import { LPAREN, type Reader, RPAREN, SP } from "./_lexer.ts";
import { type SequenceSet, usesStar } from "./sequence_set.ts";

/** What a client knows of the mailbox it reselects (RFC 7162 §3.2.5). */
export interface QresyncParams {
  /** The UIDVALIDITY it knew. */
  readonly uidValidity: number;
  /** The HIGHESTMODSEQ it knew. */
  readonly modseq: bigint;
  /** The UIDs it knows (no `*`, no `$`); null when not given. */
  readonly knownUids: SequenceSet | null;
  /** Message numbers and the UIDs they had, to narrow VANISHED; null when not given. */
  readonly sequenceMatch: { readonly sequences: SequenceSet; readonly uids: SequenceSet } | null;
}

/** `SELECT mailbox [(params)]` or `EXAMINE mailbox [(params)]`. */
export interface SelectCommand {
  readonly name: "SELECT" | "EXAMINE";
  readonly mailbox: string;
  /** CONDSTORE was given (RFC 7162 §3.1.8). */
  readonly condstore: boolean;
  /** QRESYNC's parameters, or null. */
  readonly qresync: QresyncParams | null;
}

// RFC 7162 §7: known-uids, known-sequence-set, known-uid-set: '"*" is not allowed'
function knownSet(r: Reader, what: string): SequenceSet {
  const set = r.sequenceSet(what);
  if (set.kind === "saved" || usesStar(set)) r.fail(`The ${what} may not use "*" or "$"`);
  return set;
}

function qresyncParams(r: Reader): QresyncParams {
  // RFC 7162 §7: qresync-param = "QRESYNC" SP "(" uidvalidity SP mod-sequence-value
  //   [SP known-uids] [SP seq-match-data] ")"
  r.sp("QRESYNC parameters");
  r.char(LPAREN, '"(" to open the QRESYNC parameters');
  const uidValidity = r.number("UIDVALIDITY", true);
  r.sp("mod-sequence");
  const modseq = r.modseq("mod-sequence", false);
  let knownUids: SequenceSet | null = null;
  let sequenceMatch: QresyncParams["sequenceMatch"] = null;
  let spaced = r.tryChar(SP);
  if (spaced && r.peek() !== LPAREN) {
    knownUids = knownSet(r, "known UIDs");
    spaced = r.tryChar(SP);
  }
  if (spaced) {
    r.char(LPAREN, '"(" to open the sequence match data');
    // seq-match-data = "(" known-sequence-set SP known-uid-set ")"
    const sequences = knownSet(r, "known sequence set");
    r.sp("known UID set");
    const uids = knownSet(r, "known UID set");
    r.char(RPAREN, '")" to close the sequence match data');
    sequenceMatch = { sequences, uids };
  }
  r.char(RPAREN, '")" to close the QRESYNC parameters');
  return { uidValidity, modseq, knownUids, sequenceMatch };
}

/** Parses the arguments of SELECT or EXAMINE. */
export function parseSelect(r: Reader, name: SelectCommand["name"]): SelectCommand {
  // RFC 9051 §9: select = "SELECT" SP mailbox [select-params]
  // RFC 4466 §2.1: select-params = SP "(" select-param *(SP select-param) ")"
  r.sp("mailbox name");
  const mailbox = r.mailbox();
  let condstore = false;
  let qresync: QresyncParams | null = null;
  if (r.more()) {
    r.sp(`${name} parameters`);
    r.list(`${name} parameters`, () => {
      const param = r.keyword(`${name} parameter`);
      if (param === "CONDSTORE" && !condstore) condstore = true;
      else if (param === "QRESYNC" && qresync === null) qresync = qresyncParams(r);
      else r.fail(`Unknown or repeated ${name} parameter ${quote(param)}`);
    }, false);
  }
  return { name, mailbox, condstore, qresync };
}
