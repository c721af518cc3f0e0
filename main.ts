/**
 * The `fumi` executable: argv in, exit code out. All logic lives in src/.
 *
 * @module
 */

import { runCli } from "./src/cli/main.ts";
import { processIo } from "./src/cli/io.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args, processIo()));
}
