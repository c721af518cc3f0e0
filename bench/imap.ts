/**
 * The IMAP benchmark: `deno task bench imap [options]`.
 *
 * One user's INBOX holds `messages` messages of 4 KiB (bench/_message.ts, the same bytes on
 * both sides), then:
 *
 * - the mix (bench/_imap_load.ts): `clients` connections run SELECT, UID FETCH of headers of a
 *   50-message range, UID FETCH of one body, UID STORE ±FLAGS and UID SEARCH at random for
 *   `seconds`; reported as commands per second and p50/p99 latency per kind and overall;
 * - IDLE memory: `idle` more connections LOGIN, SELECT INBOX and IDLE, and the server's
 *   resident memory is read while they are all idling.
 *
 * Against Fumi (`fumi serve --dev` as in bench/_fumi_server.ts, PostgreSQL or embedded),
 * filled through its MX port by pipelined SMTP (bench/_smtp_load.ts) and reached over the
 * imaps listener: implicit TLS, with the certificate unchecked by this bench client only (the
 * --dev certificate is self-signed). With `--compare` (after Fumi) or `--only dovecot`, a
 * private Dovecot (bench/_dovecot_imap.ts), filled by writing Maildir files and reached over
 * plain TCP (ssl = no): Dovecot is spared TLS, Fumi is not.
 *
 * Dovecot runs one process per IMAP session, so its IDLE memory is the summed PSS of all its
 * processes, and it is measured with at most {@link DOVECOT_IDLE_MAX} connections.
 *
 * @module
 */

import { startFumi } from "./_fumi_server.ts";
import { DOVECOT_PASSWORD, startDovecotImap } from "./_dovecot_imap.ts";
import type { ImapTarget } from "./_imap_client.ts";
import { openIdle, runMix } from "./_imap_load.ts";
import { type ImapSystemResult, printImapComparison, printImapResult } from "./_imap_report.ts";
import { messageMaker } from "./_message.ts";
import { mib, processTree, pssNow, rssNow } from "./_procs.ts";
import { runLoad } from "./_smtp_load.ts";
import { DEFAULT_SERVER_URL } from "./_store_backends.ts";

interface Options {
  readonly clients: number;
  readonly messages: number;
  readonly seconds: number;
  readonly idle: number;
  readonly systems: readonly SystemName[];
  readonly database: "postgres" | "embedded";
}

type SystemName = "fumi" | "dovecot";

const DEFAULTS: Options = {
  clients: 20,
  messages: 10_000,
  seconds: 30,
  idle: 10_000,
  systems: ["fumi"],
  database: "postgres",
};
/** Dovecot's IDLE connections at most: each is a process of its own. */
const DOVECOT_IDLE_MAX = 1000;
/**
 * Fumi's RSS at which the bench stops opening IDLE connections: below V8's default heap limit
 * on this kind of machine (~4 GiB), past which the server dies (seen at 10,000 messages).
 */
const IDLE_RSS_CAP = 3 * 1024 ** 3;
const USAGE = `Usage: deno task bench imap [options]

  --clients N        concurrent IMAP clients in the mix (default ${DEFAULTS.clients})
  --messages N       messages in the INBOX (default ${DEFAULTS.messages})
  --seconds S        how long the mix runs (default ${DEFAULTS.seconds})
  --idle N           connections in IDLE for the memory figure, 0 for none (default ${DEFAULTS.idle})
  --database NAME    Fumi's database: postgres (a fresh database) or embedded (default postgres)
  --compare          run Fumi, then a private Dovecot with the same mailbox and load
  --only NAME        run one system: fumi or dovecot

PostgreSQL: FUMI_BENCH_DATABASE_URL, or else ${DEFAULT_SERVER_URL}.
Dovecot needs root and: apt-get install dovecot-core dovecot-imapd`;
const DOMAIN = "bench.test";
const USER = "user1";
const SIZE = 4096;
const FILL_SESSIONS = 10;
const print = (line: string) => console.log(line);

