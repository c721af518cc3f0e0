/**
 * testssl.sh (Debian's package) against each kind of TLS listener, judged on its JSON findings:
 * nothing of severity MEDIUM or worse, except "cipher_order": rustls leaves the choice of suite
 * to the client among suites that are all strong, which testssl 3.0.8 flags and Mozilla's
 * guidelines accept. The test CA is passed with --add-ca, and the test certificates carry SANs,
 * CRL and OCSP addresses and a 90-day lifetime, so the certificate is not what is judged.
 *
 * The scans do not touch the database, so the run with FUMI_TEST_DATABASE_URL skips them
 * rather than repeat three minutes of identical work.
 */

import { assert, assertEquals } from "./assert.ts";
import { makeTestPki } from "./tls.ts";
import { silentLogger } from "../src/ops/log.ts";
import type { Connection, StartTlsOptions } from "../src/net/connection.ts";
import { startListener } from "../src/net/listener.ts";
import { TlsContexts } from "../src/net/tls_contexts.ts";

interface Finding {
  id: string;
  severity: string;
  finding: string;
}

const ACCEPTED = new Set(["cipher_order"]);
const decoder = new TextDecoder();

/** A line protocol just rich enough for testssl's STARTTLS for SMTP and IMAP. */
async function session(
  conn: Connection,
  startTls: StartTlsOptions,
  style: "smtp" | "imap" | "tls",
) {
  await conn.write(
    style === "smtp" ? "220 test ESMTP\r\n" : "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
  );
  for (;;) {
    const line = await conn.readLine(1024, 30_000);
    if (!line) return;
    const words = decoder.decode(line.bytes).split(" ");
    const tag = words[0] ?? "";
    const verb = (style === "smtp" ? words[0] : words[1])?.toUpperCase() ?? "";
    if (verb === "STARTTLS" && !conn.tls) {
      await conn.startTls(
        style === "smtp" ? "220 2.0.0 Ready\r\n" : `${tag} OK Begin TLS\r\n`,
        startTls,
      );
    } else if (style === "smtp") {
      if (verb === "QUIT") return void await conn.write("221 bye\r\n");
      await conn.write(
        verb === "EHLO" ? `250-test\r\n250 ${conn.tls ? "OK" : "STARTTLS"}\r\n` : "250 OK\r\n",
      );
    } else {
      if (verb === "LOGOUT") return void await conn.write(`* BYE\r\n${tag} OK done\r\n`);
      const caps = conn.tls ? "IMAP4rev1" : "IMAP4rev1 STARTTLS";
      await conn.write(
        verb === "CAPABILITY" ? `* CAPABILITY ${caps}\r\n${tag} OK done\r\n` : `${tag} OK done\r\n`,
      );
    }
  }
}

async function testssl(target: string, caFile: string, extra: string[]): Promise<Finding[]> {
  const dir = await Deno.makeTempDir({ prefix: "fumi-testssl-" });
  try {
    const json = `${dir}/out.json`;
    // The exit code counts findings, so it is not the verdict; the JSON is.
    await new Deno.Command("timeout", {
      args: [
        "240",
        "testssl",
        "--quiet",
        "--warnings",
        "off",
        "--color",
        "0",
        "--add-ca",
        caFile,
        "--jsonfile",
        json,
        ...extra,
        target,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    return JSON.parse(await Deno.readTextFile(json)) as Finding[];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "testssl.sh finds nothing MEDIUM or worse on implicit TLS, SMTP STARTTLS and IMAP STARTTLS",
  ignore: Deno.env.get("FUMI_TEST_DATABASE_URL") !== undefined,
  fn: async () => {
    const pki = await makeTestPki();
    const tls = new TlsContexts({
      fallback: await pki.issue(["localhost", "127.0.0.1"]),
      byName: new Map(),
    });
    const kinds = [
      { style: "tls", mode: "tls", alpn: ["imap"], args: [] },
      { style: "smtp", mode: "starttls", args: ["-t", "smtp", "-p", "-s", "-f", "-P", "-S", "-U"] },
      { style: "imap", mode: "starttls", args: ["-t", "imap", "-p", "-s", "-f", "-P", "-S", "-U"] },
    ] as const;
    const listeners = await Promise.all(kinds.map((kind) =>
      startListener({
        name: kind.style,
        addresses: ["127.0.0.1"],
        port: 0,
        mode: kind.mode,
        tls,
        ...("alpn" in kind ? { alpn: kind.alpn } : {}),
        log: silentLogger,
        session: (conn, startTls) => session(conn, startTls, kind.style),
      })
    ));
    try {
      const results = await Promise.all(
        kinds.map((kind, i) =>
          testssl(`127.0.0.1:${listeners[i]!.endpoints[0]!.port}`, pki.caFile, [...kind.args])
        ),
      );
      for (const [i, findings] of results.entries()) {
        const kind = kinds[i]!.style;
        const byId = new Map(findings.map((f) => [f.id, f.finding]));
        // The scan really ran: it saw what is offered and what is not.
        assertEquals(byId.get("TLS1_3"), "offered with final", kind);
        assertEquals(byId.get("TLS1_2"), "offered", kind);
        for (const old of ["SSLv2", "SSLv3", "TLS1", "TLS1_1"]) {
          assertEquals(byId.get(old), "not offered", `${kind} ${old}`);
        }
        const bad = findings.filter((f) =>
          ["MEDIUM", "HIGH", "CRITICAL"].includes(f.severity) && !ACCEPTED.has(f.id)
        );
        assertEquals(bad.map((f) => `${f.severity} ${f.id}: ${f.finding}`), [], kind);
        assert(findings.length > 50, `${kind}: only ${findings.length} findings`);
      }
    } finally {
      await Promise.all(listeners.map((l) => l.close()));
      await pki.remove();
    }
  },
});
