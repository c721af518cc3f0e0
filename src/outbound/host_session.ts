/**
 * One SMTP session with one mail host at one address, as every delivery path uses it: take a
 * kept session or open one under a TLS policy, let the caller judge the server's TLS before
 * anything is sent, send the message, then keep the session or say QUIT.
 *
 * Invariants:
 * - A kept session serves only messages with the same host, address and TLS policy (and, when
 *   its certificate was checked against a domain, the same domain) as the one it was opened
 *   for: the checks that passed then hold now.
 * - After a temporary failure the session is not kept: the next try starts afresh.
 * - A REQUIRETLS message (RFC 8689 §4.2.1) is not sent to a server that does not offer
 *   REQUIRETLS: the host is passed over, the session kept for other mail.
 *
 * @module
 */

import type { ClientTlsState, Connection } from "../net/connection.ts";
import type { Logger } from "../ops/log.ts";
import type { SessionPool } from "./session_pool.ts";
import {
  type ClientTimeouts,
  ConnectionLostError,
  type OutboundMessage,
  type Outcome,
  SessionRefusedError,
  SmtpClient,
  type TlsMode,
  TlsRequiredError,
} from "../smtp/client/mod.ts";
import { type Reply, replyText } from "../smtp/proto/mod.ts";
import type { Resolver } from "../dns/mod.ts";
import type { MtaStsPolicies } from "../mtasts/mod.ts";

/** What an attempt needs from the world. */
export interface AttemptDeps {
  readonly resolver: Resolver;
  /** Opens a TCP connection (net/connection.ts `connectTo`, or a test's). */
  connect(address: string, port: number): Promise<Connection>;
  /** Our host name for EHLO. */
  readonly heloName: string;
  /** The port of mail hosts: 25 (RFC 5321 §4.5.4.2), another only in tests. */
  readonly port: number;
  /** Trusted roots instead of the system's (tests). */
  readonly ca?: readonly string[];
  readonly timeouts?: Partial<ClientTimeouts>;
  /** MTA-STS policies of recipient domains (RFC 8461); absent, none are looked up. */
  readonly mtaSts?: Pick<MtaStsPolicies, "policyFor">;
  /** DANE (RFC 7672): look for TLSA records of MX hosts in signed zones; absent, never. */
  readonly dane?: boolean;
  /** Sessions kept open between messages to the same host; absent, one per attempt. */
  readonly sessions?: SessionPool;
  readonly log: Logger;
}

/** What became of one recipient in an attempt. */
export interface AttemptOutcome {
  readonly address: string;
  readonly outcome: Outcome;
  /** The reply on one line: the server's, or ours for a failure before any server answered. */
  readonly reply: string;
  /** The mail host that answered, or null when none did. */
  readonly remoteHost: string | null;
}

/** The domain of an address (after the last "@"), lower case: how recipients are grouped. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}

/** The same outcome for every recipient, before any server answered. */
export function failAll(
  message: OutboundMessage,
  outcome: Outcome,
  reply: Reply,
): AttemptOutcome[] {
  return message.recipients.map((r) => ({
    address: r.address,
    outcome,
    reply: replyText(reply),
    remoteHost: null,
  }));
}

export type HostOutcome =
  | {
    readonly kind: "done";
    readonly results: AttemptOutcome[];
    /** The session's TLS, null when in clear. */
    readonly tls: ClientTlsState | null;
  }
  | {
    readonly kind: "next";
    readonly problem: string;
    /** The TLS handshake failed (opportunistic: try in clear). */
    readonly tlsFailed?: boolean;
    /** TLS as "verify" requires could not be had (MTA-STS enforce). */
    readonly tlsRequired?: boolean;
    /** A REQUIRETLS message, and the server does not offer REQUIRETLS (RFC 8689 §4.2.1). */
    readonly noRequireTls?: boolean;
  };

