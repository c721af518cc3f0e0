/**
 * BDAT (RFC 3030 CHUNKING): message content in chunks of a declared size.
 *
 * The chunk's bytes are always consumed, whatever the answer, because they follow the command
 * without waiting for a reply: left unread they would be taken for commands. So this command
 * checks its phase itself, after reading the chunk, instead of at dispatch. A size that cannot
 * be parsed, or is larger than any message could be, ends the session: there is no safe way to
 * know where the next command starts.
 *
 * @module
 */

import { DataReceiver, reply } from "../../proto/mod.ts";
import {
  BAD_SEQUENCE,
  NO_RECIPIENTS,
  replyForProblem,
  SEND_HELO_FIRST,
  TIMEOUT,
  TOO_BIG,
} from "../replies.ts";
import { always, type Command } from "./command.ts";
import { finishMessage } from "./message.ts";

const SYNTAX = /^(\d{1,15})(?: +(LAST))? *$/i;
/** Bytes read per piece while consuming a chunk. */
const PIECE = 256 * 1024;

export const bdat: Command = {
  verb: "BDAT",
  allowed: always, // checked after the chunk is consumed (see the module doc)
  async run(session, args) {
    const { state, settings, connection } = session;
    const match = SYNTAX.exec(args);
    const size = match ? Number(match[1]) : NaN;
    if (!match || size > settings.maxMessageSize + settings.maxCommandLength) {
      await session.end(
        match ? TOO_BIG : reply(501, "5.5.4", "Syntax: BDAT size [LAST]; closing connection"),
      );
      return;
    }
    if (state.chunks !== null && Date.now() > state.chunksDeadline) {
      // The message's time is up, however promptly each of its chunks arrived.
      await session.end(TIMEOUT);
      return;
    }
    const last = match[2] !== undefined;
    const refusal = state.phase === "greeted"
      ? SEND_HELO_FIRST
      : state.phase === "ready"
      ? BAD_SEQUENCE
      : state.phase === "mail"
      ? NO_RECIPIENTS
      : null;
    if (state.chunks === null && refusal === null) {
      state.chunks = new DataReceiver("raw", {
        maxSize: settings.maxMessageSize,
        maxHeaderSize: settings.maxHeaderSize,
      });
      // One bound for the whole message, however it is cut into chunks.
      state.chunksDeadline = Date.now() + settings.dataTotalMs;
      state.phase = "bdat";
    }
    const receiver = refusal === null ? state.chunks : null;
    let left = size;
    const deadline = state.chunks !== null && refusal === null
      ? state.chunksDeadline
      : Date.now() + settings.dataTimeoutMs;
    while (left > 0) {
      const wait = Math.max(1, Math.min(settings.dataTimeoutMs, deadline - Date.now()));
      const piece = await connection.readAtMost(Math.min(left, PIECE), wait);
      if (piece === null) return; // the client left: nothing is stored
      receiver?.push(piece);
      left -= piece.length;
    }
    if (refusal !== null || receiver === null) {
      await session.fail(refusal ?? BAD_SEQUENCE);
      return;
    }
    if (last) receiver.finish();
    if (receiver.problem !== null) {
      // RFC 3030 §2: the transaction has failed; the client starts again after RSET.
      state.resetTransaction();
      await session.fail(replyForProblem(receiver.problem));
      return;
    }
    if (!last) {
      // An empty chunk that is not the last moves nothing.
      if (size === 0 && await session.junk()) return;
      session.send(reply(250, "2.0.0", `${size} octets received`));
      return;
    }
    await finishMessage(session, receiver.takeContent());
  },
};
