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
 * For DNSSEC, knot signs the zones named in `signed` as it loads them (its default policy:
 * ECDSA P-256 keys made on the spot), and {@link startValidatingResolver} puts Debian's
 * Unbound (package `unbound`) in front of it, forwarding every name to knot and trusting
 * the zones' DS records: Unbound's answers then carry the AD bit. Unbound sends nothing
 * anywhere but to knot: it forwards the root zone there, leaves from 127.0.0.1, and has IPv6
 * off.
 *
 * @module
 */

import { freePort } from "./cli.ts";

const KNOTD = "/usr/sbin/knotd";
const KEYMGR = "/usr/sbin/keymgr";
const UNBOUND = "/usr/sbin/unbound";

/** A running knotd. */
export interface DnsServer {
  readonly address: string;
  readonly port: number;
  /** What the server logged, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** A running knotd. */
export interface AuthoritativeServer extends DnsServer {
  /** The DS record of a signed zone, as a zone-file line (`example.test. DS 973 13 2 …`). */
  ds(origin: string): Promise<string>;
}

/**
 * Starts knotd serving `zones` (origin → zone file text, `$ORIGIN` and `$TTL` supplied) and
 * resolves once every zone is loaded.
 */
export async function startDnsServer(
  zones: Readonly<Record<string, string>>,
  options: { readonly signed?: readonly string[] } = {},
): Promise<AuthoritativeServer> {
  await need(KNOTD, "knot");
  const dir = await Deno.makeTempDir({ prefix: "fumi-knot-" });
  const port = freePort();
  const zoneConfig: string[] = [];
  for (const [origin, text] of Object.entries(zones)) {
    const file = `${origin}.zone`;
    await Deno.writeTextFile(`${dir}/${file}`, `$ORIGIN ${origin}.\n$TTL 300\n${text}\n`);
    const signing = options.signed?.includes(origin) ? "\n    dnssec-signing: on" : "";
    zoneConfig.push(`  - domain: ${origin}\n    file: ${file}${signing}`);
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
  const origins = Object.keys(zones);
  const server = await spawn(
    KNOTD,
    ["-c", `${dir}/knot.conf`],
    dir,
    port,
    (log) => origins.every((o) => log.includes(`[${o}.] loaded`)) && log.includes("server started"),
  );
  const ds = async (origin: string) => {
    const { stdout, success } = await new Deno.Command(KEYMGR, {
      args: ["-c", `${dir}/knot.conf`, origin, "ds"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const line = new TextDecoder().decode(stdout).split("\n")[0] ?? "";
    if (!success || !line.includes(" DS ")) throw new Error(`keymgr gave no DS for ${origin}`);
    return line;
  };
  return { ...server, ds };
}

/**
 * Starts Unbound on 127.0.0.1 with a free port as a validating resolver in front of
 * `upstream`, trusting `trustAnchors` (DS lines from {@link AuthoritativeServer.ds}).
 */
export async function startValidatingResolver(
  upstream: DnsServer,
  trustAnchors: readonly string[],
): Promise<DnsServer> {
  await need(UNBOUND, "unbound");
  const dir = await Deno.makeTempDir({ prefix: "fumi-unbound-" });
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/unbound.conf`,
    [
      "server:",
      `  interface: 127.0.0.1@${port}`,
      `  port: ${port}`,
      "  do-daemonize: no",
      '  chroot: ""',
      '  username: ""',
      `  directory: "${dir}"`,
      '  pidfile: ""',
      "  use-syslog: no",
      '  logfile: ""',
      "  verbosity: 1",
      "  val-log-level: 2",
      // Loopback only: out from 127.0.0.1, no IPv6, and every name forwarded to knot.
      "  do-ip6: no",
      "  outgoing-interface: 127.0.0.1",
      "  do-not-query-localhost: no",
      "  access-control: 127.0.0.0/8 allow",
      "  prefetch: no",
      "  trust-anchor-signaling: no",
      '  module-config: "validator iterator"',
      // Unbound answers .test itself by default (RFC 6761); the test zones live there.
      '  local-zone: "test." nodefault',
      ...trustAnchors.map((anchor) => `  trust-anchor: "${anchor}"`),
      "forward-zone:",
      '  name: "."',
      `  forward-addr: ${upstream.address}@${upstream.port}`,
      "remote-control:",
      "  control-enable: no",
      "",
    ].join("\n"),
  );
  return await spawn(
    UNBOUND,
    ["-d", "-c", `${dir}/unbound.conf`],
    dir,
    port,
    (log) => log.includes("start of service"),
  );
}

async function need(path: string, pkg: string): Promise<void> {
  try {
    await Deno.stat(path);
  } catch {
    throw new Error(`${path} is missing: install Debian's package with: apt-get install ${pkg}`);
  }
}

/** Runs a server in `dir` until `ready(log)`; stopping it removes `dir`. */
async function spawn(
  command: string,
  args: string[],
  dir: string,
  port: number,
  ready: (log: string) => boolean,
): Promise<DnsServer> {
  const child = new Deno.Command(command, {
    args,
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
  const deadline = Date.now() + 10_000;
  while (!ready(output())) {
    if (
      exited || Date.now() > deadline || /load failed|failed to parse|fatal error/.test(output())
    ) {
      await stop();
      throw new Error(`${command} did not start:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { address: "127.0.0.1", port, output, stop };
}
