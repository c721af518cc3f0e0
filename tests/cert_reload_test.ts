/**
 * A certificate imported while a listener runs is served on the next handshake, without a
 * restart; so is a renewal of the certificate in use.
 */

import { assertEquals } from "./assert.ts";
import { withStore } from "./store.ts";
import { makeTestPki } from "./tls.ts";
import { silentLogger } from "../src/ops/log.ts";
import { startListener } from "../src/net/listener.ts";
import { liveTls } from "../src/tls_reload.ts";

const decoder = new TextDecoder();

/** The subject CN served to a client without SNI: the listener's own assignment decides. */
async function servedSubject(port: number): Promise<string> {
  const { stdout } = await new Deno.Command("timeout", {
    args: ["20", "openssl", "s_client", "-connect", `127.0.0.1:${port}`, "-noservername"],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  return /subject=CN ?= ?(\S+)/.exec(decoder.decode(stdout))?.[1] ?? "(none)";
}

async function eventually(expected: string, port: number): Promise<void> {
  const end = Date.now() + 10_000;
  let served = await servedSubject(port);
  while (served !== expected && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    served = await servedSubject(port);
  }
  assertEquals(served, expected);
}

Deno.test("a certificate imported or renewed while running is served on the next handshake", async () => {
  const pki = await makeTestPki();
  try {
    await withStore(async ({ store }) => {
      await store.certificates.ensureSelfSigned("localhost");
      const live = await liveTls(store.certificates, "imaps", silentLogger, { pollMs: 100 });
      const listener = await startListener({
        name: "imaps",
        addresses: ["127.0.0.1"],
        port: 0,
        mode: "tls",
        tls: live.contexts,
        log: silentLogger,
        session: async (conn) => await conn.write("* OK\r\n"),
      });
      try {
        const port = listener.endpoints[0]!.port;
        assertEquals(await servedSubject(port), "localhost");

        const issued = await pki.issue(["mail.localhost", "127.0.0.1"]);
        await store.certificates.import("mail", issued.certPem + pki.caPem, issued.keyPem);
        await store.certificates.assign("imaps", "mail");
        await eventually("mail.localhost", port);

        // Renewal: same name, new certificate; the assignment stays.
        const renewed = await pki.issue(["renewed.localhost", "127.0.0.1"]);
        await store.certificates.import("mail", renewed.certPem + pki.caPem, renewed.keyPem);
        await eventually("renewed.localhost", port);
      } finally {
        await listener.close();
        await live.stop();
      }
    });
  } finally {
    await pki.remove();
  }
});
