import { assert, assertEquals } from "../../tests/assert.ts";
import { http01Handler } from "../acme/http01.ts";
import { healthHandler, type HealthOptions, serveHealth } from "./health.ts";
import { createLogger } from "./log.ts";

const TOKEN = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
const KEY_AUTHORIZATION = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;

/** The HTTP listener as src/server.ts builds it, with a failing or passing health check. */
function handler(options: HealthOptions & { healthy?: boolean } = {}) {
  const lines: string[] = [];
  const log = createLogger({ level: "info", format: "json", write: (line) => lines.push(line) });
  const { healthy = true, ...rest } = options;
  const handle = healthHandler(
    () => healthy ? Promise.resolve() : Promise.reject(new Error("database down")),
    log,
    {
      routes: http01Handler((token) => Promise.resolve(token === TOKEN ? KEY_AUTHORIZATION : null)),
      ...rest,
    },
  );
  return { handle, lines };
}

async function answer(
  handle: (request: Request) => Promise<Response>,
  url: string,
  init: RequestInit & { host?: string } = {},
): Promise<[number, string | null, string]> {
  const { host, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set("host", host ?? new URL(url).host);
  const response = await handle(new Request(url, { ...rest, headers }));
  return [response.status, response.headers.get("location"), await response.text()];
}

Deno.test("http: /healthz answers as before, with or without the redirect", async () => {
  for (const httpsPort of [undefined, 8443]) {
    const { handle } = handler(httpsPort === undefined ? {} : { httpsPort });
    assertEquals(await answer(handle, "http://127.0.0.1:8080/healthz"), [200, null, "ok\n"]);
    assertEquals(await answer(handle, "http://127.0.0.1:8080/healthz?probe=1"), [
      200,
      null,
      "ok\n",
    ]);
    const head = await handle(new Request("http://127.0.0.1:8080/healthz", { method: "HEAD" }));
    assertEquals(head.status, 200);
    await head.body?.cancel();
    assertEquals(
      (await answer(handle, "http://127.0.0.1:8080/healthz", { method: "POST" })).slice(0, 1),
      [405],
    );
    // A probe without a Host header (HTTP/1.0 load balancers) is still answered.
    const bare = await handle(new Request("http://localhost:8080/healthz"));
    assertEquals([bare.status, await bare.text()], [200, "ok\n"]);
  }
  const { handle, lines } = handler({ healthy: false, httpsPort: 443 });
  assertEquals(await answer(handle, "http://127.0.0.1:8080/healthz"), [503, null, "unavailable\n"]);
  assertEquals(lines.length, 1);
  assertEquals(JSON.parse(lines[0]!).msg, "health check failed");
});

Deno.test("http: ACME HTTP-01 challenges are answered, not redirected", async () => {
  const { handle } = handler({ httpsPort: 443 });
  const url = `http://mail.example.org/.well-known/acme-challenge/${TOKEN}`;
  assertEquals(await answer(handle, url), [200, null, KEY_AUTHORIZATION]);
  // An unknown token is the challenge route's 404, not a redirect the CA would follow.
  assertEquals(
    (await answer(handle, `http://mail.example.org/.well-known/acme-challenge/${"x".repeat(43)}`))
      .slice(0, 2),
    [404, null],
  );
});

Deno.test("http: everything else is redirected to HTTPS, or a 404 without an HTTPS port", async () => {
  const { handle } = handler({ httpsPort: 8443 });
  assertEquals(
    await answer(handle, "http://mail.example.org:8080/webmail/?folder=INBOX"),
    [308, "https://mail.example.org:8443/webmail/?folder=INBOX", ""],
  );
  assertEquals(
    (await answer(handle, "http://mail.example.org/healthz/x")).slice(0, 2),
    [308, "https://mail.example.org:8443/healthz/x"],
  );
  assertEquals(
    (await answer(handle, "http://[2001:db8::25]:8080/")).slice(0, 2),
    [308, "https://[2001:db8::25]:8443/"],
  );
  assertEquals(
    (await answer(handle, "http://mail.example.org/", { host: "mail.example.org/x?" }))
      .slice(0, 2),
    [400, null],
  );
  const { handle: noHttps } = handler();
  assertEquals(await answer(noHttps, "http://mail.example.org/x"), [404, null, "Not found\n"]);
});

/** Sends one raw HTTP/1.x request and returns the status line and the Location, if any. */
async function raw(port: number, head: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(`${head}\r\n\r\n`));
    let text = "";
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
      if (text.includes("\r\n\r\n")) break;
    }
    const [status, ...fields] = text.split("\r\n\r\n")[0]!.split("\r\n");
    const location = fields.find((f) => /^location:/i.test(f));
    return location === undefined ? status! : `${status} ${location.replace(/^location: /i, "")}`;
  } finally {
    conn.close();
  }
}

