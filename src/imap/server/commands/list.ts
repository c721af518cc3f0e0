/**
 * LIST (RFC 9051 §6.3.9 with LIST-EXTENDED RFC 5258, SPECIAL-USE RFC 6154, CHILDREN RFC 3348,
 * LIST-STATUS RFC 5819) and LSUB (RFC 3501 §6.3.9).
 *
 * Patterns: `*` matches anything, `%` anything but the separator "/" (RFC 9051 §6.3.9);
 * everything else literally, INBOX in any case. Only the signed-in account's mailboxes are
 * listed; Fumi has no shared namespaces.
 *
 * Names that are not mailboxes: a level of the hierarchy with mailboxes below it ("a" when
 * only "a/b" exists, as after DELETE of "a") is listed for a pattern ending in "%" and, with
 * RECURSIVEMATCH, when a mailbox below it satisfies the selection options; see
 * {@link listEntries}. A subscription belongs to its mailbox (a column of its row), so a
 * subscribed name that is not a mailbox — RFC 5258 §5 example 2's "Fruit/Peach" — cannot
 * occur.
 *
 * @module
 */

import type { Mailbox } from "../../../store/mod.ts";
import type { ListCommand, ListSelection } from "../../proto/mod.ts";
import { ok } from "../errors.ts";
import type { ImapSession } from "../session.ts";
import { accountId, nameData, statusResponse } from "./_mailbox.ts";
import { AUTHENTICATED, handler } from "./command.ts";

/** A mailbox name matcher. */
export interface PatternMatcher {
  test(name: string): boolean;
}

/**
 * A LIST pattern as a matcher over names (RFC 9051 §6.3.9): `*` matches anything, `%`
 * anything but the separator "/". Matching is dynamic programming over pattern × name, so its
 * time is bounded by their lengths whatever the pattern (a backtracking regular expression
 * of many wildcards would take exponential time and stop the server).
 */
export function patternMatcher(pattern: string): PatternMatcher {
  // INBOX is case-insensitive (RFC 9051 §5.1) also as the first level of a pattern.
  const canonical = /^inbox(?=$|[/%*])/i.test(pattern) ? "INBOX" + pattern.slice(5) : pattern;
  // Runs of wildcards collapse: "**" is "*", and a run with any "*" is "*".
  const tokens: string[] = [];
  for (const ch of canonical) {
    const last = tokens[tokens.length - 1];
    if ((ch === "*" || ch === "%") && (last === "*" || last === "%")) {
      if (ch === "*") tokens[tokens.length - 1] = "*";
      continue;
    }
    tokens.push(ch);
  }
  return { test: (name) => matchTokens(tokens, [...name]) };
}

function matchTokens(tokens: readonly string[], name: readonly string[]): boolean {
  // can[j]: the tokens so far can match the first j characters of the name.
  let can = new Uint8Array(name.length + 1);
  can[0] = 1;
  for (const token of tokens) {
    const next = new Uint8Array(name.length + 1);
    if (token === "*" || token === "%") {
      // next[j]: some i <= j with can[i], and for "%" no "/" among name[i..j).
      let reach = false;
      for (let j = 0; j <= name.length; j++) {
        const crossesSeparator = token === "%" && j > 0 && name[j - 1] === "/";
        reach = can[j] === 1 || (reach && !crossesSeparator);
        next[j] = reach ? 1 : 0;
      }
    } else {
      for (let j = 1; j <= name.length; j++) next[j] = can[j - 1] && name[j - 1] === token ? 1 : 0;
    }
    can = next;
  }
  return can[name.length] === 1;
}

/** The reference and pattern joined (RFC 9051 §6.3.9: the reference is a prefix). */
function fullPattern(reference: string, pattern: string): string {
  if (reference === "" || pattern.startsWith("/")) return pattern;
  return reference.endsWith("/") ? reference + pattern : `${reference}/${pattern}`;
}

/** What LIST needs to know of a mailbox. */
export type ListedMailbox = Pick<Mailbox, "name" | "subscribed" | "specialUse">;

