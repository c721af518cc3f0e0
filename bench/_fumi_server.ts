/**
 * A real `fumi serve --dev` for the SMTP benchmark: a child process started with the
 * permission flags of `deno task start`, its own data directory and master key, and either a
 * fresh PostgreSQL database or the embedded one. Accounts are made with the `fumi` CLI, as an
 * administrator would, while it runs.
 *
 * A config file in the data directory puts the MX listener on a free port of 127.0.0.1 (not
 * 2525, so a Fumi left running cannot answer instead) and, when asked, the imaps listener on
 * another (the IMAP benchmark) and the submissions listener on another (the outbound
 * benchmark), with more settings appended as given; it turns the other listeners off and lifts the per-IP
 * connection limits (count, burst, rate per second) above the number of sessions, every
 * session coming from 127.0.0.1, and the total limit too when it is above its default (5000).
 * The CLI prints each generated password once; they are read from its output. The server's
 * output goes to `fumi.log` in the data directory.
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import { LISTENER_NAMES } from "../src/config/schema.ts";
import { generateMasterKey } from "../src/crypto/master_key.ts";
import { connect } from "../src/store/db.ts";
import { peakRss } from "./_procs.ts";
import { freshDatabase } from "./_store_backends.ts";
import { freePort } from "./_wait.ts";

/** How to run Fumi. */
export interface FumiOptions {
  readonly database: "postgres" | "embedded";
  /** PostgreSQL server to create the database on. */
  readonly serverUrl: string;
  readonly domain: string;
  /** Local parts of the users. */
  readonly users: readonly string[];
  readonly sessions: number;
  /** Also serve IMAP over implicit TLS (the imaps listener) on a free port. */
  readonly imaps?: boolean;
  /** Also serve submission over implicit TLS (the submissions listener) on a free port. */
  readonly submissions?: boolean;
  /** More TOML for the config file: sections other than firewall, imap and listeners. */
  readonly config?: string;
}

/** A running Fumi. */
export interface FumiServer {
  readonly port: number;
  /** The imaps listener's port, when asked for; else null. */
  readonly imapsPort: number | null;
  /** The submissions listener's port, when asked for; else null. */
  readonly submissionsPort: number | null;
  /** The data directory, where `fumi.log` is. */
  readonly dataDir: string;
  /** The generated password of each user, by address. */
  readonly passwords: ReadonlyMap<string, string>;
  readonly pid: number;
  readonly description: string;
  /** Rows in mailbox_messages: messages committed in the store. */
  storedMessages(): Promise<number>;
  /** The PostgreSQL backends serving its database now (none when embedded). */
  databasePids(): Promise<number[]>;
  /** The server process's peak resident memory (VmHWM), in bytes. */
  peakRss(): Promise<number>;
  logTail(): Promise<string>;
  /** Runs the `fumi` CLI against it (`["user", "hold", ADDRESS]`); its stdout. */
  cli(argv: readonly string[]): Promise<string>;
  /** Stops the server, drops the database, removes the data directory; safe to call twice. */
  stop(): Promise<void>;
}

const REPO_ROOT = new URL("../", import.meta.url).pathname;
const START_TIMEOUT_MS = 90_000;
const CLI_CONCURRENCY = 4;

/**
 * Starts Fumi and makes the domain and users; throws, having cleaned up, on failure. `onStop`
 * receives the stop function as soon as there is something to stop (for a Ctrl-C meanwhile).
 */
