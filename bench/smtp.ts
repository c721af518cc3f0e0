/**
 * The SMTP benchmark: `deno task bench smtp [options]`.
 *
 * `sessions` SMTP sessions over plain TCP on 127.0.0.1 send `messages` messages of `size` bytes
 * to `users` local users (bench/_smtp_load.ts), against:
 *
 * - Fumi (`fumi serve --dev` as a child process, PostgreSQL or embedded), where a 250 after
 *   the body comes only once the message is committed in the encrypted store: accepted is
 *   delivered. The rows in mailbox_messages must equal the 250s.
 * - with `--compare` (after Fumi) or `--only postfix`, a private Postfix delivering over LMTP
 *   into a private Dovecot (bench/_postfix_dovecot.ts), where a 250 means queued. "Delivered"
 *   there is when Dovecot wrote each file into `new/`, read from the file names, and the files
 *   must equal the 250s.
 *
 * Reported per system: messages per second accepted (to the last 250) and delivered (to the
 * last delivery), p50/p99 latency from MAIL to 250 and from MAIL to delivery, errors by kind,
 * and peak memory; with both, the ratios Fumi / Postfix+Dovecot. The issue's target is Fumi at
 * least 1.5× Postfix+Dovecot end to end.
 *
 * @module
 */

import { messageMaker } from "./_message.ts";
import { count } from "./_phase.ts";
import { startFumi } from "./_fumi_server.ts";
import { type MailStack, startPostfixDovecot } from "./_postfix_dovecot.ts";
import { mib, pssNow, samplePss } from "./_procs.ts";
import { type LoadResult, runLoad } from "./_smtp_load.ts";
import {
  printComparison,
  printEnvironment,
  printResult,
  type SystemResult,
} from "./_smtp_report.ts";
import { DEFAULT_SERVER_URL } from "./_store_backends.ts";

interface Options {
  readonly sessions: number;
  readonly messages: number;
  readonly users: number;
  readonly size: number;
  readonly budgetSeconds: number;
  readonly perConnection: number;
  readonly systems: readonly SystemName[];
  readonly database: "postgres" | "embedded";
  readonly dovecotEncrypt: boolean;
}

type SystemName = "fumi" | "postfix";

const DEFAULTS: Options = {
  sessions: 20,
  messages: 5000,
  users: 10,
  size: 4096,
  budgetSeconds: 120,
  perConnection: 1000,
  systems: ["fumi"],
  database: "postgres",
  dovecotEncrypt: false,
};
const USAGE = `Usage: deno task bench smtp [options]

  --sessions N       concurrent SMTP sessions (default ${DEFAULTS.sessions})
  --messages N       messages in all (default ${DEFAULTS.messages})
  --users N          recipients, taking turns (default ${DEFAULTS.users})
  --size BYTES       size of each message (default ${DEFAULTS.size})
  --budget S         seconds of sending before it stops early (default ${DEFAULTS.budgetSeconds})
  --per-connection N messages per connection before a session reconnects (default ${DEFAULTS.perConnection},
                     Fumi's default cap per connection)
  --database NAME    Fumi's database: postgres (a fresh database) or embedded (default postgres)
  --compare          run Fumi, then Postfix+Dovecot with the same load, and print the ratios
  --only NAME        run one system: fumi or postfix
  --dovecot-encrypt  Dovecot seals stored mail with its mail_crypt plugin, as Fumi always does

PostgreSQL: FUMI_BENCH_DATABASE_URL, or else ${DEFAULT_SERVER_URL}.
Postfix+Dovecot need root and: apt-get install postfix dovecot-core dovecot-lmtpd`;
const DOMAIN = "bench.test";
const SENDER = "load@sender.test";
/** How long delivery may make no progress after the last 250 before we stop waiting. */
const DRAIN_IDLE_MS = 30_000;
const print = (line: string) => console.log(line);

