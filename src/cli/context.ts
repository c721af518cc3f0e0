/**
 * What every command shares: loading the configuration and opening the store, with errors
 * that reach the user as one line.
 *
 * @module
 */

import { type Config, loadConfig } from "../config/mod.ts";
import { createLogger, type Logger } from "../ops/log.ts";
import { openStore, type Store } from "../store/mod.ts";
import type { ParsedArgs } from "./args.ts";
import type { CliIo } from "./io.ts";

/** Loads the configuration for a command (`--config FILE`, `FUMI_*`). */
export function configFor(
  io: CliIo,
  args: ParsedArgs,
  options: { dev?: boolean; serving?: boolean } = {},
): Promise<Config> {
  return loadConfig({
    file: args.strings.get("config"),
    dev: options.dev ?? false,
    env: io.env,
    cwd: io.cwd,
    readTextFile: (path) => Deno.readTextFile(path.startsWith("/") ? path : `${io.cwd}/${path}`),
    systemHostname: () => Deno.hostname(),
    requireHostname: options.serving ?? false,
  });
}

/** A logger for administrative commands: warnings and errors only, readable, to stderr. */
export function commandLogger(io: CliIo): Logger {
  return createLogger({ level: "warn", format: "text", write: (line) => io.err(line) });
}

/** Runs `fn` with the store open, and closes it whatever happens. */
export async function withStore<T>(
  io: CliIo,
  args: ParsedArgs,
  fn: (store: Store, config: Config) => Promise<T>,
): Promise<T> {
  const config = await configFor(io, args);
  const store = await openStore(config, io.env, commandLogger(io));
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}

/** Reads a password from standard input: the whole input less one trailing line break. */
export async function passwordFromStdin(io: CliIo): Promise<string> {
  return (await io.readStdin()).replace(/\r?\n$/, "");
}
