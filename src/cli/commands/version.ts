/**
 * `fumi version`: the version of Fumi and of its Deno runtime, then the commit it was built
 * from and when (see ../build_info.ts for where those come from).
 *
 * @module
 */

import denoJson from "../../../deno.json" with { type: "json" };
import { expectPositional, parseArgs } from "../args.ts";
import { buildInfo } from "../build_info.ts";
import type { Command } from "../command.ts";

/** `fumi version`. */
export const versionCommand: Command = {
  name: "version",
  usage: "fumi version",
  summary: "Print the version of Fumi and of the Deno runtime, the commit and the build date.",
  run: async (io, argv) => {
    expectPositional(parseArgs(argv, {}), [], versionCommand.usage);
    const build = await buildInfo();
    io.out(`fumi ${denoJson.version} (deno ${Deno.version.deno}, ${Deno.build.target})`);
    io.out(`commit: ${build.commit}`);
    io.out(`built:  ${build.date}`);
  },
};
