/**
 * LIST (RFC 9051 §6.3.9) with LIST-EXTENDED (RFC 5258): selection options, several patterns
 * and return options, including SPECIAL-USE (RFC 6154 §3) and STATUS (LIST-STATUS, RFC 5819);
 * and LSUB (RFC 3501 §6.3.9, IMAP4rev1 only).
 *
 * Patterns are returned as written (decoded as UTF-8); what `%`, `*`, `..` or a leading `/`
 * match is the server's to decide.
 *
 * @module
 */

import { quote } from "./_errors.ts";
import { LPAREN, type Reader } from "./_lexer.ts";
import { parseStatusItems, type StatusItem } from "./status.ts";

/** LIST selection options (RFC 5258 §3.1, RFC 6154 §3). */
export interface ListSelection {
  readonly subscribed: boolean;
  readonly remote: boolean;
  readonly recursiveMatch: boolean;
  readonly specialUse: boolean;
}

/** LIST return options (RFC 5258 §3.2, RFC 6154 §3, RFC 5819 §2). */
export interface ListReturn {
  readonly subscribed: boolean;
  readonly children: boolean;
  readonly specialUse: boolean;
  /** The status items of LIST-STATUS, or null when STATUS was not asked for. */
  readonly status: readonly StatusItem[] | null;
}

/** `LIST [(selection)] reference pattern-or-patterns [RETURN (options)]`. */
export interface ListCommand {
  readonly name: "LIST";
  /**
   * True for an extended LIST (RFC 5258 §3: selection options, a parenthesised pattern list
   * or return options were given), whose responses follow RFC 5258.
   */
  readonly extended: boolean;
  readonly selection: ListSelection;
  /** The reference name (RFC 9051 §6.3.9), as written; often "". */
  readonly reference: string;
  /** One or more mailbox patterns. */
  readonly patterns: readonly string[];
  readonly returns: ListReturn;
}

/** `LSUB reference pattern`. */
export interface LsubCommand {
  readonly name: "LSUB";
  readonly reference: string;
  readonly pattern: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function selectionOptions(r: Reader): ListSelection {
  const selection: Mutable<ListSelection> = {
    subscribed: false,
    remote: false,
    recursiveMatch: false,
    specialUse: false,
  };
  // RFC 5258 §6: list-select-opts = "(" [ ... ] ")"
  r.list("LIST selection options", () => {
    const option = r.keyword("LIST selection option");
    if (option === "SUBSCRIBED") selection.subscribed = true;
    else if (option === "REMOTE") selection.remote = true;
    else if (option === "RECURSIVEMATCH") selection.recursiveMatch = true;
    else if (option === "SPECIAL-USE") selection.specialUse = true; // RFC 6154 §6
    // RFC 5258 §3: an option the server does not recognise gets BAD.
    else r.fail(`Unknown LIST selection option ${quote(option)}`);
  }, true);
  // RFC 5258 §3.1: RECURSIVEMATCH alone (without a base option) is BAD.
  if (selection.recursiveMatch && !selection.subscribed && !selection.specialUse) {
    r.fail("RECURSIVEMATCH needs SUBSCRIBED or SPECIAL-USE");
  }
  return selection;
}

function returnOptions(r: Reader): ListReturn {
  const returns: Mutable<ListReturn> = {
    subscribed: false,
    children: false,
    specialUse: false,
    status: null,
  };
  // RFC 5258 §6: list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
  r.list("LIST return options", () => {
    const option = r.keyword("LIST return option");
    if (option === "SUBSCRIBED") returns.subscribed = true;
    else if (option === "CHILDREN") returns.children = true;
    else if (option === "SPECIAL-USE") returns.specialUse = true; // RFC 6154 §6
    else if (option === "STATUS" && returns.status === null) {
      // RFC 5819 §6: return-option =/ "STATUS" SP "(" status-att *(SP status-att) ")"
      r.sp("status items");
      returns.status = parseStatusItems(r);
    } else r.fail(`Unknown or repeated LIST return option ${quote(option)}`);
  }, true);
  return returns;
}

const NO_SELECTION: ListSelection = {
  subscribed: false,
  remote: false,
  recursiveMatch: false,
  specialUse: false,
};
const NO_RETURN: ListReturn = {
  subscribed: false,
  children: false,
  specialUse: false,
  status: null,
};

/** Parses LIST's arguments. */
export function parseList(r: Reader): ListCommand {
  // RFC 5258 §6: list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat
  //   [SP list-return-opts]
  let extended = false;
  r.sp("reference name");
  let selection = NO_SELECTION;
  if (r.peek() === LPAREN) {
    selection = selectionOptions(r);
    extended = true;
    r.sp("reference name");
  }
  const reference = r.astring("reference name");
  r.sp("mailbox pattern");
  let patterns: string[];
  if (r.peek() === LPAREN) {
    // RFC 5258 §6: patterns = "(" list-mailbox *(SP list-mailbox) ")"
    patterns = r.list("mailbox patterns", () => r.listMailbox(), false);
    extended = true;
  } else {
    patterns = [r.listMailbox()];
  }
  let returns = NO_RETURN;
  if (r.more()) {
    r.sp("RETURN");
    if (r.keyword("RETURN") !== "RETURN") r.fail("Expected RETURN after the mailbox pattern");
    r.sp("LIST return options");
    returns = returnOptions(r);
    extended = true;
  }
  return { name: "LIST", extended, selection, reference, patterns, returns };
}

/** Parses LSUB's arguments. */
export function parseLsub(r: Reader): LsubCommand {
  // RFC 3501 §9: lsub = "LSUB" SP mailbox SP list-mailbox
  r.sp("reference name");
  const reference = r.astring("reference name");
  r.sp("mailbox pattern");
  return { name: "LSUB", reference, pattern: r.listMailbox() };
}
