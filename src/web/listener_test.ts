/**
 * The HTTPS listener over real sockets: TLS with the test CA, ALPN, the limits on header
 * fields and body, flow control per address, and an event stream that ends with its client.
 */

import { assert, assertEquals, assertStringIncludes } from "../../tests/assert.ts";
import { withServerWorld } from "../../tests/server_world.ts";
import { FlowControl } from "../net/flow.ts";
import { silentLogger } from "../ops/log.ts";
import { startWebListener } from "./listener.ts";
import { startWebmail } from "./start.ts";

async function withListener(
  fn: (port: number, caPem: string, watched: () => number) => Promise<void>,
  maxPerIp = 20,
): Promise<void> {
  await withServerWorld(async (world) => {
    const web = await startWebmail({
      addresses: ["127.0.0.1"],
      port: 0,
      tls: world.tls,
      flow: new FlowControl({ maxPerIp }),
      store: world.store,
      login: world.login,
      hostname: world.hostname,
      log: silentLogger,
    });
    try {
      await fn(web.listener.endpoints[0]!.port, world.caPem, () => world.store.changes.watched);
    } finally {
      await web.stop();
    }
  }, silentLogger);
}

/** Sends raw bytes over TLS and reads the answer until the server closes or `until` matches. */
async function raw(
  port: number,
  caPem: string,
  request: string,
  until = /\r\n\r\n/,
): Promise<string> {
  const conn = await Deno.connectTls({
    hostname: "localhost",
    port,
    caCerts: [caPem],
    alpnProtocols: ["http/1.1"],
  });
  try {
    await conn.write(new TextEncoder().encode(request));
    let text = "";
    const buffer = new Uint8Array(65536);
    while (!until.test(text)) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return text;
  } finally {
    conn.close();
  }
}

Deno.test("the listener serves the app over TLS 1.2+ with http/1.1 ALPN", async () => {
  await withListener(async (port, caPem) => {
    const client = Deno.createHttpClient({ caCerts: [caPem], http2: false });
    try {
      const response = await fetch(`https://localhost:${port}/login`, { client });
      assertEquals(response.status, 200);
      assertStringIncludes(await response.text(), "Sign in");
      assertEquals(response.headers.get("x-frame-options"), "DENY");
    } finally {
      client.close();
    }
    const conn = await Deno.connectTls({
      hostname: "localhost",
      port,
      caCerts: [caPem],
      alpnProtocols: ["h2", "http/1.1"],
    });
    const info = await conn.handshake();
    assertEquals(info.alpnProtocol, "http/1.1");
    conn.close();
    // ALPACA: a client that offers only another protocol is refused in the handshake.
    const imap = await Deno.connectTls({
      hostname: "localhost",
      port,
      caCerts: [caPem],
      alpnProtocols: ["imap"],
    });
    let refused = false;
    try {
      await imap.handshake();
    } catch {
      refused = true;
    } finally {
      imap.close();
    }
    assert(refused, "a client offering only imap must be refused");
  });
});

