/**
 * A health endpoint (`GET /healthz`: 200 when the database answers, 503 otherwise) on the HTTP
 * listener, for load balancers and systemd watchdogs. The web issue mounts it in the Hono app.
 * `options.routes` answers other paths first (ACME HTTP-01: src/acme/http01.ts); a route that
 * returns null leaves the request to the health endpoint.
 *
 * @module
 */

import type { Logger } from "./log.ts";

/** A running HTTP listener. */
export interface HttpListener {
  readonly address: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** More routes for the HTTP listener: a response, or null for "not mine". */
export type HttpRoutes = (request: Request) => Promise<Response | null>;

/** Serves `/healthz` on each address; `check` resolves when the service is healthy. */
export function serveHealth(
  addresses: readonly string[],
  port: number,
  check: () => Promise<void>,
  log: Logger,
  options: { routes?: HttpRoutes } = {},
): HttpListener[] {
  return addresses.map((hostname) => {
    const server = Deno.serve({ hostname, port, onListen: () => {} }, async (request) => {
      if (options.routes) {
        try {
          const response = await options.routes(request);
          if (response) return response;
        } catch (error) {
          log.error("HTTP route failed", { error, path: new URL(request.url).pathname });
          return new Response("unavailable\n", { status: 503 });
        }
      }
      const url = new URL(request.url);
      if (url.pathname !== "/healthz") return new Response("Not found\n", { status: 404 });
      if (request.method !== "GET" && request.method !== "HEAD") {
        return new Response("Method not allowed\n", {
          status: 405,
          headers: { allow: "GET, HEAD" },
        });
      }
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
    });
    const addr = server.addr as Deno.NetAddr;
    return { address: addr.hostname, port: addr.port, stop: () => server.shutdown() };
  });
}
