/**
 * A health endpoint (`GET /healthz`: 200 when the database answers, 503 otherwise) on the HTTP
 * listener, for load balancers and systemd watchdogs. The web issue mounts it in the Hono app.
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

/** Serves `/healthz` on each address; `check` resolves when the service is healthy. */
export function serveHealth(
  addresses: readonly string[],
  port: number,
  check: () => Promise<void>,
  log: Logger,
): HttpListener[] {
  return addresses.map((hostname) => {
    const server = Deno.serve({ hostname, port, onListen: () => {} }, async (request) => {
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
