/**
 * Commands of the not-authenticated state (RFC 9051 §6.2): STARTTLS, LOGIN and AUTHENTICATE
 * (PLAIN and SCRAM-SHA-256 of src/auth/sasl, with SASL-IR, RFC 4959).
 *
 * Passwords only under TLS (RFC 9051 §6.2.3, RFC 8314): before STARTTLS on 143 the server
 * advertises LOGINDISABLED and no AUTH= mechanism, and refuses both commands; loopback gets
 * no exemption. Sign-in goes through the same Login and bans as SMTP.
 *
 * @module
 */

import type { SaslStep } from "../../../auth/sasl/mod.ts";
import { decodeBase64, encodeBase64 } from "../../../util/base64.ts";
import { tagged } from "../../proto/mod.ts";
import { bad, type Completion, no, ok } from "../errors.ts";
import type { ImapSession } from "../session.ts";
import { handler, NOT_AUTHENTICATED } from "./command.ts";

/** The mechanisms advertised (AUTH=…); SASL LOGIN is not offered to IMAP clients. */
const MECHANISMS: ReadonlySet<string> = new Set(["PLAIN", "SCRAM-SHA-256"]);
/** RFC 4954 §4 allows 12288 octets per SASL line; IMAP has no smaller rule. */
const MAX_RESPONSE_LINE = 12288;

const TLS_FIRST = no("Use STARTTLS first", "PRIVACYREQUIRED");

/** RFC 9051 §6.2.1: the tagged OK goes in clear, then the handshake. */
export const starttls = handler("STARTTLS", NOT_AUTHENTICATED, async (session, tag) => {
  if (session.connection.tls !== null) return bad("TLS is already active");
  const options = session.deps.startTls;
  if (options === null) return bad("STARTTLS is not available here");
  await session.flush();
  try {
    // Whatever the client sent after STARTTLS is discarded by startTls (CVE-2011-0411 class).
    const discarded = await session.connection.startTls(
      tagged(tag, "OK", "Begin TLS negotiation now"),
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
    session.state = "logout";
    session.connection.close();
  }
  // RFC 9051 §6.2.1: the client must issue CAPABILITY again; nothing from before is kept.
  session.enabled.clear();
  return null;
});

/** RFC 9051 §6.2.3. */
export const login = handler("LOGIN", NOT_AUTHENTICATED, async (session, _tag, command) => {
  if (session.connection.tls === null) return TLS_FIRST;
  const account = await session.deps.checkLogin(command.user, command.password, {
    protocol: "imap",
    ip: session.connection.remote.address,
  });
  if (account === null) return no("Authentication failed", "AUTHENTICATIONFAILED");
  return signedIn(session, account);
});

/** RFC 9051 §6.2.2, RFC 4959 (SASL-IR). */
export const authenticate = handler(
  "AUTHENTICATE",
  NOT_AUTHENTICATED,
  async (session, _tag, command) => {
    if (session.connection.tls === null) return TLS_FIRST;
    const mechanism = MECHANISMS.has(command.mechanism)
      ? session.deps.sasl(command.mechanism, {
        protocol: "imap",
        ip: session.connection.remote.address,
      })
      : null;
    if (mechanism === null) return no("Unsupported authentication mechanism", "CANNOT");
    let step: SaslStep;
    if (command.initialResponse === null) {
      step = await mechanism.start(null);
    } else {
      // RFC 4959 §3: "=" is an empty initial response.
      const bytes = command.initialResponse === "="
        ? new Uint8Array(0)
        : decodeBase64(command.initialResponse);
      if (bytes === null) return bad("Invalid base64");
      step = await mechanism.start(bytes);
    }
    while (step.kind === "challenge") {
      const response = await challenge(session, step.data);
      if (!(response instanceof Uint8Array)) return response;
      step = await mechanism.next(response);
    }
    if (step.kind === "failure") {
      if (step.reason === "malformed") return bad("Malformed SASL response");
      return no("Authentication failed", "AUTHENTICATIONFAILED");
    }
    if (step.data !== undefined) {
      // RFC 9051 §6.2.2: additional data with success go in a continuation, answered empty.
      const response = await challenge(session, step.data);
      if (!(response instanceof Uint8Array)) return response;
      if (response.length !== 0) return bad("Expected an empty response");
    }
    return signedIn(session, step.account);
  },
);

/** Sends a challenge and reads the answer; a Completion to end with, or null when gone. */
async function challenge(
  session: ImapSession,
  data: Uint8Array,
): Promise<Uint8Array | Completion | null> {
  const line = await session.continueWith(encodeBase64(data), MAX_RESPONSE_LINE);
  if (line === null) {
    session.state = "logout";
    return null;
  }
  if (line === "*") return bad("Authentication cancelled"); // RFC 9051 §6.2.2
  return decodeBase64(line) ?? bad("Invalid base64");
}

function signedIn(session: ImapSession, account: NonNullable<ImapSession["account"]>): Completion {
  if (!session.countIn(account.id)) {
    // RFC 5530 §3 LIMIT; the password was right, so it counts as no failure.
    session.log.warn("too many connections", { account: account.address });
    const limit = session.deps.userConnections.limit;
    return no(`Too many connections to this account from your address (${limit})`, "LIMIT");
  }
  session.account = account;
  session.state = "authenticated";
  session.log.info("signed in", { account: account.address });
  // RFC 9051 §6.2.2: the capabilities may change; send them with the OK.
  return ok("Signed in", { code: "CAPABILITY", capabilities: session.capabilities() });
}
