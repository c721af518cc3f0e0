/**
 * LIST (RFC 9051 §6.3.9 with LIST-EXTENDED RFC 5258, SPECIAL-USE RFC 6154, CHILDREN RFC 3348,
 * LIST-STATUS RFC 5819) and LSUB (RFC 3501 §6.3.9).
 *
 * Patterns: `*` matches anything, `%` anything but the separator "/" (RFC 9051 §6.3.9);
 * everything else literally, INBOX in any case. Only the signed-in account's mailboxes are
 * listed; Fumi has no shared namespaces.
 *
 * @module
 */

import type { Mailbox } from "../../../store/mod.ts";
import type { ListCommand } from "../../proto/mod.ts";
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

function hasChildren(all: readonly Mailbox[], name: string): boolean {
  const prefix = `${name}/`;
  return all.some((m) => m.name.startsWith(prefix));
}

function attributes(
  all: readonly Mailbox[],
  mailbox: Mailbox,
  options: { subscribed: boolean },
): string {
  const attrs = [hasChildren(all, mailbox.name) ? "\\HasChildren" : "\\HasNoChildren"];
  if (options.subscribed && mailbox.subscribed) attrs.push("\\Subscribed");
  if (mailbox.specialUse !== null) attrs.push(mailbox.specialUse); // RFC 6154 §2
  return `(${attrs.join(" ")})`;
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
  const regexps = patterns.filter((p) => p !== "").map((p) =>
    patternMatcher(fullPattern(reference, p))
  );
  const subscribed = selection.subscribed || returns.subscribed;
  for (const mailbox of all) {
    if (!regexps.some((r) => r.test(mailbox.name))) continue;
    if (selection.subscribed && !mailbox.subscribed) continue;
    if (selection.specialUse && mailbox.specialUse === null) continue;
    session.send(
      `* LIST ${attributes(all, mailbox, { subscribed })} "/" ${
        nameData(session, mailbox.name)
      }\r\n`,
    );
    // RFC 5819 §2: STATUS after the LIST of each selectable mailbox.
    if (returns.status !== null) {
      session.send(await statusResponse(session, mailbox, returns.status));
    }
  }
}

/** RFC 9051 §6.3.9, RFC 5258. */
export const listCommand = handler("LIST", AUTHENTICATED, async (session, _tag, command) => {
  await list(session, command);
  return ok("LIST completed");
});

/** RFC 3501 §6.3.9: the subscribed mailboxes matching the pattern. */
export const lsub = handler("LSUB", AUTHENTICATED, async (session, _tag, command) => {
  const reference = session.mailboxName(command.reference);
  const pattern = session.mailboxName(command.pattern);
  if (pattern !== "") {
    const all = await session.deps.mailboxes.list(accountId(session));
    const regexp = patternMatcher(fullPattern(reference, pattern));
    for (const mailbox of all) {
      if (!mailbox.subscribed || !regexp.test(mailbox.name)) continue;
      const attrs = attributes(all, mailbox, { subscribed: false });
      session.send(`* LSUB ${attrs} "/" ${nameData(session, mailbox.name)}\r\n`);
    }
  }
  return ok("LSUB completed");
});
