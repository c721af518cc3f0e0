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

/** A command made of subcommands: `fumi domain add|list|remove`. */
export function group(name: string, summary: string, children: readonly Command[]): Command {
  const usage = `fumi ${name} ${children.map((c) => c.name).join("|")} …`;
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
      if (!child) throw new UsageError(`Unknown command "fumi ${name} ${sub}"; usage: ${usage}`);
      await child.run(io, rest);
    },
  };
}
