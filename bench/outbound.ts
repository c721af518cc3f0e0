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
 * - what Fumi's log says of its attempts (delivered, deferred, failed) and Postfix's count of
 *   TLS sessions; the load average before and after, as other work on the machine skews it.
 *
 * @module
 */

import { count, rate } from "./_phase.ts";
import { startFumi } from "./_fumi_server.ts";
import { messageMaker } from "./_message.ts";
import { startPostfixPeer } from "./_postfix_peer.ts";
import { mib } from "./_procs.ts";
import { type LoadResult, quantile, runLoad } from "./_smtp_load.ts";
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

PostgreSQL: FUMI_BENCH_DATABASE_URL, or else ${DEFAULT_SERVER_URL}.
Needs root (Postfix starts as root) and: apt-get install postfix knot`;
const PEER_DOMAIN = "peer.test";
const PEER_HOST = "mx.peer.test";
/** Not the addresses tests/outbound_postfix_test.ts uses, so both may run at once. */
const PEER_ADDRESS = "127.0.0.42";
const SENDER_DOMAIN = "sender.test";
const SENDER = `load@${SENDER_DOMAIN}`;
const POLL_MS = 200;
const PROGRESS_EVERY_MS = 5_000;
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
  const users = Array.from({ length: options.users }, (_, i) => `user${i + 1}`);
  const peer = await startPostfixPeer({
    address: PEER_ADDRESS,
    domain: PEER_DOMAIN,
    users,
    hostname: PEER_HOST,
    connections: options.connections,
  }, onStop);
  print(peer.description);
  const soa = `@ SOA ns.${PEER_DOMAIN}. hostmaster.${PEER_DOMAIN}. 1 3600 600 86400 60`;
  const dns = await startDnsServer({
    [PEER_DOMAIN]: `${soa}\n@ NS ns\nns A 127.0.0.1\n@ MX 10 mx\nmx A ${PEER_ADDRESS}`,
  });
  onStop(() => dns.stop());
  print(`Knot on ${dns.address}:${dns.port}: ${PEER_DOMAIN} MX 10 ${PEER_HOST} A ${PEER_ADDRESS}`);
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
  print(`${server.description}; submissions on port ${server.submissionsPort}`);
  print(
    `[queue] connections = ${options.connections}, connections_per_domain = ${options.perDomain}, remote_port = ${peer.port}; sending limits and burst hold off`,
  );
  const password = server.passwords.get(SENDER);
  if (password === undefined || server.submissionsPort === null) {
    throw new Error(`No password for ${SENDER} in the CLI's output`);
  }

  if (options.backlog) {
    await server.cli(["user", "hold", SENDER, "--reason", "bench backlog"]);
    print(`${SENDER} is on outbound hold while it submits (--backlog)`);
  }
  const loadBefore = loadAverage();
  // Arrivals are counted while the load runs, to print them with its progress.
  let delivered = 0;
  let lastChange = performance.now();
  let loading = true;
  let accepted = Infinity;
  const progress = setInterval(() => {
    if (!loading) print(`  ${count(delivered)} / ${count(options.messages)} arrived`);
  }, PROGRESS_EVERY_MS);
  const watch = (async () => {
    while (loading || performance.now() - lastChange < options.drainSeconds * 1000) {
      const now = await peer.delivered();
      if (now !== delivered) lastChange = performance.now();
      delivered = now;
      if (!loading && delivered >= accepted) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  let load: LoadResult;
  try {
    load = await runLoad({
      host: "127.0.0.1",
      port: server.submissionsPort,
      tls: true,
      auth: { user: SENDER, password },
      sessions: options.sessions,
      messages: options.messages,
      sender: SENDER,
      recipients: users.map((u) => `${u}@${PEER_DOMAIN}`),
      message: fromSender(options.size),
      timeLimitSeconds: options.budgetSeconds,
      perConnection: 1000,
      print: (line) => print(`${line}; ${count(delivered)} arrived`),
    });
  } finally {
    accepted = 0;
    loading = false;
  }
  accepted = load.accepted;
  let releasedAt: number | null = null;
  if (options.backlog) {
    // Before the CLI starts: its own start-up counts against the drain time, not for it.
    releasedAt = performance.timeOrigin + performance.now();
    await server.cli(["user", "unhold", SENDER]);
    await server.cli(["queue", "release", "--account", SENDER]);
    print(`Released ${count(load.accepted)} held messages`);
  }
  lastChange = performance.now();
  await watch.finally(() => clearInterval(progress));
  const loadAfter = loadAverage();

  const arrivals = await peer.arrivals();
  const latencies: number[] = [];
  let unmatched = 0;
  let lastArrival = load.startedAt;
  let firstArrival = Infinity;
  for (const { messageId, at } of arrivals) {
    lastArrival = Math.max(lastArrival, at);
    firstArrival = Math.min(firstArrival, at);
    const index = Number(/^<(\d+)\./.exec(messageId ?? "")?.[1]) - 1;
    const acceptedAt = load.acceptedAt[index];
    if (acceptedAt === undefined || Number.isNaN(acceptedAt)) unmatched++;
    else latencies.push(at - (releasedAt ?? acceptedAt));
  }
  const sorted = Float64Array.from(latencies).sort();
  const postfix = await peer.logFigures();
  const fumiLog = await Deno.readTextFile(`${server.dataDir}/fumi.log`).catch(() => "");
  // --dev logs text (`TIME LEVEL message key=value…`); JSON otherwise.
  const said = (msg: string) =>
    (fumiLog.match(new RegExp(`^\\S+ [A-Z]+ +${msg}(?: |$)`, "gm"))?.length ?? 0) +
    fumiLog.split(`"msg":"${msg}"`).length - 1;
  const endSeconds = (lastArrival - load.startedAt) / 1000;
  const errors = [...load.errors.values()].reduce((a, b) => a + b, 0);
  const problems: string[] = [];
  if (errors > 0) problems.push(`${count(errors)} submission errors`);
  if (load.cutShort !== null) problems.push(load.cutShort);
  if (arrivals.length !== load.accepted) {
    problems.push(
      `Postfix holds ${count(arrivals.length)} messages for ${count(load.accepted)} accepted`,
    );
  }
  if (unmatched > 0) problems.push(`${count(unmatched)} arrivals match no accepted message`);

  const lines = [
    "-- results --",
    `load average: ${loadBefore} before, ${loadAfter} after`,
    `submission: ${count(load.accepted)} of ${
      count(load.attempted)
    } accepted over ${load.opened} sessions (${load.pipelined} pipelined), ${
      rate(load.accepted, load.seconds)
    } msg/s (${load.seconds.toFixed(1)} s); MAIL to 250 p50 ${
      ms(quantile(load.latenciesMs, 0.5))
    }, p99 ${ms(quantile(load.latenciesMs, 0.99))}`,
    `end to end: ${count(arrivals.length)} arrived at Postfix, ${
      rate(arrivals.length, endSeconds)
    } msg/s (${endSeconds.toFixed(1)} s from the first MAIL to the last arrival)`,
    ...(releasedAt === null ? [] : [
      `delivery alone: ${rate(arrivals.length - 1, (lastArrival - firstArrival) / 1000)} msg/s (${
        ((lastArrival - firstArrival) / 1000).toFixed(1)
      } s from the first arrival to the last; ${
        ((lastArrival - releasedAt) / 1000).toFixed(1)
      } s from the release)`,
    ]),
    `queue to delivery (${releasedAt === null ? "250" : "release"} to arrival): p50 ${
      ms(quantile(sorted, 0.5))
    }, p99 ${ms(quantile(sorted, 0.99))}, max ${ms(sorted.at(-1) ?? NaN)}`,
    `  of which Postfix's own (receipt to Maildir, its delay=): p50 ${
      ms(quantile(postfix.delaysMs, 0.5))
    }, p99 ${ms(quantile(postfix.delaysMs, 0.99))}`,
    `Fumi's log: ${count(said("delivered"))} delivered, ${count(said("deferred"))} deferred, ${
      count(said("failed"))
    } failed, ${count(said("outbound attempt failed"))} attempts broken; peak RSS ${
      mib(await server.peakRss())
    }`,
    `Postfix: ${count(postfix.tlsSessions)} TLS sessions set up`,
  ];
  for (const [what, n] of load.errors) lines.push(`  error ×${count(n)}: ${what}`);
  for (const problem of problems) lines.push(`  ! ${problem}`);
  print(lines.join("\n"));
  if (problems.length > 0) print(`${await server.logTail()}\n${await peer.logTail()}`);
  return problems.length > 0 ? 1 : 0;
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
      } bytes submitted by ${options.sessions} sessions (submissions, implicit TLS, AUTH PLAIN) to ${options.users} users of ${PEER_DOMAIN}, one recipient each; submitting stops after ${options.budgetSeconds} s`,
    ].join("\n"),
  );
}

function loadAverage(): string {
  return Deno.loadavg().map((n) => n.toFixed(2)).join(" ");
}

function ms(value: number): string {
  return Number.isNaN(value) ? "-" : `${value.toFixed(value < 10 ? 1 : 0)} ms`;
}

/** The options, "" for --help, or an error message. */
function parseOptions(args: readonly string[]): Options | string {
  let options: Options = DEFAULTS;
  const keys: Record<string, Exclude<keyof Options, "backlog">> = {
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
    if (arg === "--backlog") {
      options = { ...options, backlog: true };
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
  return options;
}
