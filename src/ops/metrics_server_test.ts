import { assertEquals, assertStringIncludes } from "../../tests/assert.ts";
import { createLogger } from "./log.ts";
import { Registry } from "./metrics.ts";
import { metricsHandler, type MetricsServerOptions } from "./metrics_server.ts";
import { readiness, readyResponse } from "./ready.ts";

function handler(options: Partial<MetricsServerOptions> = {}) {
  const lines: string[] = [];
  const registry = new Registry();
  registry.counter("t_total", "A counter.").inc();
  const handle = metricsHandler({
    registry,
    ready: () => Promise.resolve(null),
    healthy: () => Promise.resolve(),
    allowed: (ip) => ip === "127.0.0.1",
    token: null,
    log: createLogger({ level: "info", format: "json", write: (l) => lines.push(l) }),
    ...options,
  });
  const get = async (path: string, ip = "127.0.0.1", init: RequestInit = {}) => {
    const response = await handle(new Request(`http://127.0.0.1:9425${path}`, init), {
      remoteAddr: { hostname: ip },
    });
    return [response.status, await response.text()] as const;
  };
  return { get, lines };
}

Deno.test("metrics listener: /metrics, /healthz, /readyz for an allowed client", async () => {
  const { get } = handler();
  const [status, body] = await get("/metrics");
  assertEquals(status, 200);
  assertStringIncludes(body, "# TYPE t_total counter\nt_total 1\n");
  assertEquals(await get("/healthz"), [200, "ok\n"]);
  assertEquals(await get("/readyz"), [200, "ready\n"]);
  assertEquals(await get("/other"), [404, "Not found\n"]);
  assertEquals((await get("/metrics", "127.0.0.1", { method: "POST" }))[0], 405);
  // An IPv4 client of a dual-stack socket is judged by its IPv4 address.
  assertEquals((await get("/metrics", "::ffff:127.0.0.1"))[0], 200);
});

Deno.test("metrics listener: a client outside the allow list gets 403 on every path", async () => {
  const { get, lines } = handler();
  for (const path of ["/metrics", "/readyz", "/healthz", "/other"]) {
    assertEquals(await get(path, "192.0.2.10"), [403, "Forbidden\n"]);
  }
  assertEquals(lines.length, 4);
  assertStringIncludes(lines[0]!, '"msg":"metrics request refused","ip":"192.0.2.10"');
});

Deno.test("metrics listener: with a token, /metrics needs it as a bearer token", async () => {
  const { get } = handler({ token: "s3cret-token" });
  assertEquals((await get("/metrics"))[0], 401);
  const auth = (value: string) => ({ headers: { authorization: value } });
  assertEquals((await get("/metrics", "127.0.0.1", auth("Bearer wrong")))[0], 401);
  assertEquals((await get("/metrics", "127.0.0.1", auth("Basic s3cret-token")))[0], 401);
  assertEquals((await get("/metrics", "127.0.0.1", auth("Bearer s3cret-token2")))[0], 401);
  assertEquals((await get("/metrics", "127.0.0.1", auth("Bearer s3cret-token")))[0], 200);
  assertEquals((await get("/metrics", "127.0.0.1", auth("bearer s3cret-token")))[0], 200);
  assertEquals((await get("/readyz"))[0], 200, "the probes need no token");
});

Deno.test("readiness: listeners, then the database, then migrations; 503 with the reason", async () => {
  let up = false;
  let database = Promise.resolve();
  let pending = Promise.resolve(0);
  const ready = readiness({
    listenersUp: () => up,
    database: () => database,
    pendingMigrations: () => pending,
  }, 50);
  assertEquals(await ready(), "listeners are not up");
  up = true;
  assertEquals(await ready(), null);
  database = Promise.reject(new Error("connection refused"));
  database.catch(() => {});
  assertEquals(await ready(), "database does not answer");
  // A database that hangs is as good as down: the probe answers within its bound.
  database = new Promise(() => {});
  assertEquals(await ready(), "database does not answer");
  database = Promise.resolve();
  pending = Promise.resolve(2);
  assertEquals(await ready(), "2 migration(s) not applied");
  const response = readyResponse("2 migration(s) not applied", "GET");
  assertEquals(
    [response.status, await response.text(), response.headers.get("cache-control")],
    [503, "not ready: 2 migration(s) not applied\n", "no-store"],
  );
  assertEquals(await readyResponse(null, "HEAD").text(), "");
});
