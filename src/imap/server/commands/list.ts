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

/** A pattern as a regular expression over names (RFC 9051 §6.3.9). */
export function patternRegExp(pattern: string): RegExp {
  // INBOX is case-insensitive (RFC 9051 §5.1) also as the first level of a pattern.
  const canonical = /^inbox(?=$|[/%*])/i.test(pattern) ? "INBOX" + pattern.slice(5) : pattern;
  let source = "";
  for (const ch of canonical) {
    if (ch === "*") source += ".*";
    else if (ch === "%") source += "[^/]*";
    else source += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "su");
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
    patternRegExp(fullPattern(reference, p))
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
    const regexp = patternRegExp(fullPattern(reference, pattern));
    for (const mailbox of all) {
      if (!mailbox.subscribed || !regexp.test(mailbox.name)) continue;
      const attrs = attributes(all, mailbox, { subscribed: false });
      session.send(`* LSUB ${attrs} "/" ${nameData(session, mailbox.name)}\r\n`);
    }
  }
  return ok("LSUB completed");
});
