/**
 * Commands of any state (RFC 9051 §6.1): CAPABILITY, NOOP, LOGOUT; ID (RFC 2971); and CHECK
 * (RFC 3501 §6.4.1, a NOOP here).
 *
 * @module
 */

import { formatCapabilities, tagged, untagged } from "../../proto/mod.ts";
import { ok } from "../errors.ts";
import { ANY, handler, SELECTED } from "./command.ts";

/** RFC 9051 §6.1.1. */
export const capability = handler("CAPABILITY", ANY, (session) => {
  session.send(`* ${formatCapabilities(session.capabilities())}\r\n`);
  return Promise.resolve(ok("CAPABILITY completed"));
});

/** RFC 9051 §6.1.2: updates are sent by the session after every command. */
export const noop = handler("NOOP", ANY, () => Promise.resolve(ok("NOOP completed")));

/** RFC 3501 §6.4.1: everything is already durable. */
export const check = handler("CHECK", SELECTED, () => Promise.resolve(ok("CHECK completed")));

/** RFC 9051 §6.1.3: BYE, then the tagged OK, then close. */
export const logout = handler("LOGOUT", ANY, async (session, tag) => {
  session.send(untagged("BYE", "Logging out"));
  session.send(tagged(tag, "OK", "LOGOUT completed"));
  session.state = "logout";
  await session.flush().catch(() => {});
  session.connection.close();
  return null;
});

/** RFC 2971 §3.1: the server's identification; what the client sent is only logged. */
export const id = handler("ID", ANY, (session, _tag, command) => {
  if (command.params !== null) {
    const name = command.params.find(([field]) => field.toLowerCase() === "name")?.[1] ?? null;
    session.log.debug("client id", { client: name ?? "" });
  }
  session.send('* ID ("name" "Fumi")\r\n');
  return Promise.resolve(ok("ID completed"));
});
