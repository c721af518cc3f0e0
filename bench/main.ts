/**
 * Benchmarks: `deno task bench <name> [options]`.
 *
 * Dispatch is data: {@link BENCHMARKS} maps a name to a module loaded on demand, so one
 * benchmark's imports (a database, a TLS stack) cost nothing to the others. A module exports
 * {@link Benchmark.run}, which takes the arguments after the name and returns the exit code.
 * To add one, write `bench/<name>.ts` and add a line to the table.
 *
 * @module
 */

/** What a benchmark module exports. */
export interface Benchmark {
  /** Runs with the arguments after the name; resolves to the process exit code. */
  run(args: readonly string[]): Promise<number>;
}

/** Every benchmark, by name. */
export const BENCHMARKS: Readonly<Record<string, () => Promise<Benchmark>>> = {
  imap: () => import("./imap.ts"),
  outbound: () => import("./outbound.ts"),
  smtp: () => import("./smtp.ts"),
  store: () => import("./store.ts"),
  tls: () => import("./tls.ts"),
  webmail: () => import("./webmail.ts"),
};

/** Exit code for a wrong command line. */
export const USAGE_EXIT = 2;

async function main(args: readonly string[]): Promise<number> {
  const [name, ...rest] = args;
  const load = name === undefined ? undefined : BENCHMARKS[name];
  if (load === undefined) {
    if (name !== undefined && name !== "--help" && name !== "-h") {
      console.error(`Unknown benchmark "${name}"`);
    }
    printUsage();
    return name === "--help" || name === "-h" ? 0 : USAGE_EXIT;
  }
  const benchmark = await load();
  return await benchmark.run(rest);
}

function printUsage(): void {
  console.error(
    [
      "Usage: deno task bench <name> [options]",
      "",
      `Benchmarks: ${Object.keys(BENCHMARKS).join(", ")}`,
      "Run `deno task bench <name> --help` for a benchmark's options.",
    ].join("\n"),
  );
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
