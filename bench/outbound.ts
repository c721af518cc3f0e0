/**
 * The outbound benchmark: `deno task bench outbound [options]`.
 *
 * Fumi (`fumi serve --dev` on a fresh PostgreSQL database, bench/_fumi_server.ts) sends
 * `messages` messages of `size` bytes to a private Postfix (bench/_postfix_peer.ts), the mail
 * host of `peer.test` on 127.0.0.42, found through Knot (tests/dns_server.ts), which serves
 * `peer.test MX 10 mx.peer.test` and `mx.peer.test A 127.0.0.42` on a free port of 127.0.0.1
 * that Fumi's `[dns] nameservers` names. Fumi's `[queue] remote_port` is Postfix's free port.
 * Postfix offers STARTTLS with a self-signed certificate, so Fumi's opportunistic TLS runs on
 * every connection; its log says how many sessions were encrypted.
 *
 * The messages (bench/_message.ts, From: the sending user) are submitted by `sessions`
 * pipelined sessions (bench/_smtp_load.ts) over the submissions port (implicit TLS) with AUTH
 * PLAIN, one recipient each, recipients taking turns over `users` mailboxes of peer.test.
 * Fumi's sending limits and burst hold are off, its retries start after 5 s, and its outbound
 * connections (all, and per domain) are options.
 *
 * Reported:
 * - submission alone: messages per second to the last 250, MAIL to 250 p50/p99;
 * - end to end: messages per second from the first MAIL to the last arrival at Postfix;
 * - queue to delivery per message: arrival (when Postfix's virtual(8) began writing the Maildir
 *   file, from its name, µs) minus the time the 250 came back to the submitting client,
 *   matched by the index in the Message-ID; p50, p99, max. It includes Postfix's own share,
 *   from its receipt to that moment (its delay= field), printed beside it;
 * - with `--backlog`, the sender is on outbound hold (`fumi user hold`) while it submits, and
 *   everything is released at once after (`fumi user unhold`, `fumi queue release --account`):
 *   delivery alone, from a full queue, is then reported as messages per second from the first
 *   arrival to the last, and release to arrival per message instead of 250 to arrival (Fumi's
 *   worker sees a release made by another process at its next look, within 5 s);
 * - what Fumi's log says of its attempts (delivered, deferred, failed) and the peer's count of
 *   TLS sessions; the load average before and after, as other work on the machine skews it.
 *
 * With `--compare`, the same load then goes through a second private Postfix as the sender
 * (bench/_postfix_sender.ts) to a fresh peer, and both are printed side by side. Its
 * submissions port has implicit TLS but no AUTH, and it finds the peer by `transport_maps`,
 * not by MX: it is spared SASL and DNS, Fumi is not.
 *
 * @module
 */

import { startFumi } from "./_fumi_server.ts";
import { messageMaker } from "./_message.ts";
import { measure, type Measured, printMeasured, printSideBySide } from "./_outbound_measure.ts";
import { count } from "./_phase.ts";
import { type PostfixPeer, startPostfixPeer } from "./_postfix_peer.ts";
import { startPostfixSender } from "./_postfix_sender.ts";
import { mib } from "./_procs.ts";
import type { LoadOptions } from "./_smtp_load.ts";
import { DEFAULT_SERVER_URL } from "./_store_backends.ts";
import { startDnsServer } from "../tests/dns_server.ts";

interface Options {
  readonly messages: number;
  readonly size: number;
  readonly sessions: number;
  readonly users: number;
  readonly connections: number;
  readonly perDomain: number;
  readonly budgetSeconds: number;
  readonly drainSeconds: number;
  readonly backlog: boolean;
  readonly systems: readonly ("fumi" | "postfix")[];
}

