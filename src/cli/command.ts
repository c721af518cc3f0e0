/**
 * The shape of a CLI command, and dispatch to subcommands as data.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { CliIo } from "./io.ts";

/** A command (or subcommand) of `fumi`. */
export interface Command {
  readonly name: string;
  /** One line: `fumi user add ADDRESS [--password-stdin] …`. */
  readonly usage: string;
  readonly summary: string;
  run(io: CliIo, argv: readonly string[]): Promise<void>;
}

/**
 * A command made of subcommands: `fumi domain add|list|remove`. `parent` is the words before
 * its name (`fumi user` for `fumi user 2fa enable|…`).
 */
export function group(
  name: string,
  summary: string,
  children: readonly Command[],
  parent = "fumi",
): Command {
  const usage = `${parent} ${name} ${children.map((c) => c.name).join("|")} …`;
  return {
    name,
    summary,
    usage,
    run: async (io, argv) => {
      const [sub, ...rest] = argv;
      if (sub === undefined || sub === "help" || sub === "--help" || sub === "-h") {
        io.out(`Usage:`);
        for (const child of children) io.out(`  ${child.usage}\n      ${child.summary}`);
        if (sub === undefined) throw new UsageError(`Missing subcommand; usage: ${usage}`);
        return;
      }
      const child = children.find((c) => c.name === sub);
      if (!child) {
        throw new UsageError(`Unknown command "${parent} ${name} ${sub}"; usage: ${usage}`);
      }
      await child.run(io, rest);
    },
  };
}
