/**
 * Installing Fumi as a systemd service, and removing it.
 *
 * Invariants:
 * - A plan (./plan.ts) is decided before anything changes, from read-only facts (./facts.ts);
 *   `--dry-run` prints that same plan as a shell script (./script.ts) and changes nothing.
 * - A master key is never replaced or deleted except by `uninstall --purge`: without it the
 *   data cannot be read. An existing config file is kept as it is.
 * - Install sets the mode and owner only of Fumi's own directories: --data-dir and the config's
 *   directory may not be system directories (/etc, /var/lib, /usr/local/bin…, anything of one
 *   component, a home) and must be separate; one that exists must be empty or already have the
 *   owner install gives it, checked before any step runs (./apply.ts checkDirs, the script's
 *   may_own). `--purge` deletes a data directory only if it holds the marker install wrote
 *   (DATA_DIR_MARKER), and a user only if its comment is USER_COMMENT; never root or uid 0.
 * - The script writes a master key aside and renames it into place, only from a generator that
 *   succeeded and printed something: a failure leaves no key file, never an empty one.
 * - Everything happens under a root prefix ("/" on a real host), so tests install for real into
 *   a directory: useradd/userdel take `--prefix`, systemd-creds keeps its host key there too.
 *
 * Security model and permissions: the server runs without --allow-run (a compromised server
 * cannot start programs), and the compiled binary has the server's permissions, so it cannot
 * run useradd, systemd-creds or systemctl either. Its `fumi install` therefore refuses to act
 * and says to pipe the plan into a root shell (`fumi install --dry-run | sudo sh`); from source,
 * `deno run` with `--allow-run=useradd,userdel,systemd-creds,systemctl` runs the same steps in
 * process (README.md, "Install as a service"). The service itself gets the hardened unit of
 * ./unit.ts and a master key it can read only through $CREDENTIALS_DIRECTORY.
 *
 * @module
 */

export { applySteps, checkDirs, programsOf, type RunProgram, runProgram } from "./apply.ts";
export { accountOf, hostFacts, under } from "./facts.ts";
export {
  type Account,
  DATA_DIR_MARKER,
  type HostFacts,
  type InstallOptions,
  PATHS,
  planInstall,
  planUninstall,
  type Step,
  type UninstallOptions,
  UNIT_NAME,
  USER_COMMENT,
} from "./plan.ts";
export { renderScript } from "./script.ts";
export { CREDENTIAL_NAME, renderUnit, type UnitOptions } from "./unit.ts";