const DEFAULTS: Options = {
  messages: 5000,
  size: 4096,
  sessions: 10,
  users: 10,
  connections: 20,
  perDomain: 20,
  budgetSeconds: 300,
  drainSeconds: 60,
  backlog: false,
  systems: ["fumi"],
};
const USAGE = `Usage: deno task bench outbound [options]

  --messages N       messages in all (default ${DEFAULTS.messages})
  --size BYTES       size of each message as submitted (default ${DEFAULTS.size})
  --sessions N       concurrent submission sessions (default ${DEFAULTS.sessions})
  --users N          recipients at peer.test, taking turns (default ${DEFAULTS.users})
  --connections N    Fumi's [queue] connections (default ${DEFAULTS.connections})
  --per-domain N     Fumi's [queue] connections_per_domain (default ${DEFAULTS.perDomain})
  --budget S         seconds of submitting before it stops early (default ${DEFAULTS.budgetSeconds})
  --drain S          seconds without a new arrival before it stops waiting (default ${DEFAULTS.drainSeconds})
  --backlog          hold the sender's outbound mail while submitting (fumi user hold), then
                     release it all at once: delivery alone, from a full queue
  --compare          then the same with a second private Postfix as the sender (implicit TLS
                     submission without AUTH, relaying to the peer without an MX lookup)

PostgreSQL: FUMI_BENCH_DATABASE_URL, or else ${DEFAULT_SERVER_URL}.
Needs root (Postfix starts as root) and: apt-get install postfix knot`;
const PEER_DOMAIN = "peer.test";
const PEER_HOST = "mx.peer.test";
/** Not the addresses tests/outbound_postfix_test.ts uses, so both may run at once. */
const PEER_ADDRESS = "127.0.0.42";
const SENDER_DOMAIN = "sender.test";
const SENDER = `load@${SENDER_DOMAIN}`;
const print = (line: string) => console.log(line);

/** Runs the benchmark; see the module documentation. */
export async function run(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  if (typeof options === "string") {
    if (options !== "") console.error(options);
    console.error(USAGE);
    return options === "" ? 0 : 2;
  }
  // Ctrl-C, SIGTERM, or an error nobody awaited still stops the servers and removes their
  // folders: Postfix's master is a daemon and would outlive this process.
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((e) => console.error(String(e)));
    }
  };
  const abandon = async (code: number) => {
    console.error("Stopping the servers…");
    await cleanUp();
    Deno.exit(code);
  };
  const onInterrupt = () => abandon(130);
  const onTerminate = () => abandon(143);
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    console.error("Unexpected error:", event.reason);
    abandon(1);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  Deno.addSignalListener("SIGTERM", onTerminate);
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  try {
    printEnvironment(options);
    return await bench(options, (stop) => cleanups.push(stop));
  } catch (error) {
    console.error(`! The benchmark failed: ${error instanceof Error ? error.message : error}`);
    return 1;
  } finally {
    await cleanUp();
    Deno.removeSignalListener("SIGINT", onInterrupt);
    Deno.removeSignalListener("SIGTERM", onTerminate);
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
}

async function bench(
  options: Options,
  onStop: (stop: () => Promise<void>) => void,
): Promise<number> {
  const results: Measured[] = [];
  for (const system of options.systems) {
    print(`\n== ${system === "fumi" ? "Fumi" : "Postfix"} as the sender ==`);
    const result = system === "fumi"
      ? await benchFumi(options, onStop)
      : await benchPostfix(options, onStop);
    printMeasured(result);
    results.push(result);
  }
  if (results.length > 1) printSideBySide(results[0]!, results[1]!);
  return results.some((r) => r.problems.length > 0) ? 1 : 0;
}

/** A fresh peer for one sender, stopped when `run` is done. */
async function withPeer<T>(
  options: Options,
  onStop: (stop: () => Promise<void>) => void,
  run: (peer: PostfixPeer) => Promise<T>,
): Promise<T> {
  const peer = await startPostfixPeer({
    address: PEER_ADDRESS,
    domain: PEER_DOMAIN,
    users: userNames(options),
    hostname: PEER_HOST,
    connections: Math.max(options.connections, options.perDomain),
  }, onStop);
  try {
    print(`peer: ${peer.description}`);
    return await run(peer);
  } finally {
    await peer.stop();
  }
}

