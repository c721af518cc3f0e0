/**
 * The server side of `deno task bench tls`, in its own process so that its memory is its own:
 * an implicit-TLS listener and a STARTTLS listener (SMTP-like greeting), with a test CA. Prints
 * one JSON line with the ports; answers "mem" on stdin with its memory use; exits on "quit".
 *
 * @module
 */

import { silentLogger } from "../src/ops/log.ts";
import { startListener } from "../src/net/listener.ts";
import { TlsContexts } from "../src/net/tls_contexts.ts";
import { makeTestPki } from "../tests/tls.ts";

const pki = await makeTestPki();
const tls = new TlsContexts({
  fallback: await pki.issue(["localhost", "127.0.0.1"]),
  byName: new Map(),
});
const decoder = new TextDecoder();

const implicit = await startListener({
  name: "imaps",
  addresses: ["127.0.0.1"],
  port: 0,
  mode: "tls",
  tls,
  log: silentLogger,
  session: async (conn) => {
    await conn.write("* OK ready\r\n");
    while (await conn.readLine(1024, 600_000)) await conn.write("* OK\r\n");
  },
});
const starttls = await startListener({
  name: "smtp",
  addresses: ["127.0.0.1"],
  port: 0,
  mode: "starttls",
  tls,
  log: silentLogger,
  session: async (conn, options) => {
    await conn.write("220 bench ESMTP\r\n");
    for (;;) {
      const line = await conn.readLine(1024, 600_000);
      if (!line) return;
      if (decoder.decode(line.bytes).toUpperCase() === "STARTTLS" && !conn.tls) {
        await conn.startTls("220 2.0.0 Ready\r\n", options);
      } else {
        await conn.write("250 OK\r\n");
      }
    }
  },
});

console.log(JSON.stringify({
  implicit: implicit.endpoints[0]!.port,
  starttls: starttls.endpoints[0]!.port,
  caFile: pki.caFile,
}));

const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let pending = "";
for await (const chunk of lines) {
  pending += chunk;
  let nl: number;
  while ((nl = pending.indexOf("\n")) !== -1) {
    const command = pending.slice(0, nl).trim();
    pending = pending.slice(nl + 1);
    if (command === "mem") {
      // Collect garbage first when the runtime allows it, so the figure is what is held.
      (globalThis as { gc?: () => void }).gc?.();
      const m = Deno.memoryUsage();
      console.log(
        JSON.stringify({
          rss: m.rss,
          heap: m.heapUsed,
          external: m.external,
          active: implicit.active + starttls.active,
        }),
      );
    } else if (command === "quit") {
      await Promise.all([implicit.close(), starttls.close()]);
      await pki.remove();
      Deno.exit(0);
    }
  }
}
