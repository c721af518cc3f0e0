/**
 * HELO and EHLO (RFC 5321 §4.1.1.1): the client names itself; EHLO also lists the extensions.
 * Both end any transaction (RFC 5321 §4.1.4).
 *
 * @module
 */

import { SASL_MECHANISMS } from "../../../auth/sasl/mod.ts";
import { parseHeloArgument, reply } from "../../proto/mod.ts";
import type { SmtpSession } from "../session.ts";
import { always, type Command } from "./command.ts";
import { passFilter } from "./filtered.ts";

/** The EHLO keywords this session offers now. */
export function extensions(session: SmtpSession): string[] {
  const { settings, connection, state } = session;
  const list = [
    "PIPELINING", // RFC 2920
    `SIZE ${settings.maxMessageSize}`, // RFC 1870
    "8BITMIME", // RFC 6152
    "SMTPUTF8", // RFC 6531
    "ENHANCEDSTATUSCODES", // RFC 2034
    "CHUNKING", // RFC 3030
    "DSN", // RFC 3461
  ];
  if (connection.tls === null && session.deps.startTls !== null) list.push("STARTTLS"); // RFC 3207
  // RFC 8689 §4.1: REQUIRETLS is advertised in the EHLO response after STARTTLS (or under
  // implicit TLS), never in clear, where the parameter could not be honoured.
  if (connection.tls !== null) list.push("REQUIRETLS");
  // RFC 4954 §4 with RFC 3207 §4 and RFC 8314 §3.3: AUTH only on submission, only under TLS.
  if (settings.role === "submission" && connection.tls !== null && state.account === null) {
    list.push(`AUTH ${SASL_MECHANISMS.join(" ")}`);
  }
  return list;
}

async function greet(session: SmtpSession, args: string, esmtp: boolean): Promise<void> {
  const helo = parseHeloArgument(args);
  const { state } = session;
  state.resetTransaction();
  state.helo = helo;
  state.esmtp = esmtp;
  if (await passFilter(session, session.filterContext("helo")) === null) {
    state.helo = null;
    state.phase = "greeted";
    return;
  }
  state.phase = "ready";
  const { hostname } = session.settings;
  const first = `${hostname} Hello ${helo} [${session.connection.remote.address}]`;
  session.send(
    esmtp ? { code: 250, enhanced: null, lines: [first, ...extensions(session)] } : reply(
      250,
      null,
      first,
    ),
  );
}

export const ehlo: Command = {
  verb: "EHLO",
  allowed: always,
  run: (session, args) => greet(session, args, true),
};

export const helo: Command = {
  verb: "HELO",
  allowed: always,
  run: (session, args) => greet(session, args, false),
};