/** Runs the benchmark; see the module documentation. */
export async function run(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  if (typeof options === "string") {
    if (options !== "") console.error(options);
    console.error(USAGE);
    return options === "" ? 0 : 2;
  }
  const limit = Deno.build.os === "linux"
    ? (await new Deno.Command("sh", { args: ["-c", "ulimit -n"], stdout: "piped" }).output())
    : null;
  const files = limit === null ? "?" : new TextDecoder().decode(limit.stdout).trim();
  print(
    `IMAP: ${options.messages} messages of ${SIZE} bytes in ${USER}@${DOMAIN}'s INBOX; ` +
      `${options.clients} clients for ${options.seconds} s; ${options.idle} IDLE connections; ` +
      `open files limit ${files} (this process and the servers)`,
  );
  const cleanups = new Set<() => Promise<void>>();
  const abandon = async (code: number) => {
    console.error("Stopping the servers…");
    for (const cleanup of cleanups) await cleanup().catch((e) => console.error(String(e)));
    Deno.exit(code);
  };
  const onInterrupt = () => abandon(130);
  const onUnhandled = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    console.error("Unexpected error:", event.reason);
    abandon(1);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  const results: ImapSystemResult[] = [];
  let failed = false;
  try {
    for (const system of options.systems) {
      const name = system === "fumi" ? "Fumi" : "Dovecot";
      print(`\n== ${name} ==`);
      try {
        const result = system === "fumi"
          ? await benchFumi(options, cleanups)
          : await benchDovecot(options, cleanups);
        printImapResult(result);
        results.push(result);
      } catch (error) {
        console.error(
          `! ${name} could not be measured: ${error instanceof Error ? error.message : error}`,
        );
        failed = true;
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
  printImapComparison(results);
  return failed || results.some((r) => r.problems.length > 0) ? 1 : 0;
}

async function benchFumi(
  options: Options,
  cleanups: Set<() => Promise<void>>,
): Promise<ImapSystemResult> {
  const server = await startFumi({
    database: options.database,
    serverUrl: Deno.env.get("FUMI_BENCH_DATABASE_URL") || DEFAULT_SERVER_URL,
    domain: DOMAIN,
    users: [USER],
    sessions: options.clients + options.idle + FILL_SESSIONS + 10,
    imaps: true,
  }, (stop) => cleanups.add(stop));
  try {
    print(server.description);
    const address = `${USER}@${DOMAIN}`;
    const password = server.passwords.get(address);
    if (password === undefined || server.imapsPort === null) {
      throw new Error("fumi user add printed no password, or imaps is off");
    }
    const problems: string[] = [];
    const started = performance.now();
    const load = await runLoad({
      host: "127.0.0.1",
      port: server.port,
      sessions: FILL_SESSIONS,
      messages: options.messages,
      sender: "load@sender.test",
      recipients: [address],
      message: messageMaker(SIZE),
      timeLimitSeconds: 600,
      perConnection: 1000,
      print,
    });
    const stored = await server.storedMessages();
    const fill = `${stored} messages delivered by SMTP (${FILL_SESSIONS} pipelined sessions) in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`;
    if (stored !== options.messages) {
      problems.push(`the store holds ${stored} of ${options.messages} messages`);
      print(await server.logTail());
    }
    const target: ImapTarget = { host: "127.0.0.1", port: server.imapsPort, tls: true };
    const mix = await runMix({
      target,
      user: address,
      password,
      clients: options.clients,
      seconds: options.seconds,
      operations: Infinity,
      messages: Math.min(stored, load.accepted),
    });
    if (mix.errors.size > 0) problems.push("errors in the mix");
    let idle: ImapSystemResult["idle"] = null;
    if (options.idle > 0) {
      const rssBefore = await rssNow(server.pid);
      const tooMuch = async () => {
        const rss = await rssNow(server.pid);
        return rss > IDLE_RSS_CAP ? `server RSS ${mib(rss)} is over the bench's cap` : null;
      };
      const set = await openIdle(target, address, password, options.idle, print, tooMuch);
      await new Promise((resolve) => setTimeout(resolve, 2000)); // Let the server settle.
      const rss = await rssNow(server.pid);
      set.close();
      idle = {
        asked: options.idle,
        idling: set.idling,
        rss,
        rssBefore,
        errors: set.errors,
        seconds: set.seconds,
        stopped: set.stopped,
        note: `RSS (VmRSS) of the Fumi process, TLS sessions included; peak RSS (VmHWM) ${
          mib(await server.peakRss())
        }${options.database === "postgres" ? "; PostgreSQL not included" : ""}`,
      };
      if (set.idling < options.idle) problems.push(`only ${set.idling} IDLE connections opened`);
      if (rss === 0) {
        problems.push("the Fumi process had ended when its memory was read");
        print(await server.logTail());
      }
    }
    return { name: "Fumi", description: server.description, fill, mix, idle, problems };
  } finally {
    cleanups.delete(server.stop);
    await server.stop();
  }
}

async function benchDovecot(
  options: Options,
  cleanups: Set<() => Promise<void>>,
): Promise<ImapSystemResult> {
  const idleCount = Math.min(options.idle, DOVECOT_IDLE_MAX);
  const dovecot = await startDovecotImap(
    { domain: DOMAIN, users: [USER], connections: options.clients + idleCount + 10 },
    (stop) => cleanups.add(stop),
  );
  try {
    print(dovecot.description);
    const started = performance.now();
    await dovecot.fill(USER, options.messages, messageMaker(SIZE));
    const fill = `${options.messages} Maildir files written and indexed in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s`;
    const target: ImapTarget = { host: "127.0.0.1", port: dovecot.port, tls: false };
    const address = `${USER}@${DOMAIN}`;
    const mix = await runMix({
      target,
      user: address,
      password: DOVECOT_PASSWORD,
      clients: options.clients,
      seconds: options.seconds,
      operations: Infinity,
      messages: options.messages,
    });
    const problems: string[] = mix.errors.size > 0 ? ["errors in the mix"] : [];
    let idle: ImapSystemResult["idle"] = null;
    if (idleCount > 0) {
      const pss = async () => pssNow(await processTree(dovecot.pid));
      const rssBefore = await pss();
      const set = await openIdle(target, address, DOVECOT_PASSWORD, idleCount, print);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const rss = await pss();
      set.close();
      idle = {
        asked: idleCount,
        idling: set.idling,
        rss,
        rssBefore,
        errors: set.errors,
        seconds: set.seconds,
        stopped: set.stopped,
        note: `summed PSS of every Dovecot process (one imap process per session)${
          options.idle > idleCount ? `; capped at ${DOVECOT_IDLE_MAX} connections` : ""
        }`,
      };
      if (set.idling < idleCount) problems.push(`only ${set.idling} IDLE connections opened`);
    }
    return { name: "Dovecot", description: dovecot.description, fill, mix, idle, problems };
  } catch (error) {
    print(await dovecot.logTail());
    throw error;
  } finally {
    cleanups.delete(dovecot.stop);
    await dovecot.stop();
  }
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
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = inline ?? args[++i];
    if (value === undefined) return `Option ${flag} needs a value`;
    const number = Number(value);
    switch (flag) {
      case "--clients":
      case "--messages":
      case "--seconds":
      case "--idle": {
        const least = flag === "--idle" ? 0 : 1;
        if (!Number.isInteger(number) || number < least) {
          return `Option ${flag} expects an integer of at least ${least}, got "${value}"`;
        }
        options = { ...options, [flag.slice(2)]: number };
        break;
      }
      case "--database":
        if (value !== "postgres" && value !== "embedded") {
          return `Option --database expects postgres or embedded, got "${value}"`;
        }
        options = { ...options, database: value };
        break;
      case "--only":
        if (value !== "fumi" && value !== "dovecot") {
          return `Option --only expects fumi or dovecot, got "${value}"`;
        }
        only = value;
        break;
      default:
        return `Unknown option "${arg}"`;
    }
  }
  if (compare && only !== null) return "Use --compare or --only, not both";
  const systems: SystemName[] = compare ? ["fumi", "dovecot"] : [only ?? "fumi"];
  return { ...options, systems };
}
