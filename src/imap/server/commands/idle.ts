/**
 * IDLE (RFC 2177, RFC 9051 §6.3.13): the client waits, the server sends the selected
 * mailbox's changes as they happen, until DONE. Changes are announced by the store
 * (in process, and over LISTEN from other processes), so a delivery reaches an idling client
 * within a second; the mailbox is also looked at every `idleRecheckMs` in case an
 * announcement was lost. An IDLE lasts at most `idleMaxMs`, then the session says BYE.
 *
 * @module
 */

import { ReadTimeoutError } from "../../../net/connection.ts";
import { bad, ok } from "../errors.ts";
import { AUTHENTICATED, handler } from "./command.ts";

/** "DONE" and a little slack. */
const MAX_DONE_LINE = 64;

/** RFC 2177 §3. */
export const idle = handler("IDLE", AUTHENTICATED, async (session) => {
  const { connection, settings } = session;
  session.send("+ idling\r\n");
  await session.sendUpdates(true);
  await session.flush();
  const line = connection.readLine(MAX_DONE_LINE, settings.idleMaxMs).then(
    (l) => ({ kind: "line", line: l } as const),
    (error: unknown) => ({ kind: "error", error } as const),
  );
  for (;;) {
    const selected = session.selected;
    const wait = selected === null
      ? new Promise<never>(() => {})
      : selected.waitForChange(settings.idleRecheckMs).then(() => ({ kind: "change" } as const));
    const next = await Promise.race([line, wait]);
    if (next.kind === "change") {
      try {
        await session.sendUpdates(true);
        await session.flush();
      } catch (error) {
        // The read for DONE is still pending: the session cannot go on reading beside it.
        session.selected?.cancelWait();
        session.connection.close();
        throw error;
      }
      continue;
    }
    // The line won: cancel the change waiter's timer.
    selected?.cancelWait();
    if (next.kind === "error") {
      if (next.error instanceof ReadTimeoutError) {
        await session.bye("IDLE for too long");
        return null;
      }
      throw next.error;
    }
    if (next.line === null) {
      session.state = "logout";
      return null;
    }
    const text = new TextDecoder().decode(next.line.bytes);
    if (text.toUpperCase() !== "DONE") return bad("Expected DONE");
    return ok("IDLE terminated");
  }
});