Deno.test("header fields over 16 KiB get 431, a body over the limit 413", async () => {
  await withListener(async (port, caPem) => {
    const big = await raw(
      port,
      caPem,
      `GET /login HTTP/1.1\r\nHost: localhost\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    assert(/^HTTP\/1\.1 431/.test(big), big.slice(0, 80));
    const body = await raw(
      port,
      caPem,
      "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded" +
        "\r\nContent-Length: 999999999\r\n\r\naddress=x",
    );
    assert(/^HTTP\/1\.1 413/.test(body), body.slice(0, 80));
  });
});

Deno.test("an anonymous POST over 64 KiB is refused before its body is read", async () => {
  await withListener(async (port, caPem) => {
    // Declared: 1 MiB, none of it sent; the answer comes at once.
    const declared = await raw(
      port,
      caPem,
      "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded" +
        `\r\nContent-Length: ${1024 * 1024}\r\n\r\naddress=x`,
    );
    assert(/^HTTP\/1\.1 413/.test(declared), declared.slice(0, 80));
    // Chunked, no length said: refused once 64 KiB have come, though the body never ends.
    const conn = await Deno.connectTls({
      hostname: "localhost",
      port,
      caCerts: [caPem],
      alpnProtocols: ["http/1.1"],
    });
    let chunked = "";
    try {
      const chunk = "a".repeat(16 * 1024);
      const data = new TextEncoder().encode(
        "POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded" +
          "\r\nTransfer-Encoding: chunked\r\n\r\n" +
          `${chunk.length.toString(16)}\r\n${chunk}\r\n`.repeat(5),
      );
      // conn.write may write part of what it is given.
      const writing = (async () => {
        for (let at = 0; at < data.length;) at += await conn.write(data.subarray(at));
      })().catch(() => {});
      const buffer = new Uint8Array(4096);
      while (!/\r\n\r\n/.test(chunked)) {
        const n = await conn.read(buffer).catch(() => null);
        if (n === null) break;
        chunked += new TextDecoder().decode(buffer.subarray(0, n));
      }
      await writing;
    } finally {
      conn.close();
    }
    assert(/^HTTP\/1\.1 413/.test(chunked), chunked.slice(0, 80));
  });
});

Deno.test("connections beyond the per-address limit are closed", async () => {
  await withListener(async (port, caPem) => {
    const first = await Deno.connectTls({ hostname: "localhost", port, caCerts: [caPem] });
    await first.handshake();
    let closed = false;
    try {
      const second = await Deno.connectTls({ hostname: "localhost", port, caCerts: [caPem] });
      try {
        await second.handshake();
        await second.write(new TextEncoder().encode("GET /login HTTP/1.1\r\nHost: x\r\n\r\n"));
        closed = (await second.read(new Uint8Array(1024))) === null;
      } catch {
        closed = true;
      } finally {
        second.close();
      }
    } catch {
      closed = true;
    }
    first.close();
    assert(closed, "the second connection must be refused");
  }, 1);
});

Deno.test("an event stream ends its subscription when the client goes away", async () => {
  await withListener(async (port, caPem, watched) => {
    const client = Deno.createHttpClient({ caCerts: [caPem], http2: false });
    try {
      const signIn = await fetch(`https://localhost:${port}/login`, {
        client,
        method: "POST",
        redirect: "manual",
        headers: { origin: `https://localhost:${port}` },
        body: new URLSearchParams({
          address: "alice@example.org",
          password: "purple elephants dance 42",
        }),
      });
      await signIn.body?.cancel();
      assertEquals(signIn.status, 303);
      const cookie = signIn.headers.getSetCookie()[0]!.split(";")[0]!;
      const controller = new AbortController();
      const events = await fetch(`https://localhost:${port}/events`, {
        client,
        headers: { cookie },
        signal: controller.signal,
      });
      assertEquals(events.status, 200);
      const reader = events.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      assertStringIncludes(first, "retry: 5000");
      assert(watched() > 0, "subscribed while the stream is open");
      controller.abort();
      await reader.cancel().catch(() => {});
      for (let i = 0; i < 100 && watched() > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assertEquals(watched(), 0);
    } finally {
      client.close();
    }
  });
});

Deno.test("an idle connection and one that sends its header fields too slowly are closed", async () => {
  await withServerWorld(async (world) => {
    const listener = await startWebListener({
      addresses: ["127.0.0.1"],
      port: 0,
      tls: world.tls,
      flow: new FlowControl(),
      handler: () => Promise.resolve(new Response("ok")),
      log: silentLogger,
      limits: { idleTimeoutMs: 400, headersTimeoutMs: 800 },
    });
    const port = listener.endpoints[0]!.port;
    const open = async () => {
      const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [world.caPem] });
      await conn.handshake();
      return conn;
    };
    try {
      const idle = await open();
      const started = Date.now();
      // Closed: the end of the stream, or rustls's complaint that no close_notify came first.
      assertEquals(await idle.read(new Uint8Array(16)).catch(() => null), null);
      idle.close();
      assert(Date.now() - started < 3000, "idle connection closed in time");

      // A byte every 200 ms keeps the idle timer quiet; the header deadline still ends it.
      const slow = await open();
      const slowStart = Date.now();
      let closed = false;
      const reading = slow.read(new Uint8Array(1024)).then(
        () => closed = true,
        () => closed = true,
      );
      const line = "GET /login HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
      for (const char of line + "a".repeat(40)) {
        if (closed) break;
        await slow.write(new TextEncoder().encode(char)).catch(() => closed = true);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await reading;
      slow.close();
      assert(closed, "slow header fields end the connection");
      assert(Date.now() - slowStart < 3000, `closed after ${Date.now() - slowStart} ms`);
    } finally {
      await listener.stop();
    }
  }, silentLogger);
});

Deno.test("a port in use is reported as Deno's AddrInUse", async () => {
  await withServerWorld(async (world) => {
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      let error: unknown;
      try {
        const listener = await startWebListener({
          addresses: ["127.0.0.1"],
          port: (taken.addr as Deno.NetAddr).port,
          tls: world.tls,
          flow: new FlowControl(),
          handler: () => Promise.resolve(new Response("ok")),
          log: silentLogger,
        });
        await listener.stop();
      } catch (caught) {
        error = caught;
      }
      assert(error instanceof Deno.errors.AddrInUse, String(error));
    } finally {
      taken.close();
    }
  }, silentLogger);
});