/** One name LIST reports, with what is known of it. */
export interface ListEntry<M extends ListedMailbox = Mailbox> {
  readonly name: string;
  /**
   * The mailbox, or null for a level of the hierarchy that is not a mailbox: "a" when only
   * "a/b" exists (RFC 5258 §3 \NonExistent; RFC 9051 §6.3.9 "levels of hierarchy").
   */
  readonly mailbox: M | null;
  /** Some mailbox lies below the name (RFC 5258 §4 \HasChildren). */
  readonly hasChildren: boolean;
  /**
   * The base selection options some descendant satisfies that the patterns do not return
   * (RFC 5258 §3.5 CHILDINFO); empty without RECURSIVEMATCH.
   */
  readonly childInfo: readonly ("SUBSCRIBED" | "SPECIAL-USE")[];
}

/** The proper superiors of a name: "a/b/c" → "a", "a/b". */
function superiors(name: string): string[] {
  const levels = name.split("/");
  const out: string[] = [];
  for (let i = 1; i < levels.length; i++) out.push(levels.slice(0, i).join("/"));
  return out;
}

/**
 * The names LIST returns for `patterns` (already joined with the reference, none empty) and
 * the selection options, over all the account's mailboxes, in their order with each level
 * that is not a mailbox just before the first mailbox below it. Pure: the session renders
 * the entries.
 *
 * - A mailbox is returned when it matches a pattern and satisfies the selection options
 *   (RFC 5258 §3.3 rule 2A: all of them, §3).
 * - With RECURSIVEMATCH, a name matching a pattern that does not satisfy the options is
 *   returned too when a mailbox below it does and no pattern returns that one (RFC 5258 §3.3
 *   rule 2B, §3.5); the name may be a level that is not a mailbox (RFC 5258 §3 \NonExistent
 *   condition b). Any returned name gets CHILDINFO on the same condition (RFC 5258 §5
 *   examples 8 A1 and 9: a subscribed "eps2" with a subscribed "eps2/mamba" the pattern "*2"
 *   does not return).
 * - Without selection options, a level that is not a mailbox is returned when it matches a
 *   pattern whose last character is "%" (RFC 9051 §6.3.9, RFC 3501 §6.3.8: "matching levels
 *   of hierarchy are also returned"). With "*" the mailboxes below are returned themselves.
 *   A level is never subscribed nor special-use, so SUBSCRIBED or SPECIAL-USE without
 *   RECURSIVEMATCH never returns one.
 */
export function listEntries<M extends ListedMailbox>(
  all: readonly M[],
  patterns: readonly string[],
  selection: Pick<ListSelection, "subscribed" | "specialUse" | "recursiveMatch">,
): ListEntry<M>[] {
  const matchers = patterns.map(patternMatcher);
  const levelMatchers = patterns.filter((p) => p.endsWith("%")).map(patternMatcher);
  const matches = (name: string) => matchers.some((m) => m.test(name));
  const satisfies = (m: M) =>
    (!selection.subscribed || m.subscribed) && (!selection.specialUse || m.specialUse !== null);
  const byName = new Map(all.map((m) => [m.name, m]));
  const parents = new Set<string>();
  // Names with a descendant that satisfies the options and that no pattern returns.
  const childMatch = new Set<string>();
  for (const m of all) {
    const above = superiors(m.name);
    for (const s of above) parents.add(s);
    if (selection.recursiveMatch && satisfies(m) && !matches(m.name)) {
      for (const s of above) childMatch.add(s);
    }
  }
  const childInfo: ("SUBSCRIBED" | "SPECIAL-USE")[] = [];
  if (selection.subscribed) childInfo.push("SUBSCRIBED");
  if (selection.specialUse) childInfo.push("SPECIAL-USE");
  const selective = selection.subscribed || selection.specialUse;

  const entries: ListEntry<M>[] = [];
  const seen = new Set<string>();
  const consider = (name: string, mailbox: M | null) => {
    if (seen.has(name)) return;
    seen.add(name);
    if (!matches(name)) return;
    const recursive = selection.recursiveMatch && childMatch.has(name);
    const hasChildren = parents.has(name);
    if ((mailbox !== null && satisfies(mailbox)) || recursive) {
      entries.push({ name, mailbox, hasChildren, childInfo: recursive ? childInfo : [] });
    } else if (mailbox === null && !selective && levelMatchers.some((m) => m.test(name))) {
      entries.push({ name, mailbox, hasChildren, childInfo: [] });
    }
  };
  for (const m of all) {
    for (const s of superiors(m.name)) if (!byName.has(s)) consider(s, null);
    consider(m.name, m);
  }
  return entries;
}