async function benchFumi(
  options: Options,
  onStop: (stop: () => Promise<void>) => void,
): Promise<Measured> {
  return await withPeer(options, onStop, async (peer) => {
    const soa = `@ SOA ns.${PEER_DOMAIN}. hostmaster.${PEER_DOMAIN}. 1 3600 600 86400 60`;
    const dns = await startDnsServer({
      [PEER_DOMAIN]: `${soa}\n@ NS ns\nns A 127.0.0.1\n@ MX 10 mx\nmx A ${PEER_ADDRESS}`,
    });
    let dnsStopping: Promise<void> | null = null;
    const stopDns = () => dnsStopping ??= dns.stop();
    onStop(stopDns);
    try {
      print(
        `Knot on ${dns.address}:${dns.port}: ${PEER_DOMAIN} MX 10 ${PEER_HOST} A ${PEER_ADDRESS}`,
      );
      const config = [
        "[dns]",
        `nameservers = ["${dns.address}:${dns.port}"]`,
        "[queue]",
        `remote_port = ${peer.port}`,
        `connections = ${options.connections}`,
        `connections_per_domain = ${options.perDomain}`,
        `retry_first = "5s"`,
        "[smtp]",
        "max_messages_per_hour = 0",
        "max_recipients_per_day = 0",
        "burst_hold_after = 0",
        "",
      ].join("\n");
      const server = await startFumi({
        database: "postgres",
        serverUrl: Deno.env.get("FUMI_BENCH_DATABASE_URL") || DEFAULT_SERVER_URL,
        domain: SENDER_DOMAIN,
        users: ["load"],
        sessions: options.sessions,
        submissions: true,
        config,
      }, onStop);
      try {
        print(`${server.description}; submissions on port ${server.submissionsPort}`);
        print(
          `[queue] connections = ${options.connections}, connections_per_domain = ${options.perDomain}, remote_port = ${peer.port}; sending limits and burst hold off`,
        );
        const password = server.passwords.get(SENDER);
        if (password === undefined || server.submissionsPort === null) {
          throw new Error(`No password for ${SENDER} in the CLI's output`);
        }
        const hooks = options.backlog
          ? {
            before: async () => {
              await server.cli(["user", "hold", SENDER, "--reason", "bench backlog"]);
              print(`${SENDER} is on outbound hold while it submits (--backlog)`);
            },
            afterLoad: async () => {
              await server.cli(["user", "unhold", SENDER]);
              await server.cli(["queue", "release", "--account", SENDER]);
              print("Released the held messages");
            },
          }
          : {};
        const loadBefore = loadAverage();
        const result = await measure(
          "Fumi",
          peer,
          loadOptions(options, server.submissionsPort, { user: SENDER, password }),
          options.drainSeconds,
          hooks,
        );
        const log = await Deno.readTextFile(`${server.dataDir}/fumi.log`).catch(() => "");
        // --dev logs text (`TIME LEVEL message key=value…`); JSON otherwise.
        const said = (msg: string) =>
          (log.match(new RegExp(`^\\S+ [A-Z]+ +${msg}(?: |$)`, "gm"))?.length ?? 0) +
          log.split(`"msg":"${msg}"`).length - 1;
        result.notes.push(
          `Fumi's log: ${count(said("delivered"))} delivered, ${
            count(said("deferred"))
          } deferred, ${count(said("failed"))} failed, ${
            count(said("outbound attempt failed"))
          } attempts broken; its peak RSS ${mib(await server.peakRss())}`,
          `load average: ${loadBefore} before, ${loadAverage()} after`,
        );
        if (result.problems.length > 0) result.notes.push(await server.logTail());
        return result;
      } finally {
        await server.stop();
      }
    } finally {
      await stopDns();
    }
  });
}

