/**
 * `fumi install` and the check that this fumi may run what the plan needs (see
 * src/install/mod.ts for why the compiled binary may not, and what it does instead).
 *
 * @module
 */

import {
  applySteps,
  hostFacts,
  planInstall,
  programsOf,
  renderScript,
  type Step,
  UNIT_NAME,
} from "../../install/mod.ts";
import { FumiError, UsageError } from "../../util/errors.ts";
import { expectPositional, parseArgs } from "../args.ts";
import type { Command } from "../command.ts";
import type { CliIo } from "../io.ts";

/** Defaults of install and uninstall. */
export const INSTALL_DEFAULTS = {
  user: "fumi",
  dataDir: "/var/lib/fumi",
  configPath: "/etc/fumi/fumi.toml",
} as const;

/** An absolute path: `path` as given, or under the working directory. */
export function absolutePath(io: CliIo, path: string): string {
  return path.startsWith("/") ? path : `${io.cwd.replace(/\/$/, "")}/${path}`;
}

/** Throws unless this process may run every program `steps` need. */
export function checkMayRun(steps: readonly Step[], command: string): void {
  const programs = programsOf(steps);
  const denied = programs.filter((name) =>
    Deno.permissions.querySync({ name: "run", command: name }).state !== "granted"
  );
  if (denied.length === 0) return;
  const names = denied.length === 1
    ? denied[0]
    : `${denied.slice(0, -1).join(", ")} and ${denied.at(-1)}`;
  throw new FumiError(
    `fumi ${command} must run ${names}, but this fumi may not start programs (it has the server's permissions, without --allow-run); print the steps as a script and run that as root: fumi ${command} --dry-run | sudo sh`,
  );
}

/** `fumi install`. */
export const installCommand: Command = {
  name: "install",
  usage:
    "fumi install [--user fumi] [--data-dir DIR] [--config FILE] [--hostname H] [--binary FILE] [--root DIR] [--no-start] [--dry-run] [--print-unit]",
  summary: "Install Fumi as a hardened systemd service; --dry-run prints the steps as a script.",
  run: async (io, argv) => {
    const args = parseArgs(argv, {
      boolean: ["no-start", "dry-run", "print-unit"],
      string: ["user", "data-dir", "config", "hostname", "binary", "root"],
    });
    expectPositional(args, [], installCommand.usage);
    const root = absolutePath(io, args.strings.get("root") ?? "/");
    const user = args.strings.get("user") ?? INSTALL_DEFAULTS.user;
    const dataDir = args.strings.get("data-dir") ?? INSTALL_DEFAULTS.dataDir;
    const printUnit = args.booleans.has("print-unit");
    const binary = args.strings.get("binary");
    let binarySource: string;
    if (binary !== undefined) binarySource = absolutePath(io, binary);
    else if (Deno.build.standalone) binarySource = Deno.execPath();
    else if (printUnit) binarySource = "/nonexistent"; // the unit names the installed path only
    else {
      throw new UsageError(
        "Run from source, fumi install needs --binary FILE: the compiled fumi to install (bash compile.sh builds dist/fumi)",
      );
    }
    const options = {
      root,
      user,
      dataDir,
      configPath: args.strings.get("config") ?? INSTALL_DEFAULTS.configPath,
      hostname: args.strings.get("hostname") ?? Deno.hostname(),
      binarySource,
      start: !args.booleans.has("no-start") && !printUnit,
    };
    const steps = planInstall(options, await hostFacts(root, user, dataDir));
    if (printUnit) {
      const unit = steps.find((s) => s.kind === "file" && s.path.endsWith(`/${UNIT_NAME}`));
      if (unit?.kind === "file" && "text" in unit.content) io.out(unit.content.text.trimEnd());
      return;
    }
    if (args.booleans.has("dry-run")) {
      io.out(renderScript(steps, root, "fumi install: the steps it would take").trimEnd());
      return;
    }
    checkMayRun(steps, "install");
    await applySteps(steps, root, (line) => io.out(line));
    io.out(
      options.start
        ? `Fumi is installed and running (systemctl status ${UNIT_NAME}).`
        : `Fumi is installed; start it with: systemctl daemon-reload && systemctl enable --now ${UNIT_NAME}`,
    );
  },
};