export async function startFumi(
  options: FumiOptions,
  onStop: (stop: () => Promise<void>) => void = () => {},
): Promise<FumiServer> {
  const dataDir = await Deno.makeTempDir({ prefix: "fumi-bench-smtp-" });
  const logPath = `${dataDir}/fumi.log`;
  const port = freePort();
  const imapsPort = options.imaps === true ? freePort() : null;
  const submissionsPort = options.submissions === true ? freePort() : null;
  let child: Deno.ChildProcess | null = null;
  let drop = () => Promise.resolve();
  let output = Promise.resolve();
  // Every caller waits for the one stop: a Ctrl-C and the caller's finally may both ask.
  let stopping: Promise<void> | null = null;
  const stop = () => stopping ??= stopNow();
  const stopNow = async () => {
    if (child !== null) {
      const running = child;
      const signal = (name: Deno.Signal) => {
        try {
          running.kill(name);
        } catch {
          // It has ended already.
        }
      };
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), 20_000);
      await child.status;
      clearTimeout(timer);
      await output;
    }
    await drop();
    await Deno.remove(dataDir, { recursive: true });
  };
  onStop(stop);
  const logTail = async () =>
    (await Deno.readTextFile(logPath).catch(() => "")).split("\n").slice(-20)
      .map((l) => `    fumi: ${l}`).join("\n");
  try {
    const env: Record<string, string> = {
      FUMI_DATA_DIR: dataDir,
      FUMI_CONFIG: await writeConfig(dataDir, port, { imapsPort, submissionsPort }, options),
      FUMI_MASTER_KEY: generateMasterKey(),
    };
    let where = "embedded PGlite";
    if (options.database === "postgres") {
      const database = await freshDatabase(options.serverUrl);
      if (typeof database === "string") throw new Error(`PostgreSQL: ${database}`);
      drop = database.drop;
      env.FUMI_DATABASE_URL = database.url;
      where = `PostgreSQL, ${database.where}`;
    }
    child = new Deno.Command(Deno.execPath(), {
      args: taskArgs("start"),
      cwd: REPO_ROOT,
      env: { ...inheritedEnv(), ...env },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const printed: string[] = [];
    output = drainTo(logPath, child, printed);
    await waitForSmtp(child, port, printed);
    const passwords = await createAccounts(env, options);
    const pid = child.pid;
    return {
      port,
      imapsPort,
      submissionsPort,
      dataDir,
      passwords,
      pid,
      description:
        `Fumi ${denoJson.version} (deno task start, --dev) on 127.0.0.1:${port}, ${where}`,
      storedMessages: async () => {
        const [row] = await query<{ n: number }>(
          env,
          dataDir,
          "select count(*)::int as n from mailbox_messages",
        );
        return row?.n ?? 0;
      },
      databasePids: async () =>
        env.FUMI_DATABASE_URL === undefined ? [] : (await query<{ pid: number }>(
          env,
          dataDir,
          "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()",
        )).map((r) => r.pid),
      peakRss: () => peakRss(pid),
      logTail,
      cli: (argv) => fumiCli(env, [...argv]),
      stop,
    };
  } catch (error) {
    const tail = await logTail();
    await stop().catch((e) => console.error(String(e)));
    throw new Error(`${error instanceof Error ? error.message : error}\n${tail}`);
  }
}

/** The words after `deno` of a task in deno.json (`run`, permission flags, `main.ts`, …). */
function taskArgs(task: "start" | "fumi"): string[] {
  const words = denoJson.tasks[task].split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run") {
    throw new Error(`Unexpected ${task} task in deno.json: ${denoJson.tasks[task]}`);
  }
  return words.slice(1);
}

/** This process's environment without FUMI_* and systemd credentials. */
function inheritedEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) =>
      !name.startsWith("FUMI_") && name !== "CREDENTIALS_DIRECTORY"
    ),
  );
}

async function writeConfig(
  dataDir: string,
  port: number,
  ports: { readonly imapsPort: number | null; readonly submissionsPort: number | null },
  options: FumiOptions,
): Promise<string> {
  const path = `${dataDir}/fumi.toml`;
  const { imapsPort, submissionsPort } = ports;
  const off = LISTENER_NAMES.filter((n) =>
    n !== "smtp" && (n !== "imaps" || imapsPort === null) &&
    (n !== "submissions" || submissionsPort === null)
  ).map((n) => `[listeners.${n}]\nenabled = false\n`);
  const limit = Math.max(20, options.sessions + 10);
  const total = Math.max(5000, limit); // The schema's default for all addresses together.
  const imaps = imapsPort === null
    ? []
    : [`[listeners.imaps]\naddresses = ["127.0.0.1"]\nport = ${imapsPort}\n`];
  const submissions = submissionsPort === null
    ? []
    : [`[listeners.submissions]\naddresses = ["127.0.0.1"]\nport = ${submissionsPort}\n`];
  await Deno.writeTextFile(
    path,
    [
      `[firewall]\nmax_connections_per_ip = ${limit}\nmax_connections = ${total}\nconnection_burst = ${limit}\nconnection_rate = ${limit}\n`,
      // One bench user from one address opens every connection.
      `[imap]\nmax_connections_per_user_ip = ${limit}\n`,
      `[listeners.smtp]\naddresses = ["127.0.0.1"]\nport = ${port}\n`,
      ...imaps,
      ...submissions,
      ...off,
      ...(options.config === undefined ? [] : [options.config]),
    ].join("\n"),
  );
  return path;
}