/**
 * A LIST or LSUB entry's attributes. A level that is not a mailbox is \NonExistent (RFC 5258
 * §3, RFC 9051 §7.3.1: it implies \Noselect) to clients that know the word — IMAP4rev2 or an
 * extended LIST — and \Noselect to a plain IMAP4rev1 LIST (RFC 3501 §6.3.8).
 */
function attributes(
  entry: ListEntry,
  options: { subscribed: boolean; nonExistent: boolean; noselect?: boolean },
): string {
  const { mailbox } = entry;
  const attrs: string[] = [];
  if (mailbox === null) attrs.push(options.nonExistent ? "\\NonExistent" : "\\Noselect");
  else if (options.noselect) attrs.push("\\Noselect");
  attrs.push(entry.hasChildren ? "\\HasChildren" : "\\HasNoChildren"); // RFC 5258 §4
  if (options.subscribed && mailbox?.subscribed) attrs.push("\\Subscribed");
  if (mailbox?.specialUse) attrs.push(mailbox.specialUse); // RFC 6154 §2
  return `(${attrs.join(" ")})`;
}

/** RFC 5258 §3.5, §6: `("CHILDINFO" ("SUBSCRIBED"))`, or nothing. */
function extendedData(entry: ListEntry): string {
  if (entry.childInfo.length === 0) return "";
  return ` ("CHILDINFO" (${entry.childInfo.map((o) => `"${o}"`).join(" ")}))`;
}

async function list(session: ImapSession, command: ListCommand): Promise<void> {
  const { selection, returns } = command;
  const reference = session.mailboxName(command.reference);
  const patterns = command.patterns.map((p) => session.mailboxName(p));
  // RFC 9051 §6.3.9: an empty pattern asks for the separator.
  if (!command.extended && patterns.length === 1 && patterns[0] === "") {
    session.send('* LIST (\\Noselect) "/" ""\r\n');
    return;
  }
  const all = await session.deps.mailboxes.list(accountId(session));
  // RFC 5258 §3: in an extended LIST an empty pattern is ignored.
  const full = patterns.filter((p) => p !== "").map((p) => fullPattern(reference, p));
  const options = {
    subscribed: selection.subscribed || returns.subscribed,
    nonExistent: command.extended || session.rev2,
  };
  for (const entry of listEntries(all, full, selection)) {
    session.send(
      `* LIST ${attributes(entry, options)} "/" ${nameData(session, entry.name)}${
        extendedData(entry)
      }\r\n`,
    );
    // RFC 5819 §2: STATUS after the LIST of each selectable mailbox, none for a level.
    if (returns.status !== null && entry.mailbox !== null) {
      session.send(await statusResponse(session, entry.mailbox, returns.status));
    }
  }
}

/** RFC 9051 §6.3.9, RFC 5258. */
export const listCommand = handler("LIST", AUTHENTICATED, async (session, _tag, command) => {
  await list(session, command);
  return ok("LIST completed");
});

/**
 * RFC 3501 §6.3.9: the subscribed mailboxes matching the pattern; and, where the pattern
 * hides a subscribed mailbox below a name it matches (foo for foo/bar and "%"), that name
 * flagged \Noselect — LSUB's own meaning of \Noselect, "not subscribed itself".
 */
export const lsub = handler("LSUB", AUTHENTICATED, async (session, _tag, command) => {
  const reference = session.mailboxName(command.reference);
  const pattern = session.mailboxName(command.pattern);
  if (pattern !== "") {
    const all = await session.deps.mailboxes.list(accountId(session));
    const full = fullPattern(reference, pattern);
    // Only "%" hides what lies below a name; with "*" the subscribed mailboxes are listed.
    const selection = { subscribed: true, specialUse: false, recursiveMatch: full.endsWith("%") };
    for (const entry of listEntries(all, [full], selection)) {
      const hidden = entry.mailbox === null || !entry.mailbox.subscribed;
      const attrs = attributes(entry, { subscribed: false, nonExistent: false, noselect: hidden });
      session.send(`* LSUB ${attrs} "/" ${nameData(session, entry.name)}\r\n`);
    }
  }
  return ok("LSUB completed");
});
