/**
 * Mailbox administration (RFC 9051 §6.3.4–§6.3.8, §6.3.11): CREATE (with USE, RFC 6154 §5),
 * DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS.
 *
 * @module
 */

import type { SpecialUse } from "../../../store/mod.ts";
import { type Completion, no, ok } from "../errors.ts";
import type { ImapSession } from "../session.ts";
import { accountId, getMailbox, statusResponse } from "./_mailbox.ts";
import { AUTHENTICATED, handler } from "./command.ts";

const USES: ReadonlySet<string> = new Set(["\\Drafts", "\\Sent", "\\Trash", "\\Junk", "\\Archive"]);

/** A name to create: no wildcard, no empty level; a trailing "/" is dropped (RFC 9051 §6.3.4). */
function newName(session: ImapSession, raw: string): string | Completion {
  let name = session.mailboxName(raw);
  if (name.endsWith("/")) name = name.slice(0, -1);
  if (name === "" || /[%*]/.test(name) || name.split("/").includes("")) {
    return no("Invalid mailbox name", "CANNOT");
  }
  return name;
}

/** RFC 9051 §6.3.4: missing superior names are created too. */
export const create = handler("CREATE", AUTHENTICATED, async (session, _tag, command) => {
  const name = newName(session, command.mailbox);
  if (typeof name !== "string") return name;
  if (command.specialUse.some((u) => !USES.has(u)) || command.specialUse.length > 1) {
    return no("Unsupported special use", "CANNOT"); // RFC 6154 §3: USEATTR
  }
  const id = accountId(session);
  const { mailboxes } = session.deps;
  if (await mailboxes.find(id, name) !== null || /^inbox$/i.test(name)) {
    return no("Mailbox already exists", "ALREADYEXISTS");
  }
  const levels = name.split("/");
  for (let i = 1; i < levels.length; i++) {
    const parent = levels.slice(0, i).join("/");
    if (await mailboxes.find(id, parent) === null) await mailboxes.create(id, parent);
  }
  const use = (command.specialUse[0] ?? null) as SpecialUse | null;
  await mailboxes.create(id, name, use);
  return ok("CREATE completed");
});

/**
 * RFC 9051 §6.3.5: not INBOX. A mailbox with mailboxes below it is deleted and they stay;
 * its name lives on as a level of the hierarchy that LIST shows \NonExistent (\Noselect)
 * while a mailbox lies below it, the RFC's alternative to refusing with HASCHILDREN. Such a
 * level is no mailbox, so DELETE of it is NO [NONEXISTENT] (§6.3.5: "an error to attempt to
 * delete a name that has inferior hierarchical names and also has the \Noselect" attribute).
 */
export const deleteCommand = handler("DELETE", AUTHENTICATED, async (session, _tag, command) => {
  const mailbox = await getMailbox(session, command.mailbox);
  if (mailbox.name === "INBOX") return no("INBOX cannot be deleted", "CANNOT");
  if (session.selected?.mailbox.id === mailbox.id) {
    session.selected.close();
    session.selected = null;
    session.state = "authenticated";
  }
  await session.deps.mailboxes.remove(accountId(session), mailbox.name);
  return ok("DELETE completed");
});

/** RFC 9051 §6.3.6. */
export const rename = handler("RENAME", AUTHENTICATED, async (session, _tag, command) => {
  const from = await getMailbox(session, command.from);
  const to = newName(session, command.to);
  if (typeof to !== "string") return to;
  const id = accountId(session);
  if (/^inbox$/i.test(to) || await session.deps.mailboxes.find(id, to) !== null) {
    return no("Mailbox already exists", "ALREADYEXISTS");
  }
  await session.deps.mailboxes.rename(id, from.name, to);
  return ok("RENAME completed");
});

/** RFC 9051 §6.3.7. */
export const subscribe = handler("SUBSCRIBE", AUTHENTICATED, async (session, _tag, command) => {
  const mailbox = await getMailbox(session, command.mailbox);
  await session.deps.mailboxes.setSubscribed(accountId(session), mailbox.name, true);
  return ok("SUBSCRIBE completed");
});

/** RFC 9051 §6.3.8. */
export const unsubscribe = handler("UNSUBSCRIBE", AUTHENTICATED, async (session, _tag, command) => {
  const mailbox = await getMailbox(session, command.mailbox);
  await session.deps.mailboxes.setSubscribed(accountId(session), mailbox.name, false);
  return ok("UNSUBSCRIBE completed");
});

/** RFC 9051 §6.3.11. */
export const status = handler("STATUS", AUTHENTICATED, async (session, _tag, command) => {
  const mailbox = await getMailbox(session, command.mailbox);
  session.send(await statusResponse(session, mailbox, command.items));
  return ok("STATUS completed");
});
