/**
 * Running `fumi` in tests: in process through {@link runCli} with a fake terminal, or as the
 * real executable (`deno run`, with the flags of the `fumi` task in deno.json).
 *
 * The fake terminal records every line written to standard output and standard error,
 * answers `readStdin` with a scripted text, and lets the test decide when `serve` is asked to
 * stop. Nothing here touches the real process environment.
 *
 * Also what the tests/cli_*_test.ts files share: assertions on a command's outcome, temporary
 * and embedded data directories, and a store opened as the commands would open it.
 *
 * @module
 */

import { PGlite } from "@electric-sql/pglite";
import denoJson from "../deno.json" with { type: "json" };
import type { CliIo } from "../src/cli/io.ts";
import { runCli } from "../src/cli/main.ts";
import { loadConfig } from "../src/config/mod.ts";
import { generateMasterKey } from "../src/crypto/master_key.ts";
import { silentLogger } from "../src/ops/log.ts";
import { openStore, type Store } from "../src/store/open.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { openTestDatabase } from "./db.ts";

/** Environment variables given to a command. */
export type Env = Record<string, string>;

/** What a fake terminal starts with. */
export interface FakeIoOptions {
  /** The environment the command sees (nothing is inherited). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** What standard input holds; "" when not given. */
  readonly stdin?: string;
  /** The working directory the command sees; defaults to "/". */
  readonly cwd?: string;
}

