/**
 * The metrics listener (`[listeners.metrics]`, 127.0.0.1:9425 by default): `GET /metrics` in
 * the Prometheus text format, and `/healthz` and `/readyz` as on the HTTP listener.
 *
 * Security model:
 * - It binds to loopback unless configured otherwise, and answers only clients that
 *   `allowed(ip)` admits (`[metrics] allow`, loopback by default): anyone else gets 403 on
 *   every path. Metrics reveal traffic volumes and failure rates, which is reconnaissance.
 * - With a token (FUMI_METRICS_TOKEN or `[metrics] token_file`), `/metrics` also needs
 *   `Authorization: Bearer <token>` (RFC 6750 §2.1), compared in constant time; a missing or
 *   wrong one is 401 with `WWW-Authenticate: Bearer` (RFC 6750 §3). The probes stay open to
 *   allowed addresses, as orchestrators call them without credentials.
 * - Nothing here is secret or message content: counters, gauges and readiness reasons only.
 *
 * @module
 */

import type { HttpListener } from "./health.ts";
import type { Logger } from "./log.ts";
import { METRICS_CONTENT_TYPE, type Registry } from "./metrics.ts";
import { type Readiness, readyResponse } from "./ready.ts";

/** What the metrics listener serves, and to whom. */
export interface MetricsServerOptions {
  readonly registry: Registry;
  /** Null when ready, else why not. */
  readonly ready: Readiness;
  /** Resolves when the service is alive (the database answers). */
  readonly healthy: () => Promise<void>;
  /** Whether a client address may use the listener at all. */
  readonly allowed: (ip: string) => boolean;
  /** The bearer token `/metrics` requires; null: none. */
  readonly token: string | null;
  readonly log: Logger;
}

/** Who is asking: the peer of the connection. */
export interface RequestPeer {
  readonly remoteAddr: { readonly hostname: string } | Deno.Addr;
}

const NO_STORE = { "cache-control": "no-store", "content-type": "text/plain; charset=utf-8" };

/** The metrics listener's request handler. */
export function metricsHandler(
  options: MetricsServerOptions,
): (request: Request, peer: RequestPeer) => Promise<Response> {
  const expected = options.token === null ? null : new TextEncoder().encode(options.token);
  return async (request, peer) => {
    const ip = peerAddress(peer);
    if (ip === null || !options.allowed(ip)) {
      options.log.warn("metrics request refused", { ip: ip ?? "unknown", reason: "address" });
      return text(403, "Forbidden\n");
    }
    const path = URL.parse(request.url)?.pathname ?? "";
    if (!["/metrics", "/healthz", "/readyz"].includes(path)) return text(404, "Not found\n");
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed\n", {
        status: 405,
        headers: { ...NO_STORE, allow: "GET, HEAD" },
      });
    }
    if (path === "/readyz") return readyResponse(await options.ready(), request.method);
    if (path === "/healthz") {
      try {
        await options.healthy();
        return text(200, "ok\n");
      } catch {
        return text(503, "unavailable\n");
      }
    }
    if (expected !== null && !tokenMatches(request.headers.get("authorization"), expected)) {
      options.log.warn("metrics request refused", { ip, reason: "token" });
      return new Response("Unauthorized\n", {
        status: 401,
        // RFC 6750 §3: the challenge names the scheme.
        headers: { ...NO_STORE, "www-authenticate": 'Bearer realm="fumi metrics"' },
      });
    }
    const body = await options.registry.render((error) =>
      options.log.error("a metrics collector failed", { error })
    );
    return new Response(request.method === "HEAD" ? null : body, {
      headers: { "cache-control": "no-store", "content-type": METRICS_CONTENT_TYPE },
    });
  };
}

/** Serves {@link metricsHandler} on each address (port 0: a free port, for tests). */
export function serveMetrics(
  addresses: readonly string[],
  port: number,
  options: MetricsServerOptions,
): HttpListener[] {
  const handler = metricsHandler(options);
  return addresses.map((hostname) => {
    const server = Deno.serve({ hostname, port, onListen: () => {} }, handler);
    const addr = server.addr as Deno.NetAddr;
    return { address: addr.hostname, port: addr.port, stop: () => server.shutdown() };
  });
}

/** RFC 6750 §2.1: `Bearer <token>`; the comparison takes the same time wherever it differs. */
function tokenMatches(header: string | null, expected: Uint8Array): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? "");
  const given = new TextEncoder().encode(match?.[1] ?? "");
  let difference = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) difference |= (given[i] ?? 0) ^ expected[i]!;
  return match !== null && difference === 0;
}

function peerAddress(peer: RequestPeer): string | null {
  const addr = peer.remoteAddr;
  if (!("hostname" in addr)) return null;
  // An IPv4 client of an IPv6 socket arrives as ::ffff:a.b.c.d.
  return addr.hostname.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: NO_STORE });
}