/** Copies the child's stdout and stderr into the file, and its stdout lines into `lines`. */
async function drainTo(path: string, child: Deno.ChildProcess, lines: string[]): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, append: true });
  const decoder = new TextDecoder();
  const copy = async (stream: ReadableStream<Uint8Array>, keep: boolean) => {
    let rest = "";
    for await (const chunk of stream) {
      for (let done = 0; done < chunk.length;) done += await file.write(chunk.subarray(done));
      if (!keep) continue;
      const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = parts.pop()!;
      lines.push(...parts);
    }
  };
  try {
    await Promise.all([copy(child.stdout, true), copy(child.stderr, false)]);
  } finally {
    file.close();
  }
}

async function waitForSmtp(child: Deno.ChildProcess, port: number, printed: string[]) {
  // An object, so the compiler does not narrow it to null.
  const exited: { status: Deno.CommandStatus | null } = { status: null };
  child.status.then((s) => exited.status = s);
  const until = performance.now() + START_TIMEOUT_MS;
  for (;;) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port }).catch(() => null);
    if (conn !== null) {
      conn.close();
      return;
    }
    // Today's `fumi serve` says so when it has no SMTP listener yet.
    if (printed.some((line) => /not served yet:.*SMTP/.test(line))) {
      throw new Error(
        'Fumi does not serve SMTP yet (`fumi serve` prints "not served yet: SMTP"); use --only postfix',
      );
    }
    if (exited.status !== null) {
      throw new Error(`fumi serve exited with code ${exited.status.code}`);
    }
    if (performance.now() > until) {
      throw new Error(`Fumi does not answer on 127.0.0.1:${port} after ${START_TIMEOUT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * `fumi domain add`, then `fumi user add` for each user, a few at a time; the generated
 * passwords, which the CLI prints once (`Password: …`), by address.
 */
async function createAccounts(
  env: Record<string, string>,
  options: FumiOptions,
): Promise<Map<string, string>> {
  await fumiCli(env, ["domain", "add", options.domain]);
  const queue = [...options.users];
  const passwords = new Map<string, string>();
  const worker = async () => {
    for (let user = queue.shift(); user !== undefined; user = queue.shift()) {
      const address = `${user}@${options.domain}`;
      const printed = await fumiCli(env, ["user", "add", address]);
      const password = /^Password: (\S+)$/m.exec(printed)?.[1];
      if (password !== undefined) passwords.set(address, password);
    }
  };
  await Promise.all(Array.from({ length: CLI_CONCURRENCY }, worker));
  return passwords;
}

/** Runs the CLI; its stdout. */
async function fumiCli(env: Record<string, string>, argv: string[]): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...taskArgs("fumi"), ...argv],
    cwd: REPO_ROOT,
    env: { ...inheritedEnv(), ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`fumi ${argv.join(" ")} failed (code ${output.code}): ${text}`);
  }
  return new TextDecoder().decode(output.stdout);
}

/** One query over a connection of its own; the embedded database through the server's socket. */
async function query<T>(env: Record<string, string>, dataDir: string, text: string): Promise<T[]> {
  const url = env.FUMI_DATABASE_URL;
  const sql = url === undefined
    ? connect({ socketDir: `${dataDir}/run`, max: 1 })
    : connect({ url, max: 1 });
  try {
    return [...await sql.unsafe(text)] as T[];
  } finally {
    await sql.end({ timeout: 5 });
  }
}