/** A fake terminal and what was written to it. */
export interface FakeIo extends CliIo {
  readonly stdout: string[];
  readonly stderr: string[];
  /** True once the command read standard input. */
  readonly stdinRead: boolean;
  /** Makes `waitForStop()` resolve with `signal`, as SIGTERM would. */
  stop(signal?: string): void;
  /**
   * Resolves with the first output line matching `pattern` (now or later); rejects if
   * {@link FakeIo.end} is called first or after `timeoutMs`.
   */
  waitForOut(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Marks the command finished: pending {@link FakeIo.waitForOut} calls reject. */
  end(): void;
}

/** Creates a fake terminal. */
export function fakeIo(options: FakeIoOptions = {}): FakeIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: {
    pattern: RegExp;
    resolve: (line: string) => void;
    reject: (error: Error) => void;
  }[] = [];
  let ended = false;
  let stdinRead = false;
  let stopWith: (signal: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    stopWith = resolve;
  });
  // The split keeps multi-line writes (help's usage lines) one array entry per line.
  const write = (lines: string[], text: string) => {
    for (const line of text.split("\n")) {
      lines.push(line);
      if (lines !== stdout) continue;
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  };
  return {
    stdout,
    stderr,
    get stdinRead() {
      return stdinRead;
    },
    env: { ...options.env },
    cwd: options.cwd ?? "/",
    out: (line) => write(stdout, line),
    err: (line) => write(stderr, line),
    readStdin: () => {
      stdinRead = true;
      return Promise.resolve(options.stdin ?? "");
    },
    waitForStop: () => stopped,
    stop: (signal = "SIGTERM") => stopWith(signal),
    waitForOut: (pattern, timeoutMs = 60_000) => {
      const seen = stdout.find((line) => pattern.test(line));
      if (seen !== undefined) return Promise.resolve(seen);
      if (ended) return Promise.reject(new Error(`The command ended: ${stderr.join(" | ")}`));
      return new Promise((resolve, reject) => {
        const waiter = {
          pattern,
          resolve: (line: string) => {
            clearTimeout(timer);
            resolve(line);
          },
          reject: (error: Error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`No output line matched ${pattern} in ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    end: () => {
      ended = true;
      for (const waiter of waiters.splice(0)) {
        waiter.reject(new Error(`The command ended: ${stderr.join(" | ")}`));
      }
    },
  };
}

/** The outcome of one command. */
export interface CliResult {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
  readonly stdinRead: boolean;
}

/** Asserts a failure reported as exactly one `fumi: …` line on stderr and no stack. */
export function assertFails(result: CliResult, code: number, includes: string): void {
  const shown = `stdout ${JSON.stringify(result.out)}, stderr ${JSON.stringify(result.err)}`;
  assertEquals(result.code, code, `exit code (${shown})`);
  assertEquals(result.err.length, 1, `one line on stderr (${shown})`);
  assertMatch(result.err[0]!, /^fumi: \S/);
  assertStringIncludes(result.err[0]!, includes);
}

/** Asserts success with nothing on stderr, and returns stdout. */
export function assertOk(result: CliResult): string[] {
  const shown = `stdout ${JSON.stringify(result.out)}, stderr ${JSON.stringify(result.err)}`;
  assertEquals(result.code, 0, `exit code (${shown})`);
  assertEquals(result.err, [], `stderr (${shown})`);
  return result.out;
}

/** Runs `fumi ARGV…` in process and returns its exit code and output. */
export async function fumi(
  argv: readonly string[],
  options: FakeIoOptions = {},
): Promise<CliResult> {
  const io = fakeIo(options);
  const code = await runCli(argv, io);
  return { code, out: io.stdout, err: io.stderr, stdinRead: io.stdinRead };
}

/** A command started in process that runs until told to stop (`fumi serve`). */
export interface RunningCli {
  readonly io: FakeIo;
  /** Settles with the exit code when the command returns. */
  readonly exit: Promise<number>;
}

/** Starts `fumi ARGV…` in process without waiting for it to finish. */
export function startFumi(argv: readonly string[], options: FakeIoOptions = {}): RunningCli {
  const io = fakeIo(options);
  const exit = runCli(argv, io).finally(() => io.end());
  return { io, exit };
}

/** The repository root, where main.ts and deno.json are. */
export const REPO_ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

/**
 * The arguments `deno task fumi` passes to deno (`run`, the permission flags, `main.ts`), read
 * from deno.json so the tests run exactly what administrators run.
 */
export function fumiTaskArgs(): string[] {
  const words = denoJson.tasks.fumi.split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "run" || words.at(-1) !== "main.ts") {
    throw new Error(`Unexpected fumi task in deno.json: ${denoJson.tasks.fumi}`);
  }
  return words.slice(1);
}

/** The environment of this process without any FUMI_* or systemd credential variable. */
export function cleanEnv(
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([name]) =>
      !name.startsWith("FUMI_") && name !== "CREDENTIALS_DIRECTORY"
    ),
  );
  return { ...env, ...extra };
}

/** Runs the real `fumi` executable to completion, with `stdin` piped to it. */
export async function fumiProcess(
  argv: readonly string[],
  options: { env: Readonly<Record<string, string>>; stdin?: string },
): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...fumiTaskArgs(), ...argv],
    cwd: REPO_ROOT,
    env: cleanEnv(options.env),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(options.stdin ?? ""));
  await writer.close();
  const output = await child.output();
  return {
    code: output.code,
    out: lines(new TextDecoder().decode(output.stdout)),
    err: lines(new TextDecoder().decode(output.stderr)),
    stdinRead: options.stdin !== undefined,
  };
}

/** A `fumi` child process whose output is read line by line as it comes. */
export interface FumiChild {
  readonly process: Deno.ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the first stdout line matching `pattern`; rejects if the process ends first. */
  waitForOut(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the process has exited and both streams are read to the end. */
  finished(): Promise<Deno.CommandStatus>;
  /** Stops it if it still runs (SIGTERM, then SIGKILL after `killAfterMs`) and waits for that. */
  stop(killAfterMs?: number): Promise<Deno.CommandStatus>;
}

function signal(process: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    process.kill(name);
  } catch {
    // it has exited
  }
}

/** Starts the real `fumi` executable with stdin closed. */
export function spawnFumi(
  argv: readonly string[],
  options: { env: Readonly<Record<string, string>> },
): FumiChild {
  const process = new Deno.Command(Deno.execPath(), {
    args: [...fumiTaskArgs(), ...argv],
    cwd: REPO_ROOT,
    env: cleanEnv(options.env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout: string[] = [];
  const stderr: string[] = [];
  let notify = () => {};
  const read = async (stream: ReadableStream<Uint8Array>, into: string[]) => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      into.push(...parts);
      notify();
    }
    if (rest !== "") into.push(rest);
  };
  const streams = Promise.all([read(process.stdout, stdout), read(process.stderr, stderr)]);
  const status = process.status;
  let ended = false;
  const finished = Promise.all([status, streams]).then(([s]) => {
    ended = true;
    notify();
    return s;
  });
  return {
    process,
    stdout,
    stderr,
    finished: () => finished,
    stop: async (killAfterMs = 5_000) => {
      signal(process, "SIGTERM");
      const timer = setTimeout(() => signal(process, "SIGKILL"), killAfterMs);
      try {
        return await finished;
      } finally {
        clearTimeout(timer);
      }
    },
    waitForOut: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          notify = () => {};
          reject(new Error(`No output line matched ${pattern} in ${timeoutMs} ms`));
        }, timeoutMs);
        notify = () => {
          const line = stdout.find((l) => pattern.test(l));
          if (line === undefined && !ended) return;
          clearTimeout(timer);
          notify = () => {};
          if (line !== undefined) resolve(line);
          else reject(new Error(`fumi exited before printing ${pattern}: ${stderr.join(" | ")}`));
        };
        notify();
      }),
  };
}

function lines(text: string): string[] {
  return text === "" ? [] : text.replace(/\n$/, "").split("\n");
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Writes a config file that puts the HTTP listener on `port` of 127.0.0.1; returns its path. */
export async function httpConfig(dir: string, port: number): Promise<string> {
  const path = `${dir}/fumi.toml`;
  await Deno.writeTextFile(
    path,
    `[listeners.http]\naddresses = ["127.0.0.1"]\nport = ${port}\n`,
  );
  return path;
}

/** GETs a URL and returns its status and body (read to the end, so nothing leaks). */
export async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

/** The names in a folder (empty when it does not exist). */
export async function listDir(path: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(path)) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

interface Snapshot {
  readonly dirs: readonly { path: string; mode: number }[];
  readonly files: readonly { path: string; mode: number; bytes: Uint8Array }[];
}

let template: Promise<Snapshot> | null = null;

/**
 * Makes `dataDir` hold a new embedded database exactly as a first start leaves it before
 * anything else (PGlite initialised, no schema, no master key), copied from one made once per
 * test process: creating one takes seconds, copying it a fraction of one.
 */
export async function newDataDir(dataDir: string): Promise<void> {
  template ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "fumi-template-" });
    try {
      const db = await PGlite.create(`${dir}/pg`);
      await db.close();
      return await snapshot(`${dir}/pg`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  })();
  const { dirs, files } = await template;
  await Deno.mkdir(`${dataDir}/pg`, { recursive: true, mode: 0o700 });
  for (const dir of dirs) await Deno.mkdir(`${dataDir}/pg/${dir.path}`, { mode: dir.mode });
  for (const file of files) {
    await Deno.writeFile(`${dataDir}/pg/${file.path}`, file.bytes, { mode: file.mode });
  }
}

async function snapshot(root: string): Promise<Snapshot> {
  const dirs: { path: string; mode: number }[] = [];
  const files: { path: string; mode: number; bytes: Uint8Array }[] = [];
  const walk = async (relative: string) => {
    for await (const entry of Deno.readDir(`${root}/${relative}`)) {
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      const mode = (await Deno.stat(`${root}/${path}`)).mode! & 0o777;
      if (entry.isDirectory) {
        dirs.push({ path, mode });
        await walk(path);
      } else if (entry.isFile) {
        files.push({ path, mode, bytes: await Deno.readFile(`${root}/${path}`) });
      }
    }
  };
  await walk("");
  return { dirs, files };
}

/**
 * What a data directory's run/ folder holds besides its lock files. `run/.lock` and `run/.owner`
 * stay on purpose: deleting a flock'd file lets a third process lock a new inode while a second
 * still waits on the old one, and both would think they own the database.
 */
export async function runEntries(dataDir: string): Promise<string[]> {
  return (await listDir(`${dataDir}/run`)).filter((name) => name !== ".lock" && name !== ".owner");
}

/** Runs `fn` with a new temporary folder, removed afterwards whatever happens. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  // Short paths: the embedded database's unix socket path must stay under 108 bytes.
  const dir = await Deno.makeTempDir({ prefix: "fumi-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Opens the store the commands would open with `env` (it owns PGlite if nobody else does). */
export async function storeFor(env: Env): Promise<Store> {
  const config = await loadConfig({
    dev: false,
    env,
    cwd: "/",
    readTextFile: (path) => Deno.readTextFile(path),
    systemHostname: () => "localhost",
    requireHostname: false,
  });
  return await openStore(config, env, silentLogger);
}

/** The password hash of `address` and whether it must be changed, read from the database. */
export async function passwordOf(
  store: Store,
  address: string,
): Promise<{ hash: string; mustChange: boolean }> {
  const [row] = await store.sql<{ password_hash: string; password_must_change: boolean }[]>`
    select password_hash, password_must_change from accounts where address = ${address}`;
  assert(row, `no account ${address}`);
  return { hash: row.password_hash, mustChange: row.password_must_change };
}

/** Splits `fumi user list` output into cells. */
export function table(lines: readonly string[]): string[][] {
  return lines.map((line) => line.split(/ {2,}/));
}

/**
 * Runs `fn` with an environment under which commands reach a fresh database, a store on that
 * database, and a temporary folder. Embedded: the store owns a new data directory and the
 * commands join it over its socket, as beside `fumi serve`. With FUMI_TEST_DATABASE_URL: a fresh
 * PostgreSQL database through FUMI_DATABASE_URL. `prefix` names the temporary folder; keep it
 * short, the embedded socket's path must stay under 108 bytes.
 */
export async function withCommandDatabase(
  prefix: string,
  fn: (env: Env, store: Store, tmp: string) => Promise<void>,
  extraEnv: Env = {},
): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix });
  const test = Deno.env.get("FUMI_TEST_DATABASE_URL") ? await openTestDatabase() : null;
  let store: Store | null = null;
  try {
    const env: Env = {
      FUMI_DATA_DIR: `${tmp}/data`,
      FUMI_MASTER_KEY: generateMasterKey(),
      ...(test?.url ? { FUMI_DATABASE_URL: test.url } : {}),
      ...extraEnv,
    };
    if (test === null) await newDataDir(env.FUMI_DATA_DIR!);
    store = await storeFor(env);
    await fn(env, store, tmp);
  } finally {
    await store?.close();
    await test?.close();
    await Deno.remove(tmp, { recursive: true });
  }
}
