/**
 * Installing Fumi as a systemd service, and removing it.
 *
 * Invariants:
 * - A plan (./plan.ts) is decided before anything changes, from read-only facts (./facts.ts);
 *   `--dry-run` prints that same plan as a shell script (./script.ts) and changes nothing.
 * - A master key is never replaced or deleted except by `uninstall --purge`: without it the
 *   data cannot be read. An existing config file is kept as it is.
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

export { applySteps, programsOf, type RunProgram, runProgram } from "./apply.ts";
export { hostFacts, under } from "./facts.ts";
export {
  type HostFacts,
  type InstallOptions,
  PATHS,
  planInstall,
  planUninstall,
  type Step,
  type UninstallOptions,
  UNIT_NAME,
} from "./plan.ts";
export { renderScript } from "./script.ts";
export { CREDENTIAL_NAME, renderUnit, type UnitOptions } from "./unit.ts";