/** One host at one address: opportunistic TLS first, then in clear if the handshake failed. */
export async function tryHost(
  deps: AttemptDeps,
  host: string,
  address: string,
  message: OutboundMessage,
): Promise<HostOutcome> {
  const first = await session(deps, host, address, "opportunistic", message);
  if (first.kind === "next" && first.tlsFailed) {
    return await session(deps, host, address, "none", message);
  }
  return first;
}

/**
 * One SMTP session that sends `message`. `authenticate`, when given, judges the server's TLS
 * before anything is sent: a problem it returns ends the session with QUIT.
 */
export async function session(
  deps: AttemptDeps,
  host: string,
  address: string,
  tls: TlsMode,
  message: OutboundMessage,
  authenticate?: (tls: ClientTlsState) => Promise<string | null>,
): Promise<HostOutcome> {
  // A kept session was opened for this host, address and TLS policy, its checks passed.
  // DANE-TA checks the next-hop domain's name too: such a session serves only that domain.
  const key = `${host} ${address} ${tls} ${
    authenticate === undefined ? "" : `checked ${domainOf(message.recipients[0]?.address ?? "")}`
  }`;
  const kept = deps.sessions?.take(key) ?? null;
  if (kept !== null) {
    const reused = await transaction(deps, key, kept, host, message);
    // Closed by the server while it waited: a lost connection, not the message's fault.
    if (!reused.lost) return reused.outcome;
  }
  let connection: Connection;
  try {
    connection = await deps.connect(address, deps.port);
  } catch (error) {
    return { kind: "next", problem: `cannot connect: ${(error as Error).message}` };
  }
  let client: SmtpClient;
  try {
    client = await SmtpClient.open(connection, {
      heloName: deps.heloName,
      tls,
      serverName: host,
      ...(deps.ca ? { ca: deps.ca } : {}),
      ...(deps.timeouts ? { timeouts: deps.timeouts } : {}),
    });
  } catch (error) {
    if (error instanceof SessionRefusedError) {
      return { kind: "next", problem: `refused the session: ${replyText(error.reply)}` };
    }
    if (error instanceof TlsRequiredError) {
      return { kind: "next", problem: error.message, tlsRequired: true };
    }
    const tlsFailed = error instanceof ConnectionLostError && error.stage === "the TLS handshake";
    return { kind: "next", problem: (error as Error).message, tlsFailed };
  }
  if (authenticate !== undefined) {
    const problem = client.tls === null ? "no TLS" : await authenticate(client.tls);
    if (problem !== null) {
      await client.quit();
      return { kind: "next", problem, tlsRequired: true };
    }
  }
  return (await transaction(deps, key, client, host, message)).outcome;
}

/** Sends one message on an open session, then keeps the session or says QUIT. */
async function transaction(
  deps: AttemptDeps,
  key: string,
  client: SmtpClient,
  host: string,
  message: OutboundMessage,
): Promise<{ readonly outcome: HostOutcome; readonly lost: boolean }> {
  if (message.requireTls === true && !client.extensions.has("REQUIRETLS")) {
    // RFC 8689 §4.2.1: not to this server; another host of the domain may offer it. The
    // session stays good for other mail.
    if (deps.sessions !== undefined && !client.closed) deps.sessions.give(key, client);
    else await client.quit();
    const problem = "does not offer REQUIRETLS";
    return { lost: false, outcome: { kind: "next", problem, noRequireTls: true } };
  }
  const results = await client.send(message);
  const state = client.tls;
  const lost = results.every((r) => r.local && r.reply.code === 421);
  // After a temporary failure the next try starts afresh: a server under load, or one that
  // changed its mind (its configuration, a greylist), speaks for a new session.
  const keep = !client.closed && !results.some((r) => r.outcome === "temporary");
  if (keep && deps.sessions !== undefined) deps.sessions.give(key, client);
  else await client.quit();
  return {
    lost,
    outcome: {
      kind: "done",
      tls: state,
      results: results.map((r) => ({
        address: r.address,
        outcome: r.outcome,
        reply: replyText(r.reply),
        remoteHost: r.local && r.reply.code === 421 ? null : host,
      })),
    },
  };
}
