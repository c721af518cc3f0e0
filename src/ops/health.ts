/**
 * The HTTP listener: a health endpoint (`GET /healthz`: 200 when the database answers, 503
 * otherwise) for load balancers and systemd watchdogs, a readiness endpoint (`GET /readyz`:
 * src/ops/ready.ts) when `options.ready` is given, and with `options.httpsPort` a redirect
 * of every other request to HTTPS (src/ops/https_redirect.ts). The web issue mounts it in the
 * Hono app. `options.routes` answers other paths first (ACME HTTP-01: src/acme/http01.ts); a
 * route that returns null leaves the request to the health endpoint and the redirect.
 *
 * A request whose Host makes no URL at all (`Host: a b`) is a 400 before any route sees it
 * (RFC 9112 §3.2), so a forged Host costs neither an error log line nor a 500.
 *
 * @module
 */

import { badRequest, httpsRedirect } from "./https_redirect.ts";
import type { Logger } from "./log.ts";
import { type Readiness, readyResponse } from "./ready.ts";

/** A running HTTP listener. */
export interface HttpListener {
  readonly address: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** More routes for the HTTP listener: a response, or null for "not mine". */
export type HttpRoutes = (request: Request) => Promise<Response | null>;

/** What the HTTP listener serves besides `/healthz`. */
export interface HealthOptions {
  /** Answered first; null leaves the request to the listener (ACME HTTP-01). */
  readonly routes?: HttpRoutes;
  /** Redirect everything else to HTTPS on this port; without it, everything else is a 404. */
  readonly httpsPort?: number;
  /** Answers `/readyz` (src/ops/ready.ts); without it, `/readyz` is left to the redirect. */
  readonly ready?: Readiness;
}

/**
 * The HTTP listener's request handler: `options.routes`, then `/healthz`, then the redirect to
 * HTTPS (or 404). `check` resolves when the service is healthy.
 *
 * @example
 * ```ts
 * const handler = healthHandler(async () => {}, log, { httpsPort: 443 });
 * (await handler(new Request("http://mail.example.org/healthz"))).status; // 200
 * ```
 */
export function healthHandler(
  check: () => Promise<void>,
  log: Logger,
  options: HealthOptions = {},
): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = URL.parse(request.url);
    if (url === null) return badRequest();
    if (options.routes) {
      try {
        const response = await options.routes(request);
        if (response) return response;
      } catch (error) {
        log.error("HTTP route failed", { error, path: url.pathname });
        return new Response("unavailable\n", { status: 503 });
      }
    }
    const ready = url.pathname === "/readyz" ? options.ready : undefined;
    if (url.pathname !== "/healthz" && ready === undefined) {
      return options.httpsPort === undefined
        ? new Response("Not found\n", { status: 404 })
        : httpsRedirect(request, options.httpsPort);
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed\n", {
        status: 405,
        headers: { allow: "GET, HEAD" },
      });
    }
    if (ready !== undefined) return readyResponse(await ready(), request.method);
    try {
      await check();
      return new Response("ok\n", { headers: { "cache-control": "no-store" } });
    } catch (error) {
      log.error("health check failed", { error });
      return new Response("unavailable\n", {
        status: 503,
        headers: { "cache-control": "no-store" },
      });
    }
  };
}

/** Serves {@link healthHandler} on each address (port 0: a free port, for tests). */
export function serveHealth(
  addresses: readonly string[],
  port: number,
  check: () => Promise<void>,
  log: Logger,
  options: HealthOptions = {},
): HttpListener[] {
  const handler = healthHandler(check, log, options);
  return addresses.map((hostname) => {
    const server = Deno.serve({ hostname, port, onListen: () => {} }, handler);
    const addr = server.addr as Deno.NetAddr;
    return { address: addr.hostname, port: addr.port, stop: () => server.shutdown() };
  });
}
