/**
 * The `fumi` command line: dispatch, help, and the one place where errors become exit codes.
 *
 * Exit codes: 0 success; 1 the operation failed (not found, exists already, weak password,
 * database unreachable); 2 usage or configuration error (unknown command or option, missing
 * argument, invalid config, wrong master key). Every error is one line on standard error; a
 * stack trace is shown only for an unexpected error, and only with FUMI_DEBUG=1.
 *
 * @module
 */

import { ConfigError, FumiError, UsageError } from "../util/errors.ts";
import type { Command } from "./command.ts";
import { aliasCommand } from "./commands/alias.ts";
import { auditCommand } from "./commands/audit.ts";
import { backupCommand } from "./commands/backup.ts";
import { banCommand } from "./commands/ban.ts";
import { certCommand } from "./commands/cert.ts";
import { dkimCommand } from "./commands/dkim.ts";
import { dmarcCommand } from "./commands/dmarc.ts";
import { domainCommand } from "./commands/domain.ts";
import { installCommand } from "./commands/install.ts";
import { keysCommand } from "./commands/keys.ts";
import { importMaildirCommand } from "./commands/maildir.ts";
import { exportMboxCommand, importMboxCommand } from "./commands/mbox.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { queueCommand } from "./commands/queue.ts";
import { restoreCommand } from "./commands/restore.ts";
import { serveCommand } from "./commands/serve.ts";
import { statusCommand } from "./commands/status.ts";
import { uninstallCommand } from "./commands/uninstall.ts";
import { userCommand } from "./commands/user.ts";
import { versionCommand } from "./commands/version.ts";
import type { CliIo } from "./io.ts";

/** Every top-level command, in the order help shows them. */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  statusCommand,
  migrateCommand,
  domainCommand,
  dkimCommand,
  dmarcCommand,
  userCommand,
  aliasCommand,
  queueCommand,
  keysCommand,
  certCommand,
  banCommand,
  auditCommand,
  backupCommand,
  restoreCommand,
  exportMboxCommand,
  importMboxCommand,
  importMaildirCommand,
  installCommand,
  uninstallCommand,
  versionCommand,
];

/** Exit codes. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Runs the CLI and returns its exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    printHelp(io);
    if (name !== undefined) return EXIT_OK;
    io.err("fumi: missing command");
    return EXIT_USAGE;
  }
  if (name === "--version") return await runCli(["version"], io);
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`Unknown command "${name}"; run "fumi help" for the list`);
    await command.run(io, rest);
    return EXIT_OK;
  } catch (error) {
    return reportError(io, error);
  }
}

function reportError(io: CliIo, error: unknown): number {
  if (error instanceof UsageError || error instanceof ConfigError) {
    io.err(`fumi: ${error.message}`);
    return EXIT_USAGE;
  }
  if (error instanceof FumiError) {
    io.err(`fumi: ${error.message}`);
    return EXIT_FAILURE;
  }
  const message = error instanceof Error
    ? error.message
    : Deno.inspect(error, { compact: true, breakLength: Infinity });
  io.err(`fumi: unexpected error: ${message.split("\n")[0]}`);
  if (io.env.FUMI_DEBUG === "1" && error instanceof Error && error.stack) io.err(error.stack);
  return EXIT_FAILURE;
}

function printHelp(io: CliIo): void {
  io.out("fumi — a secure self-hosted mail server");
  io.out("");
  io.out("Usage:");
  for (const command of COMMANDS) io.out(`  ${command.usage.padEnd(44)} ${command.summary}`);
  io.out("");
  io.out("Environment: FUMI_DATA_DIR (default ./data), FUMI_DATABASE_URL (unset: embedded),");
  io.out("  FUMI_MASTER_KEY, FUMI_HOSTNAME, FUMI_CONFIG, FUMI_ADMIN_ADDRESS, FUMI_ADMIN_PASSWORD,");
  io.out('  FUMI_LOG_LEVEL. Run "fumi COMMAND help" for a command\'s subcommands.');
}
