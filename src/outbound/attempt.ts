/**
 * One delivery attempt of a message to the recipients it has at one domain (RFC 5321 §5.1):
 * the domain's mail hosts in order of preference (or its address when it has no MX), each of
 * their addresses in turn, until one takes the transaction; then that host's answer per
 * recipient stands (a 4xx or 5xx to RCPT is its decision, not a reason to ask another host).
 *
 * Invariants:
 * - Permanent only when the destination says so: a null MX (RFC 7505 §4.2: 556 5.1.10), a
 *   domain that does not exist or has no mail host (550 5.1.2), or a 5xx from the host that
 *   took the transaction. Every lookup or connection failure is temporary.
 * - TLS is opportunistic (RFC 7435): STARTTLS whenever offered, any certificate accepted; a
 *   host whose TLS handshake fails is tried once more in clear, as MTAs do at that level.
 * - A host that refuses the session (greeting or EHLO not 2xx) is passed over for the next.
 *
 * @module
 */

import { mxHosts, type Resolver } from "../dns/mod.ts";
import type { Connection } from "../net/connection.ts";
import type { Logger } from "../ops/log.ts";
import {
  type ClientTimeouts,
  ConnectionLostError,
  type OutboundMessage,
  type Outcome,
  SessionRefusedError,
  SmtpClient,
  type TlsMode,
} from "../smtp/client/mod.ts";
import { type Reply, replyText } from "../smtp/proto/mod.ts";

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

/** Tries to deliver `message` (whose recipients are all at `domain`). */
export async function deliverToDomain(
  deps: AttemptDeps,
  domain: string,
  message: OutboundMessage,
): Promise<AttemptOutcome[]> {
  const all = (outcome: Outcome, reply: Reply, remoteHost: string | null = null) =>
    message.recipients.map((r) => ({
      address: r.address,
      outcome,
      reply: replyText(reply),
      remoteHost,
    }));
  const route = await mxHosts(deps.resolver, domain);
  switch (route.status) {
    case "null-mx":
      return all("permanent", {
        code: 556,
        enhanced: "5.1.10",
        lines: [`${domain} does not accept mail (null MX)`],
      });
    case "no-domain":
    case "no-mail-host":
      return all("permanent", { code: 550, enhanced: "5.1.2", lines: [route.reason] });
    case "temperror":
      return all("temporary", { code: 451, enhanced: "4.4.3", lines: [route.reason] });
  }
  let lastProblem = `No mail host of ${domain} could be reached`;
  for (const host of route.hosts) {
    if (host.addresses.length === 0) {
      lastProblem = host.temporaryError ?? `${host.host} has no address`;
      continue;
    }
    for (const address of host.addresses) {
      const outcome = await tryHost(deps, host.host, address, message);
      if (outcome.kind === "done") return outcome.results;
      lastProblem = `${host.host} [${address}]: ${outcome.problem}`;
      deps.log.info("mail host failed", { host: host.host, address, problem: outcome.problem });
    }
  }
  // RFC 3463: 4.4.1 no answer from host.
  return all("temporary", { code: 451, enhanced: "4.4.1", lines: [lastProblem] });
}

type HostOutcome =
  | { readonly kind: "done"; readonly results: AttemptOutcome[] }
  | { readonly kind: "next"; readonly problem: string };

/** One host at one address: opportunistic TLS first, then in clear if the handshake failed. */
async function tryHost(
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

async function session(
  deps: AttemptDeps,
  host: string,
  address: string,
  tls: TlsMode,
  message: OutboundMessage,
): Promise<HostOutcome & { readonly tlsFailed?: boolean }> {
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
    const tlsFailed = error instanceof ConnectionLostError && error.stage === "the TLS handshake";
    return { kind: "next", problem: (error as Error).message, tlsFailed };
  }
  const results = await client.send(message);
  await client.quit();
  return {
    kind: "done",
    results: results.map((r) => ({
      address: r.address,
      outcome: r.outcome,
      reply: replyText(r.reply),
      remoteHost: r.local && r.reply.code === 421 ? null : host,
    })),
  };
}
