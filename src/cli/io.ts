/**
 * What the CLI needs from the world, so that tests can run commands in process.
 *
 * @module
 */

/** The CLI's connection to its terminal and environment. */
export interface CliIo {
  /** Writes one line of normal output. */
  out(line: string): void;
  /** Writes one line of diagnostics. */
  err(line: string): void;
  /** Reads all of standard input as text. */
  readStdin(): Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); used by `serve`. */
  waitForStop(): Promise<string>;
}

/**
 * The environment variables Fumi reads. Only these are read, so the binary runs with
 * `--allow-env=FUMI_*,CREDENTIALS_DIRECTORY` (CREDENTIALS_DIRECTORY: systemd.exec(5)).
 */
export const ENV_NAMES = [
  "FUMI_DATA_DIR",
  "FUMI_DATABASE_URL",
  "FUMI_MASTER_KEY",
  "FUMI_HOSTNAME",
  "FUMI_CONFIG",
  "FUMI_ADMIN_ADDRESS",
  "FUMI_ADMIN_PASSWORD",
  "FUMI_LOG_LEVEL",
  "FUMI_DEBUG",
  "FUMI_BACKUP_PASSPHRASE",
  // The bearer token of /metrics (src/ops/metrics_server.ts).
  "FUMI_METRICS_TOKEN",
  "CREDENTIALS_DIRECTORY",
  // Who runs an administrative command, for the audit log (src/cli/commands/_audit.ts).
  "USER",
  "USERNAME",
] as const;

/** The real terminal and process. */
export function processIo(): CliIo {
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    readStdin: async () => await new Response(Deno.stdin.readable).text(),
    env: Object.fromEntries(ENV_NAMES.map((name) => [name, Deno.env.get(name)])),
    cwd: Deno.cwd(),
    waitForStop: () =>
      new Promise((resolve) => {
        const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
        const handlers = signals.map((signal) => {
          const handler = () => {
            signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]!));
            resolve(signal);
          };
          Deno.addSignalListener(signal, handler);
          return handler;
        });
      }),
  };
}