/** Runs the benchmark; see the module documentation. */
export async function run(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  if (typeof options === "string") {
    if (options !== "") console.error(options);
    console.error(USAGE);
    return options === "" ? 0 : 2;
  }
  printEnvironment({ ...options, domain: DOMAIN });
  // Ctrl-C, SIGTERM, or an error nobody awaited still stops the servers and removes their
  // folders: Postfix's master is a daemon and would outlive this process.
  const cleanups = new Set<() => Promise<void>>();
  const abandon = async (code: number) => {
    console.error("Stopping the servers…");
    for (const cleanup of cleanups) await cleanup().catch((e) => console.error(String(e)));
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
  const results: SystemResult[] = [];
  let failed = false;
  try {
    for (const system of options.systems) {
      const name = system === "fumi" ? "Fumi" : "Postfix+Dovecot";
      print(`\n== ${name} ==`);
      try {
        const result = system === "fumi"
          ? await benchFumi(options, cleanups)
          : await benchPostfix(options, cleanups);
        printResult(result);
        results.push(result);
      } catch (error) {
        // The other system still runs: its figures stand alone.
        console.error(
          `! ${name} could not be measured: ${error instanceof Error ? error.message : error}`,
        );
        failed = true;
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    Deno.removeSignalListener("SIGTERM", onTerminate);
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
  if (results.length > 1) printComparison(results[0]!, results[1]!);
  return failed || results.some((r) => r.problems.length > 0) ? 1 : 0;
}

async function benchFumi(
  options: Options,
  cleanups: Set<() => Promise<void>>,
): Promise<SystemResult> {
  const server = await startFumi({
    database: options.database,
    serverUrl: Deno.env.get("FUMI_BENCH_DATABASE_URL") || DEFAULT_SERVER_URL,
    domain: DOMAIN,
    users: userNames(options),
    sessions: options.sessions,
  }, (stop) => cleanups.add(stop));
  const pssPeak = samplePss(() => [server.pid]);
  try {
    print(server.description);
    const load = await runLoad(loadOptions(options, server.port));
    const stored = await server.storedMessages();
    const databasePss = pssNow(await server.databasePids());
    const problems = checks(load);
    if (stored !== load.accepted) {
      problems.push(`the store holds ${stored} messages for ${load.accepted} accepted`);
      print(await server.logTail());
    }
    return {
      name: "Fumi",
      description: server.description,
      load,
      delivered: stored,
      deliveredSeconds: load.seconds,
      deliveryLatenciesMs: load.latenciesMs,
      pss: await pssPeak(),
      memoryNote: `the server process; its peak RSS (VmHWM) ${mib(await server.peakRss())}${
        options.database === "postgres"
          ? `; its PostgreSQL backends, not included, hold ${mib(await databasePss)} PSS at the end`
          : ", the embedded database included"
      }`,
      problems,
    };
  } finally {
    await pssPeak();
    cleanups.delete(server.stop);
    await server.stop();
  }
}

async function benchPostfix(
  options: Options,
  cleanups: Set<() => Promise<void>>,
): Promise<SystemResult> {
  const stack = await startPostfixDovecot({
    domain: DOMAIN,
    users: userNames(options),
    encrypt: options.dovecotEncrypt,
    sessions: options.sessions,
  }, (stop) => cleanups.add(stop));
  const pssPeak = samplePss(stack.masters);
  try {
    print(stack.description);
    const load = await runLoad(loadOptions(options, stack.port));
    const problems = checks(load);
    const delivered = await waitForDelivery(stack, load.accepted);
    if (delivered !== load.accepted) {
      problems.push(`Dovecot holds ${delivered} messages for ${load.accepted} accepted`);
      print(await stack.logTail());
    }
    const deliveries = await stack.deliveries();
    const last = deliveries.reduce((latest, d) => Math.max(latest, d.at), load.startedAt);
    return {
      name: "Postfix+Dovecot",
      description: stack.description,
      load,
      delivered,
      deliveredSeconds: (last - load.startedAt) / 1000,
      deliveryLatenciesMs: deliveryLatencies(deliveries, load),
      pss: await pssPeak(),
      memoryNote: "every Postfix and Dovecot process",
      problems,
    };
  } finally {
    await pssPeak();
    cleanups.delete(stack.stop);
    await stack.stop();
  }
}

function loadOptions(options: Options, port: number) {
  const make = messageMaker(options.size);
  const recipients = userNames(options).map((u) => `${u}@${DOMAIN}`);
  return {
    host: "127.0.0.1",
    port,
    sessions: options.sessions,
    messages: options.messages,
    sender: SENDER,
    recipients,
    message: make,
    timeLimitSeconds: options.budgetSeconds,
    perConnection: options.perConnection,
    print,
  };
}

function userNames(options: Options): string[] {
  return Array.from({ length: options.users }, (_, i) => `user${i + 1}`);
}

function checks(load: LoadResult): string[] {
  const problems: string[] = [];
  const errors = [...load.errors.values()].reduce((a, b) => a + b, 0);
  if (errors > 0) problems.push(`${count(errors)} errors`);
  if (load.cutShort !== null) problems.push(load.cutShort);
  return problems;
}

/** Polls Dovecot's folders until `expected` files are there or delivery stalls. */
async function waitForDelivery(stack: MailStack, expected: number): Promise<number> {
  let delivered = await stack.delivered();
  let progressAt = performance.now();
  while (delivered < expected && performance.now() - progressAt < DRAIN_IDLE_MS) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = await stack.delivered();
    if (now > delivered) progressAt = performance.now();
    delivered = now;
  }
  return delivered;
}

/**
 * MAIL-to-delivery per message: the message index is in its Message-ID (bench/_message.ts
 * writes `<index + 1.…>`). Null when the files are sealed and their headers cannot be read.
 */
function deliveryLatencies(
  deliveries: readonly { messageId: string | null; at: number }[],
  load: LoadResult,
): Float64Array | null {
  const latencies: number[] = [];
  for (const { messageId, at } of deliveries) {
    const index = Number(/^<(\d+)\./.exec(messageId ?? "")?.[1]) - 1;
    const sent = load.sentAt[index];
    if (sent === undefined || Number.isNaN(sent)) return null;
    latencies.push(at - sent);
  }
  return Float64Array.from(latencies).sort();
}

/** The options, "" for --help, or an error message. */
function parseOptions(args: readonly string[]): Options | string {
  let options: Options = DEFAULTS;
  let compare = false;
  let only: SystemName | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") return "";
    if (arg === "--compare") {
      compare = true;
      continue;
    }
    if (arg === "--dovecot-encrypt") {
      options = { ...options, dovecotEncrypt: true };
      continue;
    }
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = inline ?? args[++i];
    if (value === undefined) return `Option ${flag} needs a value`;
    const number = Number(value);
    switch (flag) {
      case "--sessions":
      case "--messages":
      case "--users":
      case "--size":
      case "--per-connection":
      case "--budget": {
        if (!Number.isInteger(number) || number <= 0) {
          return `Option ${flag} expects a positive integer, got "${value}"`;
        }
        const key = flag === "--budget"
          ? "budgetSeconds"
          : flag === "--per-connection"
          ? "perConnection"
          : flag.slice(2) as keyof Options;
        options = { ...options, [key]: number };
        break;
      }
      case "--database":
        if (value !== "postgres" && value !== "embedded") {
          return `Option --database expects postgres or embedded, got "${value}"`;
        }
        options = { ...options, database: value };
        break;
      case "--only":
        if (value !== "fumi" && value !== "postfix") {
          return `Option --only expects fumi or postfix, got "${value}"`;
        }
        only = value;
        break;
      default:
        return `Unknown option "${arg}"`;
    }
  }
  if (compare && only !== null) return "Use --compare or --only, not both";
  const systems: SystemName[] = compare ? ["fumi", "postfix"] : [only ?? "fumi"];
  return { ...options, systems };
}
