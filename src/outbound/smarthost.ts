/**
 * Smarthost mode: every outbound message goes to one configured relay instead of the
 * recipients' MX hosts, as Postfix's `relayhost` does — for a server that may not send on
 * port 25 itself, or an organisation that relays through its provider.
 *
 * Invariants:
 * - TLS always, with the relay's certificate verified for its name: implicit TLS (RFC 8314
 *   §3.3; by default on port 465) or STARTTLS; without it nothing is sent (the password and
 *   the mail would otherwise cross the network in clear).
 * - With a user name, AUTH PLAIN (RFC 4954) after TLS; a refused sign-in is temporary (the
 *   relay's or the password's problem, for an administrator to fix; the mail waits).
 * - The relay's answer per recipient stands, as an MX host's would.
 *
 * @module
 */

import { isIP } from "node:net";
import { lookupAddresses } from "../dns/mod.ts";
import type { Connection } from "../net/connection.ts";
import {
  AuthFailedError,
  type OutboundMessage,
  SmtpClient,
  TlsRequiredError,
} from "../smtp/client/mod.ts";
import { replyText } from "../smtp/proto/mod.ts";
import type { AttemptDeps, AttemptOutcome } from "./attempt.ts";

/** The relay, from `[queue] smarthost`. */
export interface Smarthost {
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte (RFC 8314 §3.3); else STARTTLS, required. */
  readonly implicitTls: boolean;
  /** AUTH PLAIN user; null: no sign-in. */
  readonly user: string | null;
  readonly password: string | null;
}

/** Sends `message` through the smarthost. */
export async function deliverViaSmarthost(
  deps: AttemptDeps,
  relay: Smarthost,
  message: OutboundMessage,
): Promise<AttemptOutcome[]> {
  const temporary = (text: string, enhanced = "4.4.1"): AttemptOutcome[] =>
    message.recipients.map((r) => ({
      address: r.address,
      outcome: "temporary",
      reply: replyText({ code: 451, enhanced, lines: [`smarthost ${relay.host}: ${text}`] }),
      remoteHost: null,
    }));
  let addresses: readonly string[];
  if (isIP(relay.host)) {
    addresses = [relay.host];
  } else {
    const found = await lookupAddresses(deps.resolver, relay.host);
    if (found.addresses.length === 0) {
      const why = found.temporaryError ?? (found.nxdomain ? "no such name" : "no address");
      return temporary(`cannot resolve: ${why}`, "4.4.3");
    }
    addresses = found.addresses;
  }
  let problem = "no address";
  for (const address of addresses) {
    let connection: Connection;
    try {
      connection = await deps.connect(address, relay.port);
    } catch (error) {
      problem = `cannot connect to ${address}: ${(error as Error).message}`;
      continue;
    }
    let client: SmtpClient;
    try {
      client = await SmtpClient.open(connection, {
        heloName: deps.heloName,
        tls: "verify",
        implicitTls: relay.implicitTls,
        serverName: relay.host,
        ...(deps.ca ? { ca: deps.ca } : {}),
        ...(deps.timeouts ? { timeouts: deps.timeouts } : {}),
      });
      if (relay.user !== null) await client.authenticate(relay.user, relay.password ?? "");
    } catch (error) {
      connection.close();
      if (error instanceof AuthFailedError) {
        // RFC 3463 X.7.8: the credentials were refused; the mail waits for them to be fixed.
        return temporary(`sign-in refused: ${replyText(error.reply)}`, "4.7.8");
      }
      if (error instanceof TlsRequiredError) return temporary(error.message, "4.7.5");
      problem = (error as Error).message;
      continue;
    }
    const results = await client.send(message);
    await client.quit();
    return results.map((r) => ({
      address: r.address,
      outcome: r.outcome,
      reply: replyText(r.reply),
      remoteHost: r.local ? null : relay.host,
    }));
  }
  return temporary(problem);
}