Deno.test("http: on a real socket, forged Host headers and targets cannot steer the redirect", async () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", format: "json", write: (line) => lines.push(line) });
  const [listener] = serveHealth(["127.0.0.1"], 0, () => Promise.resolve(), log, {
    routes: http01Handler(() => Promise.resolve(null)),
    httpsPort: 443,
  });
  assert(listener);
  try {
    const get = (target: string, ...fields: string[]) =>
      raw(listener.port, [`GET ${target} HTTP/1.1`, ...fields, "Connection: close"].join("\r\n"));
    assertEquals(
      await get("/a/b?c=d", "Host: Mail.Example.org:8080"),
      "HTTP/1.1 308 Permanent Redirect https://mail.example.org/a/b?c=d",
    );
    assertEquals(
      await get("/", "Host: [::1]:8080"),
      "HTTP/1.1 308 Permanent Redirect https://[::1]/",
    );
    assertEquals(
      await get("//evil.example/x", "Host: mail.example.org"),
      "HTTP/1.1 308 Permanent Redirect https://mail.example.org//evil.example/x",
    );
    assertEquals(await get("/healthz", "Host: mail.example.org"), "HTTP/1.1 200 OK");
    assertEquals(await get("/healthz"), "HTTP/1.1 200 OK");
    // Deno builds request.url from the Host header and the target; none of these may shape the
    // Location, and a Host that makes no URL is a 400, not a 500 with an error logged.
    for (
      const fields of [
        [],
        ["Host: "],
        ["Host: evil.example/x?"],
        ["Host: evil.example#"],
        ["Host: user@evil.example"],
        ["Host: a b"],
        ["Host: mail.example.org:http"],
        ["Host: [fe80::1%25eth0]"],
      ]
    ) {
      assertEquals(await get("/a", ...fields), "HTTP/1.1 400 Bad Request", fields.join());
    }
    assertEquals(
      await raw(listener.port, "GET /a HTTP/1.0"),
      "HTTP/1.0 400 Bad Request",
      "HTTP/1.0 without Host",
    );
    // Absolute form naming another host than Host (RFC 9112 §3.2.2).
    assertEquals(
      await get("http://evil.example/x", "Host: mail.example.org"),
      "HTTP/1.1 400 Bad Request",
    );
    assertEquals(
      await get("http://mail.example.org/x", "Host: mail.example.org"),
      "HTTP/1.1 308 Permanent Redirect https://mail.example.org/x",
    );
    assertEquals(lines, []);
  } finally {
    await listener.stop();
  }
});

Deno.test("http: /readyz answers with the readiness check when one is given", async () => {
  let reason: string | null = "listeners are not up";
  const { handle } = handler({ httpsPort: 8443, ready: () => Promise.resolve(reason) });
  assertEquals(
    await answer(handle, "http://127.0.0.1:8080/readyz"),
    [503, null, "not ready: listeners are not up\n"],
  );
  reason = null;
  assertEquals(await answer(handle, "http://127.0.0.1:8080/readyz"), [200, null, "ready\n"]);
  // Without a readiness check, /readyz is any other path: redirected.
  const { handle: plain } = handler({ httpsPort: 8443 });
  assertEquals(
    (await answer(plain, "http://mail.example.org/readyz")).slice(0, 2),
    [308, "https://mail.example.org:8443/readyz"],
  );
});
