/**
 * STARTTLS (RFC 3207): upgrade the connection, forget everything said in clear.
 *
 * @module
 */

import { reply } from "../../proto/mod.ts";
import type { Command } from "./command.ts";
import { inPhases } from "./command.ts";

const ready = inPhases("ready");

export const starttls: Command = {
  verb: "STARTTLS",
  allowed(session) {
    if (session.connection.tls !== null) {
      // RFC 3207 §4: no second TLS session.
      return reply(503, "5.5.1", "TLS already active");
    }
    return ready(session);
  },
  async run(session, args) {
    if (args.trim() !== "") {
      await session.fail(reply(501, "5.5.4", "Syntax error (no parameters allowed)"));
      return;
    }
    const options = session.deps.startTls;
    if (options === null) {
      await session.fail(reply(454, "4.7.0", "TLS not available due to temporary reason"));
      return;
    }
    // Earlier replies go first, in clear; then the invitation. Whatever the client pipelined
    // after STARTTLS is discarded by startTls (CVE-2011-0411).
    await session.flush();
    try {
      const discarded = await session.connection.startTls(
        "220 2.0.0 Ready to start TLS\r\n",
        options,
      );
      if (discarded > 0) {
        session.log.info("discarded bytes sent ahead of the TLS handshake", { discarded });
      }
    } catch (error) {
      session.log.info("TLS handshake failed", {
        ip: session.connection.remote.address,
        error: error instanceof Error ? error.message : String(error),
      });
      session.connection.close();
      return;
    }
    // RFC 3207 §4.2: the server forgets all it learnt from the client; EHLO comes again.
    session.state.resetForTls();
  },
};
