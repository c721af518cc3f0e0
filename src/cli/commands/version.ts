/**
 * `fumi version`.
 *
 * @module
 */

import denoJson from "../../../deno.json" with { type: "json" };
import { expectPositional, parseArgs } from "../args.ts";
import type { Command } from "../command.ts";

/** `fumi version`. */
export const versionCommand: Command = {
  name: "version",
  usage: "fumi version",
  summary: "Print the version of Fumi and of the Deno runtime.",
  run: (io, argv) => {
    expectPositional(parseArgs(argv, {}), [], versionCommand.usage);
    io.out(`fumi ${denoJson.version} (deno ${Deno.version.deno}, ${Deno.build.target})`);
    return Promise.resolve();
  },
};
