/**
 * `fumi serve` publishes its MTA-STS policy (RFC 8461 §3.3) for the domains it hosts: a real
 * TLS client asks the HTTPS listener for https://mta-sts.<domain>/.well-known/mta-sts.txt and
 * gets the policy whose id `fumi domain dns` printed; a domain not hosted gets a 404, and the
 * webmail still answers its own paths.
 *
 * @module
 */

import { connect } from "node:tls";
import { assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { assertOk, type Env, freePort, fumi, newDataDir, startFumi, withTempDir } from "./cli.ts";
import { generateMasterKey } from "../src/crypto/master_key.ts";
import { parsePolicy, policyId } from "../src/mtasts/mod.ts";

/** One HTTP request over TLS to 127.0.0.1:`port` with `host` (SNI and Host); the answer. */
function request(port: number, host: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // The dev server's certificate is self-signed: this test is about what is served.
    const socket = connect({
      host: "127.0.0.1",
      port,
      servername: host,
      rejectUnauthorized: false,
    });
    let text = "";
    socket.setEncoding("utf8");
    socket.on("secureConnect", () => {
      // HTTP/1.0: the body comes whole, not in chunks.
      socket.write(`GET ${path} HTTP/1.0\r\nHost: ${host}\r\n\r\n`);
    });
    socket.on("data", (chunk: string) => text += chunk);
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error("timed out")));
  });
}

Deno.test("serve: the MTA-STS policy of each hosted domain over HTTPS, with the id domain dns prints", async () => {
  await withTempDir(async (tmp) => {
    const dataDir = `${tmp}/data`;
    await newDataDir(dataDir);
    const https = freePort();
    const config = `${tmp}/fumi.toml`;
    // Only the HTTPS listener, on a free port; mail.example.org is the MX the policy names.
    await Deno.writeTextFile(
      config,
      ["smtp", "submission", "submissions", "imap", "imaps", "http", "metrics"]
        .map((name) => `[listeners.${name}]\nenabled = false\n`).join("") +
        `[listeners.https]\naddresses = ["127.0.0.1"]\nport = ${https}\n`,
    );
    const env: Env = {
      FUMI_DATA_DIR: dataDir,
      FUMI_MASTER_KEY: generateMasterKey(),
      FUMI_HOSTNAME: "mail.example.org",
      FUMI_CONFIG: config,
    };
    const printed = assertOk(await fumi(["domain", "add", "example.org"], { env }));
    const id = /^ *_mta-sts\.example\.org\. +TXT +"v=STSv1; id=([0-9a-f]+)"/m
      .exec(printed.join("\n"))?.[1];
    const running = startFumi(["serve", "--dev"], { env });
    try {
      await running.io.waitForOut(/^ {2}webmail: +https:\/\//);
      const served = await request(https, "mta-sts.example.org", "/.well-known/mta-sts.txt");
      assertMatch(served, /^HTTP\/1\.[01] 200 /);
      assertMatch(served, /\r\ncontent-type: text\/plain; charset=utf-8\r\n/i);
      const body = served.slice(served.indexOf("\r\n\r\n") + 4);
      assertEquals(parsePolicy(body), {
        ok: true,
        value: { mode: "enforce", mx: ["mail.example.org"], maxAge: 86400 },
      });
      assertEquals(await policyId(body), id);
      const other = await request(https, "mta-sts.other.example", "/.well-known/mta-sts.txt");
      assertMatch(other, /^HTTP\/1\.[01] 404 /);
      // The webmail's own paths are untouched.
      const signIn = await request(https, "mail.example.org", "/login");
      assertMatch(signIn, /^HTTP\/1\.[01] 200 /);
      assertStringIncludes(signIn, "Sign in");
    } finally {
      running.io.stop("SIGTERM");
      assertEquals(await running.exit, 0, running.io.stderr.join("\n"));
    }
  });
});
