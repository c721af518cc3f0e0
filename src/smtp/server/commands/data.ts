/**
 * DATA (RFC 5321 §4.1.1.4): the message content, dot-terminated and dot-stuffed.
 *
 * The framing is the smuggling defence (CVE-2023-51764 class): only CRLF "." CRLF ends the
 * content, and a bare LF or CR anywhere in it ends the session at once, because a peer MTA
 * might read the same bytes as two messages. Everything after the terminator is returned to
 * the connection as the next pipelined command.
 *
 * @module
 */

import { DataReceiver, reply } from "../../proto/mod.ts";
import { BARE_LINE_ENDING, NO_RECIPIENTS, replyForProblem, SYNC_ERROR } from "../replies.ts";
import type { SmtpSession } from "../session.ts";
import { type Command, inPhases } from "./command.ts";
import { finishMessage } from "./message.ts";

const inTransaction = inPhases("mail", "rcpt");

export const data: Command = {
  verb: "DATA",
  allowed(session) {
    const refusal = inTransaction(session);
    if (refusal !== null) return refusal;
    return session.state.phase === "mail" ? NO_RECIPIENTS : null;
  },
  async run(session, args) {
    if (args.trim() !== "") {
      await session.fail(reply(501, "5.5.4", "Syntax error (no parameters allowed)"));
      return;
    }
    if (session.connection.pending > 0) {
      // RFC 2920 §3.1: DATA ends a pipelined group; content before the 354 is a client that does
      // not wait for replies, and where its message starts is unclear.
      session.log.info("content before the 354", { ip: session.connection.remote.address });
      await session.end(SYNC_ERROR);
      return;
    }
    session.send(reply(354, null, "End data with <CR><LF>.<CR><LF>"));
    await session.flush();
    const content = await receive(session);
    if (content === null) return;
    await finishMessage(session, content);
  },
};

/** Reads the content; null when the session ended or the message was refused. */
async function receive(session: SmtpSession): Promise<Uint8Array[] | null> {
  const { connection, settings } = session;
  const receiver = new DataReceiver("dot", {
    maxSize: settings.maxMessageSize,
    maxHeaderSize: settings.maxHeaderSize,
  });
  // Each read may wait `dataTimeoutMs`, and the whole content must arrive within `dataTotalMs`.
  const deadline = Date.now() + settings.dataTotalMs;
  while (!receiver.done) {
    const left = Math.max(1, Math.min(settings.dataTimeoutMs, deadline - Date.now()));
    const bytes = await connection.readSome(left);
    if (bytes === null) return null; // the client left mid-message: nothing is stored
    const used = receiver.push(bytes);
    if (used < bytes.length) connection.unread(bytes.subarray(used));
    if (receiver.problem === "bare-lf" || receiver.problem === "bare-cr") {
      session.log.info("bare line ending in message content", {
        ip: connection.remote.address,
        problem: receiver.problem,
      });
      await session.end(BARE_LINE_ENDING);
      return null;
    }
  }
  const problem = receiver.problem;
  if (problem !== null) {
    session.state.resetTransaction();
    await session.fail(replyForProblem(problem));
    return null;
  }
  return receiver.takeContent();
}