async function benchPostfix(
  options: Options,
  onStop: (stop: () => Promise<void>) => void,
): Promise<Measured> {
  return await withPeer(options, onStop, async (peer) => {
    const sender = await startPostfixSender({
      domain: PEER_DOMAIN,
      peer,
      sessions: options.sessions,
      connections: options.perDomain,
    }, onStop);
    try {
      print(`sender: ${sender.description}`);
      const loadBefore = loadAverage();
      const result = await measure(
        "Postfix",
        peer,
        loadOptions(options, sender.port, null),
        options.drainSeconds,
      );
      result.notes.push(
        `Postfix's smtp client set up ${count(await sender.tlsSessions())} TLS sessions`,
        `load average: ${loadBefore} before, ${loadAverage()} after`,
      );
      if (result.problems.length > 0) result.notes.push(await sender.logTail());
      return result;
    } finally {
      await sender.stop();
    }
  });
}

function loadOptions(
  options: Options,
  port: number,
  auth: { user: string; password: string } | null,
): LoadOptions {
  return {
    host: "127.0.0.1",
    port,
    tls: true,
    ...(auth === null ? {} : { auth }),
    sessions: options.sessions,
    messages: options.messages,
    sender: SENDER,
    recipients: userNames(options).map((u) => `${u}@${PEER_DOMAIN}`),
    message: fromSender(options.size),
    timeLimitSeconds: options.budgetSeconds,
    perConnection: 1000,
    print,
  };
}

function userNames(options: Options): string[] {
  return Array.from({ length: options.users }, (_, i) => `user${i + 1}`);
}

/**
 * Messages of `size` bytes as the bench user would write them: bench/_message.ts's, with the
 * sending user in From: (submission refuses a From: the user does not own).
 */
function fromSender(size: number): (index: number) => Uint8Array {
  const original = "From: Team Updates <updates@lists.example.net>\r\n";
  const replaced = `From: Load <${SENDER}>\r\n`;
  const make = messageMaker(size - (replaced.length - original.length));
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  return (index) => {
    const text = decoder.decode(make(index));
    if (!text.includes(original)) throw new Error(`Message ${index} has another From:`);
    return encoder.encode(text.replace(original, replaced));
  };
}

function printEnvironment(options: Options): void {
  print(
    [
      `Deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs, kernel ${Deno.osRelease()}`,
      `Load average: ${loadAverage()} (other work on this machine skews the figures)`,
      `${count(options.messages)} messages of ${
        count(options.size)
      } bytes submitted by ${options.sessions} sessions (submissions port, implicit TLS; AUTH PLAIN to Fumi) to ${options.users} users of ${PEER_DOMAIN}, one recipient each; submitting stops after ${options.budgetSeconds} s`,
    ].join("\n"),
  );
}

function loadAverage(): string {
  return Deno.loadavg().map((n) => n.toFixed(2)).join(" ");
}

/** The options, "" for --help, or an error message. */
function parseOptions(args: readonly string[]): Options | string {
  let options: Options = DEFAULTS;
  const keys: Record<string, Exclude<keyof Options, "backlog" | "systems">> = {
    "--messages": "messages",
    "--size": "size",
    "--sessions": "sessions",
    "--users": "users",
    "--connections": "connections",
    "--per-domain": "perDomain",
    "--budget": "budgetSeconds",
    "--drain": "drainSeconds",
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") return "";
    if (arg === "--backlog" || arg === "--compare") {
      options = arg === "--backlog"
        ? { ...options, backlog: true }
        : { ...options, systems: ["fumi", "postfix"] };
      continue;
    }
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const key = keys[flag];
    if (key === undefined) return `Unknown option "${arg}"`;
    const value = inline ?? args[++i];
    if (value === undefined) return `Option ${flag} needs a value`;
    const number = Number(value);
    if (!Number.isInteger(number) || number <= 0) {
      return `Option ${flag} expects a positive integer, got "${value}"`;
    }
    options = { ...options, [key]: number };
  }
  if (options.backlog && options.systems.length > 1) return "Use --backlog or --compare, not both";
  return options;
}
