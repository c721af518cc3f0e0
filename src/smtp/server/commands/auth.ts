/**
 * AUTH (RFC 4954) over the SASL mechanisms of src/auth/sasl: SCRAM-SHA-256, PLAIN, LOGIN,
 * with an initial response (SASL-IR, RFC 4954 §4). Only on submission, only under TLS (RFC 3207
 * §4, RFC 8314): on port 25, and before STARTTLS, there is no way to send a password.
 *
 * @module
 */

import type { SaslStep } from "../../../auth/sasl/mod.ts";
import { decodeBase64, encodeBase64 } from "../../../util/base64.ts";
import { reply } from "../../proto/mod.ts";
import {
  ALREADY_AUTHENTICATED,
  AUTH_CANCELLED,
  AUTH_FAILED,
  AUTH_MALFORMED,
  AUTH_OK,
  AUTH_UNAVAILABLE,
  MECHANISM_UNKNOWN,
  TLS_FIRST,
} from "../replies.ts";
import type { SmtpSession } from "../session.ts";
import { type Command, inPhases } from "./command.ts";

/** RFC 4954 §4: a line of a SASL exchange may be 12288 octets. */
const MAX_RESPONSE_LINE = 12288;
const ready = inPhases("ready");

export const auth: Command = {
  verb: "AUTH",
  allowed(session) {
    if (session.settings.role !== "submission") return AUTH_UNAVAILABLE;
    if (session.state.account !== null) return ALREADY_AUTHENTICATED; // RFC 4954 §4
    const phase = ready(session); // RFC 4954 §4: not during a mail transaction
    if (phase !== null) return phase;
    if (session.connection.tls === null) return TLS_FIRST;
    return null;
  },
  async run(session, args) {
    const [name = "", initial, ...extra] = args.trim().split(" ");
    if (name === "" || extra.length > 0) {
      await session.fail(reply(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]"));
      return;
    }
    const mechanism = session.deps.sasl(name.toUpperCase(), {
      protocol: "smtp",
      ip: session.connection.remote.address,
    });
    if (mechanism === null) {
      await session.fail(MECHANISM_UNKNOWN);
      return;
    }
    let step: SaslStep;
    if (initial === undefined) {
      step = await mechanism.start(null);
    } else {
      // RFC 4954 §4: "=" is an empty initial response.
      const bytes = initial === "=" ? new Uint8Array(0) : decodeBase64(initial);
      if (bytes === null) {
        await session.fail(AUTH_MALFORMED);
        return;
      }
      step = await mechanism.start(bytes);
    }
    while (step.kind === "challenge") {
      const response = await challenge(session, step.data);
      if (response === "cancelled" || response === "malformed") {
        await session.fail(response === "cancelled" ? AUTH_CANCELLED : AUTH_MALFORMED);
        return;
      }
      if (response === null) return; // the client left
      step = await mechanism.next(response);
    }
    if (step.kind === "failure") {
      await session.fail(step.reason === "malformed" ? AUTH_MALFORMED : AUTH_FAILED);
      return;
    }
    if (step.data !== undefined) {
      // RFC 4954 §4: additional data with success goes in a 334, answered by an empty line.
      const response = await challenge(session, step.data);
      if (response === null) return;
      if (!(response instanceof Uint8Array) || response.length !== 0) {
        await session.fail(response === "cancelled" ? AUTH_CANCELLED : AUTH_MALFORMED);
        return;
      }
    }
    session.state.account = step.account;
    session.send(AUTH_OK);
  },
};

/** Sends a 334 challenge and reads the client's answer. */
async function challenge(
  session: SmtpSession,
  data: Uint8Array,
): Promise<Uint8Array | "cancelled" | "malformed" | null> {
  // RFC 4954 §4: "334 " and the base64 challenge, which may be longer than a reply line's
  // 512 octets (a SCRAM server-first message carries the client's nonce).
  session.sendLine(`334 ${encodeBase64(data)}`);
  await session.flush();
  const line = await session.connection.readLine(
    MAX_RESPONSE_LINE,
    session.settings.idleTimeoutMs,
  );
  if (line === null) return null;
  const text = new TextDecoder().decode(line.bytes);
  if (text === "*") return "cancelled"; // RFC 4954 §4
  if (line.ending !== "crlf") return "malformed";
  return decodeBase64(text) ?? "malformed";
}
