/**
 * A real DNS server for tests: Debian's Knot DNS (`knotd`, package `knot`) on 127.0.0.1 with
 * a free port, serving zones the test writes, from a throw-away directory. It is
 * authoritative only and sets RA off, which our stub resolver does not mind: the names asked
 * are in its zones. Nothing leaves loopback.
 *
 * Knot needs no root: it binds a high port, keeps its control socket, journal and timers in
 * the directory, and the config sets no `user:`. It listens on UDP and TCP of the same port
 * and answers with TC over UDP when an answer exceeds the requester's EDNS0 size.
 *
 * @module
 */

import { freePort } from "./cli.ts";

const KNOTD = "/usr/sbin/knotd";

/** A running knotd. */
export interface DnsServer {
  readonly address: string;
  readonly port: number;
  /** What knotd logged, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts knotd serving `zones` (origin → zone file text, `$ORIGIN` and `$TTL` supplied) and
 * resolves once every zone is loaded.
 */
export async function startDnsServer(zones: Readonly<Record<string, string>>): Promise<DnsServer> {
  try {
    await Deno.stat(KNOTD);
  } catch {
    throw new Error(`${KNOTD} is missing: install Debian's package with: apt-get install knot`);
  }
  const dir = await Deno.makeTempDir({ prefix: "fumi-knot-" });
  const port = freePort();
  const zoneConfig: string[] = [];
  for (const [origin, text] of Object.entries(zones)) {
    const file = `${origin}.zone`;
    await Deno.writeTextFile(`${dir}/${file}`, `$ORIGIN ${origin}.\n$TTL 300\n${text}\n`);
    zoneConfig.push(`  - domain: ${origin}\n    file: ${file}`);
  }
  await Deno.writeTextFile(
    `${dir}/knot.conf`,
    [
      "server:",
      `    rundir: ${dir}`,
      `    listen: 127.0.0.1@${port}`,
      "    udp-workers: 1",
      "    tcp-workers: 1",
      "    background-workers: 1",
      "database:",
      `    storage: ${dir}`,
      "log:",
      "  - target: stderr",
      "    any: info",
      "template:",
      "  - id: default",
      `    storage: ${dir}`,
      // Serve the file as written: never write it back, keep no journal.
      "    zonefile-sync: -1",
      "    zonefile-load: whole",
      "    journal-content: none",
      "zone:",
      ...zoneConfig,
      "",
    ].join("\n"),
  );
  const child = new Deno.Command(KNOTD, {
    args: ["-c", `${dir}/knot.conf`],
    cwd: dir,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) lines.push(chunk);
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
    await status;
    await drained;
    await Deno.remove(dir, { recursive: true });
  };
  const output = () => lines.join("");
  const origins = Object.keys(zones);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const log = output();
    const loaded = origins.every((o) => log.includes(`[${o}.] loaded`));
    if (loaded && log.includes("server started")) break;
    if (
      exited || Date.now() > deadline ||
      /\[[^\]]+\] (zone )?(load failed|failed to parse)/.test(log)
    ) {
      await stop();
      throw new Error(`knotd did not start:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { address: "127.0.0.1", port, output, stop };
}
