/**
 * A whole `fumi serve --dev` in process for the operations tests (tests/metrics_test.ts,
 * tests/status_test.ts): its own data directory (embedded PGlite) or, with
 * FUMI_TEST_DATABASE_URL, a fresh PostgreSQL database; a certificate from the test CA for
 * mail.example.org assigned as the default; the domain example.org and alice@example.org; the
 * MX, submissions, IMAPS, HTTP and metrics listeners on free ports of 127.0.0.1 (others off).
 * Its log lines (text format, as `--dev` writes them) are collected for the tests to read.
 *
 * @module
 */

import { assertEquals } from "./assert.ts";
import { assertOk, type Env, fakeIo, freePort, fumi, newDataDir, type RunningCli } from "./cli.ts";
import { runCli } from "../src/cli/main.ts";
import { generateMasterKey } from "../src/crypto/master_key.ts";
import { openTestDatabase } from "./db.ts";
import { GOOD_PASSWORD } from "./store.ts";
import { makeTestPki, type TestPki } from "./tls.ts";

/** The listeners an ops server runs, by name. */
export type OpsPorts = Record<"smtp" | "submissions" | "imaps" | "http" | "metrics", number>;

/** A running server and how to reach it. */
export interface OpsServer {
  /** The environment the server and the CLI commands share. */
  readonly env: Env;
  /** The config file the server runs with. */
  readonly config: string;
  readonly ports: OpsPorts;
  readonly caPem: string;
  readonly tmp: string;
  /** The server's log lines so far. */
  readonly log: readonly string[];
  readonly cli: RunningCli;
}

/** Options of {@link withOpsServer}. */
export interface OpsServerOptions {
  /** More environment (FUMI_METRICS_TOKEN, say). */
  readonly env?: Env;
  /** TOML appended to the config file. */
  readonly config?: string;
  /** Addresses of the metrics listener (127.0.0.1 by default). */
  readonly metricsAddresses?: readonly string[];
  /** No certificate imported: the server makes its self-signed one at first start. */
  readonly selfSigned?: boolean;
}

let pki: TestPki | undefined;

/** Starts the server, runs `fn`, stops it (exit 0 expected) and removes everything. */
export async function withOpsServer(
  options: OpsServerOptions,
  fn: (server: OpsServer) => Promise<void>,
): Promise<void> {
  pki ??= await makeTestPki();
  const tmp = await Deno.makeTempDir({ prefix: "fumi-ops-" });
  const test = Deno.env.get("FUMI_TEST_DATABASE_URL") ? await openTestDatabase() : null;
  try {
    const env: Env = {
      FUMI_DATA_DIR: `${tmp}/data`,
      FUMI_MASTER_KEY: generateMasterKey(),
      USER: "ops-tester",
      ...(test?.url ? { FUMI_DATABASE_URL: test.url } : {}),
      ...options.env,
    };
    if (test === null) await newDataDir(env.FUMI_DATA_DIR!);
    const ports: OpsPorts = {
      smtp: freePort(),
      submissions: freePort(),
      imaps: freePort(),
      http: freePort(),
      metrics: freePort(),
    };
    const config = `${tmp}/fumi.toml`;
    const metricsAddresses = JSON.stringify(options.metricsAddresses ?? ["127.0.0.1"]);
    await Deno.writeTextFile(
      config,
      [
        'hostname = "mail.example.org"',
        ...(["smtp", "submissions", "imaps", "http"] as const).map((name) =>
          `[listeners.${name}]\naddresses = ["127.0.0.1"]\nport = ${ports[name]}`
        ),
        `[listeners.metrics]\naddresses = ${metricsAddresses}\nport = ${ports.metrics}`,
        ...["submission", "imap", "https"].map((name) => `[listeners.${name}]\nenabled = false`),
        options.config ?? "",
      ].join("\n"),
    );
    // Before the server starts: the certificate (so it never makes a self-signed one, unless
    // asked to), the domain and the user.
    const leaf = await pki.issue(["mail.example.org", "localhost", "127.0.0.1"]);
    await Deno.writeTextFile(`${tmp}/chain.pem`, leaf.certPem + pki.caPem);
    await Deno.writeTextFile(`${tmp}/key.pem`, leaf.keyPem);
    const run = (argv: string[], stdin?: string) =>
      fumi([...argv, "--config", config], { env, ...(stdin ? { stdin } : {}) });
    if (!options.selfSigned) {
      const chain = ["--cert", `${tmp}/chain.pem`, "--key", `${tmp}/key.pem`];
      assertOk(await run(["cert", "import", "test", ...chain]));
      assertOk(await run(["cert", "assign", "default", "test"]));
    }
    assertOk(await run(["domain", "add", "example.org"]));
    assertOk(
      await run(["user", "add", "alice@example.org", "--password-stdin"], `${GOOD_PASSWORD}\n`),
    );
    const io = fakeIo({ env });
    const cli: RunningCli = {
      io,
      exit: runCli(["serve", "--dev", "--config", config], io).finally(() => io.end()),
    };
    try {
      await io.waitForOut(/^ {2}metrics: +http:\/\//, 120_000);
      await fn({ env, config, ports, caPem: pki.caPem, tmp, log: io.stderr, cli });
    } finally {
      io.stop("SIGTERM");
      assertEquals(await cli.exit, 0, io.stderr.join("\n"));
    }
  } finally {
    await test?.close();
    await Deno.remove(tmp, { recursive: true });
  }
}

/** Fields of a text-format log line (`time LEVEL message k=v k="v w"`), with its message. */
export function logFields(line: string): { message: string; fields: Record<string, string> } {
  const match = /^\S+ +[A-Z]+ +(.*)$/.exec(line);
  const rest = match?.[1] ?? "";
  const fields: Record<string, string> = {};
  const pair = /(\w+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  const first = rest.search(/ \w+=/);
  const message = first === -1 ? rest : rest.slice(0, first);
  for (const m of rest.slice(message.length).matchAll(pair)) {
    fields[m[1]!] = m[2]!.startsWith('"') ? JSON.parse(m[2]!) as string : m[2]!;
  }
  return { message, fields };
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
