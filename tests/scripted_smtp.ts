/**
 * A tiny SMTP server whose replies a test scripts, over real sockets and real STARTTLS (with a
 * test PKI's certificate for mx.example.net and 127.0.0.1): for client tests that need a peer
 * to misbehave, or to lack an extension, in ways Fumi's own server never does.
 *
 * @module
 */

import type { Connection } from "../src/net/connection.ts";
import { type RunningListener, startListener } from "../src/net/listener.ts";
import { type CertificatePair, TlsContexts } from "../src/net/tls_contexts.ts";
import { silentLogger } from "../src/ops/log.ts";
import { makeTestPki, type TestPki } from "./tls.ts";

const decoder = new TextDecoder();

/** What a scripted server does with each command line: the reply lines to send (CRLF added). */
export type Script = (command: string, state: { tls: boolean }) => string | null;

export interface Scripted {
  readonly port: number;
  /** Every command line received, and the message contents after DATA. */
  readonly seen: string[];
  readonly contents: string[];
}

let pki: TestPki | undefined;
let leaf: CertificatePair | undefined;

/** The PKI the scripted servers' certificate comes from (made on first use). */
export async function scriptedPki(): Promise<{ pki: TestPki; leaf: CertificatePair }> {
  pki ??= await makeTestPki();
  leaf ??= await pki.issue(["mx.example.net", "127.0.0.1"]);
  return { pki, leaf };
}

/** Removes the PKI's files; a test file's last test calls it. */
export async function removeScriptedPki(): Promise<void> {
  await pki?.remove();
  pki = undefined;
  leaf = undefined;
}

/** A tiny SMTP server whose replies a test scripts; DATA content is collected. */
export async function withScriptedServer(
  script: Script,
  options: { greeting?: string; extensions?: string[] },
  fn: (server: Scripted) => Promise<void>,
): Promise<void> {
  const { leaf } = await scriptedPki();
  const tls = new TlsContexts({ fallback: leaf, byName: new Map() });
  const seen: string[] = [];
  const contents: string[] = [];
  const extensions = options.extensions ?? ["PIPELINING", "8BITMIME", "SIZE 100000", "STARTTLS"];
  const session = async (conn: Connection, startTls: Parameters<typeof conn.startTls>[1]) => {
    await conn.write(`${options.greeting ?? "220 mx.example.net ESMTP"}\r\n`);
    for (;;) {
      const line = await conn.readLine(2048, 10_000).catch(() => null);
      if (line === null) return;
      const command = decoder.decode(line.bytes);
      seen.push(command);
      const verb = command.split(" ")[0]!.toUpperCase();
      if (verb === "EHLO" && script(command, { tls: conn.tls !== null }) === null) {
        const offered = extensions.filter((e) => conn.tls === null || e !== "STARTTLS");
        const lines = ["mx.example.net", ...offered];
        await conn.write(
          lines.map((l, i) => `250${i < lines.length - 1 ? "-" : " "}${l}\r\n`).join(""),
        );
        continue;
      }
      if (verb === "STARTTLS" && script(command, { tls: false }) === null) {
        await conn.startTls("220 2.0.0 Ready\r\n", startTls);
        continue;
      }
      if (verb === "QUIT") {
        await conn.write("221 2.0.0 Bye\r\n");
        return;
      }
      const answer = script(command, { tls: conn.tls !== null }) ??
        (verb === "DATA" ? "354 Go ahead" : "250 2.0.0 OK");
      await conn.write(`${answer}\r\n`);
      if (verb === "DATA" && answer.startsWith("354")) {
        const lines: string[] = [];
        for (;;) {
          const data = await conn.readLine(2048, 10_000);
          if (data === null) return;
          const text = decoder.decode(data.bytes);
          if (text === ".") break;
          lines.push(text);
        }
        contents.push(lines.join("\r\n"));
        await conn.write(`${script(".", { tls: conn.tls !== null }) ?? "250 2.0.0 Queued"}\r\n`);
      }
    }
  };
  const listener: RunningListener = await startListener({
    name: "scripted",
    addresses: ["127.0.0.1"],
    port: 0,
    mode: "starttls",
    tls,
    log: silentLogger,
    session: (conn, startTls) => session(conn, startTls),
  });
  try {
    await fn({ port: listener.endpoints[0]!.port, seen, contents });
  } finally {
    await listener.close();
  }
}
