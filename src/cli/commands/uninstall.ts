/**
 * `fumi uninstall`: stops and removes the service and the binary; the data, the config and the
 * master key stay unless `--purge`.
 *
 * @module
 */

import { applySteps, hostFacts, planUninstall, renderScript } from "../../install/mod.ts";
import { expectPositional, parseArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { absolutePath, checkMayRun, INSTALL_DEFAULTS } from "./install.ts";

/** `fumi uninstall`. */
export const uninstallCommand: Command = {
  name: "uninstall",
  usage:
    "fumi uninstall [--user fumi] [--data-dir DIR] [--config FILE] [--root DIR] [--purge] [--dry-run]",
  summary: "Remove the service and the binary; --purge also deletes the data, config and key.",
  run: async (io, argv) => {
    const args = parseArgs(argv, {
      boolean: ["purge", "dry-run"],
      string: ["user", "data-dir", "config", "root"],
    });
    expectPositional(args, [], uninstallCommand.usage);
    const root = absolutePath(io, args.strings.get("root") ?? "/");
    const user = args.strings.get("user") ?? INSTALL_DEFAULTS.user;
    const dataDir = args.strings.get("data-dir") ?? INSTALL_DEFAULTS.dataDir;
    const purge = args.booleans.has("purge");
    const steps = planUninstall(
      {
        root,
        user,
        dataDir,
        configPath: args.strings.get("config") ?? INSTALL_DEFAULTS.configPath,
        purge,
      },
      await hostFacts(root, user, dataDir),
    );
    if (args.booleans.has("dry-run")) {
      io.out(renderScript(steps, root, "fumi uninstall: the steps it would take").trimEnd());
      return;
    }
    checkMayRun(steps, "uninstall");
    await applySteps(steps, root, (line) => io.out(line));
    io.out(
      purge
        ? "Fumi is uninstalled, with its data, config and master key."
        : `Fumi is uninstalled; kept: ${dataDir}, the config and the master key (--purge deletes them).`,
    );
  },
};
