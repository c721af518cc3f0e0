/**
 * ENABLE (RFC 5161) and NAMESPACE (RFC 9051 §6.3.10).
 *
 * @module
 */

import { ok } from "../errors.ts";
import { ENABLEABLE } from "../session.ts";
import { AUTHENTICATED, handler } from "./command.ts";

/** How the ENABLED response spells each extension. */
const SPELLING: Readonly<Record<string, string>> = {
  "IMAP4REV2": "IMAP4rev2",
  "UTF8=ACCEPT": "UTF8=ACCEPT",
  "CONDSTORE": "CONDSTORE",
  "QRESYNC": "QRESYNC",
};

/** RFC 5161 §3.1: ENABLED lists what this command newly enabled; unknown names are ignored. */
export const enable = handler("ENABLE", AUTHENTICATED, (session, _tag, command) => {
  const newly: string[] = [];
  for (const name of command.capabilities) {
    if (!ENABLEABLE.has(name) || session.enabled.has(name)) continue;
    session.enabled.add(name);
    newly.push(SPELLING[name] ?? name);
    // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
    if (name === "QRESYNC" && !session.enabled.has("CONDSTORE")) {
      session.enabled.add("CONDSTORE");
      newly.push("CONDSTORE");
    }
    if (name === "CONDSTORE" || name === "QRESYNC") session.condstore = true;
  }
  session.send(`* ENABLED${newly.map((n) => ` ${n}`).join("")}\r\n`);
  return Promise.resolve(ok("ENABLE completed"));
});

/** RFC 9051 §6.3.10: one personal namespace, "/" as the separator, no shared ones. */
export const namespace = handler("NAMESPACE", AUTHENTICATED, (session) => {
  session.send('* NAMESPACE (("" "/")) NIL NIL\r\n');
  return Promise.resolve(ok("NAMESPACE completed"));
});
