/**
 * What `fumi install` and `fumi uninstall` do, as a list of steps decided before anything is
 * touched: the same list is carried out (./apply.ts) or printed as a shell script for a dry run
 * (./script.ts), so the dry run shows exactly what would happen.
 *
 * Paths in steps are those of the installed system; a root prefix (`--root`) is added only when
 * a step is carried out or printed.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { PLAIN_PATH, renderUnit, type UnitCredential } from "./unit.ts";

/** Where things go on the installed system. */
export const PATHS = {
  binary: "/usr/local/bin/fumi",
  unit: "/etc/systemd/system/fumi.service",
  // systemd's own credential stores (systemd.exec(5), "Credentials"): root-only directories.
  encryptedCredential: "/etc/credstore.encrypted/fumi.master-key",
  plainCredential: "/etc/credstore/fumi.master-key",
  credentialSecret: "/var/lib/systemd/credential.secret",
} as const;

/**
 * The file install writes into the data directory. `uninstall --purge` deletes a data directory
 * only when it holds this file: a directory install did not make is never removed.
 */
export const DATA_DIR_MARKER = ".fumi-data-dir";

/** The comment (GECOS field) of the user install creates; uninstall removes only such a user. */
export const USER_COMMENT = "Fumi mail server";

/** The unit's name for systemctl. */
export const UNIT_NAME = "fumi.service";

/** One thing to do. Owners are user or group names, resolved when the step is carried out. */
export type Step =
  | { readonly kind: "user"; readonly name: string; readonly home: string }
  | {
    readonly kind: "dir";
    readonly path: string;
    readonly mode: number;
    readonly owner: string;
    readonly group: string;
  }
  | {
    readonly kind: "file";
    readonly path: string;
    readonly mode: number;
    readonly owner: string;
    readonly group: string;
    /** The text to write, or the file to copy (`from`). */
    readonly content: { readonly text: string } | { readonly from: string };
    /** Leave an existing file as it is (the config: an administrator's edits are kept). */
    readonly keepExisting: boolean;
  }
  | {
    /** A new master key, encrypted with `systemd-creds` or in a 0600 file; never replaced. */
    readonly kind: "master-key";
    readonly path: string;
    readonly encrypted: boolean;
  }
  | { readonly kind: "command"; readonly argv: readonly string[] }
  | {
    /**
     * A file, a data directory's whole tree only if it holds {@link DATA_DIR_MARKER}, or a
     * directory only if it is empty; absent is fine.
     */
    readonly kind: "remove";
    readonly path: string;
    readonly what: "file" | "data-dir" | "empty-dir";
  }
  | {
    /** The user, if its comment is still {@link USER_COMMENT} (checked again when run). */
    readonly kind: "remove-user";
    readonly name: string;
  };

/** `fumi install`'s options. */
export interface InstallOptions {
  /** "/" or a directory that stands for it. */
  readonly root: string;
  readonly user: string;
  readonly dataDir: string;
  readonly configPath: string;
  readonly hostname: string;
  /** The fumi executable to install as {@link PATHS.binary} (a path on this machine). */
  readonly binarySource: string;
  readonly start: boolean;
}

/** An entry of /etc/passwd, with the name of its primary group (null if /etc/group lacks it). */
export interface Account {
  readonly uid: number;
  readonly gid: number;
  readonly group: string | null;
  /** The GECOS field: {@link USER_COMMENT} for the user install made. */
  readonly comment: string;
}

/** What the plan depends on, looked up before planning (./facts.ts). */
export interface HostFacts {
  /** The account named by --user, if it exists. */
  readonly user: Account | null;
  /** `systemd-creds` is there (systemd 250 or later): LoadCredentialEncrypted works. */
  readonly systemdCreds: boolean;
  /** A master key credential installed before, kept with its kind. */
  readonly credential: "encrypted" | "plain" | null;
  /** The data directory has a master.key already: the server keeps using it. */
  readonly dataKeyFile: boolean;
  /** fumi.service is installed (uninstall stops it only then). */
  readonly unitInstalled: boolean;
}

const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * Directories of the system itself, which install would chmod and chown and `--purge` would
 * delete if given one as the data directory or the config's directory. Paths of one component
 * (/etc, /var, /srv…) are refused as well, and so is a home directory (a child of /home).
 */
const SYSTEM_DIRS = new Set([
  "/etc/alternatives",
  "/etc/apt",
  "/etc/credstore",
  "/etc/credstore.encrypted",
  "/etc/cron.d",
  "/etc/default",
  "/etc/init.d",
  "/etc/network",
  "/etc/pam.d",
  "/etc/profile.d",
  "/etc/security",
  "/etc/ssh",
  "/etc/ssl",
  "/etc/ssl/certs",
  "/etc/ssl/private",
  "/etc/sudoers.d",
  "/etc/sysctl.d",
  "/etc/systemd",
  "/etc/systemd/system",
  "/lib/firmware",
  "/lib/modules",
  "/lib/systemd",
  "/lib/systemd/system",
  "/run/lock",
  "/run/systemd",
  "/run/user",
  "/usr/bin",
  "/usr/games",
  "/usr/include",
  "/usr/lib",
  "/usr/lib32",
  "/usr/lib64",
  "/usr/libexec",
  "/usr/lib/systemd",
  "/usr/lib/systemd/system",
  "/usr/local",
  "/usr/local/bin",
  "/usr/local/etc",
  "/usr/local/games",
  "/usr/local/include",
  "/usr/local/lib",
  "/usr/local/man",
  "/usr/local/sbin",
  "/usr/local/share",
  "/usr/local/src",
  "/usr/sbin",
  "/usr/share",
  "/usr/src",
  "/var/backups",
  "/var/cache",
  "/var/lib",
  "/var/lib/private",
  "/var/lib/systemd",
  "/var/local",
  "/var/lock",
  "/var/log",
  "/var/mail",
  "/var/opt",
  "/var/run",
  "/var/spool",
  "/var/tmp",
  "/var/www",
]);

/** Trees that are the kernel's or the running system's, never a place for Fumi's files. */
const SYSTEM_TREES = ["/boot", "/dev", "/proc", "/sys"];

/** Why `dir` cannot be a directory install owns (chmod, chown, purge), or null if it can. */
function notOwnDir(dir: string): string | null {
  const parts = dir.split("/").slice(1);
  if (parts.some((part) => part === "" || part === "." || part === "..")) {
    return "has an empty, . or .. component";
  }
  if (parts.length < 2) return "is a top-level directory";
  if (SYSTEM_DIRS.has(dir) || SYSTEM_TREES.some((tree) => dir.startsWith(`${tree}/`))) {
    return "is a directory of the system";
  }
  if (parts.length === 2 && parts[0] === "home") return "is a home directory";
  return null;
}

function inside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** Checks the options a user typed; throws a {@link UsageError} naming the bad one. */
export function checkOptions(
  options: Pick<InstallOptions, "root" | "user" | "dataDir" | "configPath">,
): void {
  if (options.user === "root") {
    throw new UsageError(
      "--user: Fumi does not run as root; name an unprivileged user (the default, fumi, is created)",
    );
  }
  if (!USER_NAME.test(options.user)) {
    throw new UsageError(`--user: "${options.user}" is not a valid system user name`);
  }
  for (const [flag, path] of [["--data-dir", options.dataDir], ["--config", options.configPath]]) {
    if (!PLAIN_PATH.test(path!)) {
      throw new UsageError(
        `${flag}: "${path}" must be an absolute path of letters, digits and _ . / @ + -`,
      );
    }
  }
  const { dataDir, configPath } = options;
  // install sets the mode and owner of both directories, and --purge deletes them: each must be
  // one of Fumi's own, never /etc, /var/lib, /usr/local/bin or the like.
  const dataProblem = notOwnDir(dataDir);
  if (dataProblem !== null) {
    throw new UsageError(
      `--data-dir: "${dataDir}" ${dataProblem}; give Fumi a directory of its own (e.g. /var/lib/fumi)`,
    );
  }
  const configDir = dirname(configPath);
  if (["", ".", ".."].includes(configPath.slice(configDir.length + 1))) {
    throw new UsageError(`--config: "${configPath}" does not name a file`);
  }
  const configProblem = notOwnDir(configDir);
  if (configProblem !== null) {
    throw new UsageError(
      `--config: the directory of "${configPath}" ${configProblem}; put the config in a directory of its own (e.g. /etc/fumi/fumi.toml)`,
    );
  }
  // The unit makes only the data directory writable: a config inside it would be writable by
  // the service, and --purge of one would delete the other.
  if (inside(configDir, dataDir) || inside(dataDir, configDir)) {
    throw new UsageError(
      `--data-dir and --config: "${dataDir}" and "${configDir}" must be separate directories`,
    );
  }
  if (!PLAIN_PATH.test(options.root) || options.root.split("/").includes("..")) {
    throw new UsageError(`--root: "${options.root}" must be an absolute plain path`);
  }
}

/** The steps of `fumi install`. */
export function planInstall(options: InstallOptions, facts: HostFacts): Step[] {
  checkOptions(options);
  if (!HOST_NAME.test(options.hostname)) {
    throw new UsageError(
      `The host name "${options.hostname}" is not a fully qualified name; pass --hostname (e.g. mail.example.org)`,
    );
  }
  if (options.start && options.root !== "/") {
    throw new UsageError(
      "--root installs into a directory, where nothing can be started; add --no-start",
    );
  }
  const { user, dataDir, configPath } = options;
  if (facts.user?.uid === 0) {
    throw new UsageError(`--user: "${user}" has uid 0; Fumi runs as an unprivileged user`);
  }
  // A new user gets a group of its own name (useradd --user-group); an existing one keeps its
  // primary group, which must have a name for the unit's Group= and the files' owners.
  const group = facts.user === null ? user : facts.user.group;
  if (group === null) {
    throw new UsageError(
      `--user: the primary group of "${user}" (gid ${facts.user?.gid}) is not in /etc/group`,
    );
  }
  const steps: Step[] = [];
  if (facts.user === null) steps.push({ kind: "user", name: user, home: dataDir });
  // Installing from the installed binary itself leaves it where it is.
  if (options.root !== "/" || options.binarySource !== PATHS.binary) {
    steps.push({
      kind: "file",
      path: PATHS.binary,
      mode: 0o755,
      owner: "root",
      group: "root",
      content: { from: options.binarySource },
      keepExisting: false,
    });
  }
  steps.push(
    // The config may name a database password later: readable by root and the service only.
    { kind: "dir", path: dirname(configPath), mode: 0o750, owner: "root", group },
    {
      kind: "file",
      path: configPath,
      mode: 0o640,
      owner: "root",
      group,
      content: { text: configText(options) },
      keepExisting: true,
    },
    // Data: the embedded database, its socket and the TLS state, for the service's user alone.
    { kind: "dir", path: dataDir, mode: 0o700, owner: user, group },
    // What lets --purge know the directory is Fumi's (root's: not the service's to forge).
    {
      kind: "file",
      path: `${dataDir}/${DATA_DIR_MARKER}`,
      mode: 0o644,
      owner: "root",
      group: "root",
      content: { text: MARKER_TEXT },
      keepExisting: true,
    },
  );
  let credential: UnitCredential;
  if (facts.credential !== null) {
    credential = facts.credential === "encrypted"
      ? { kind: "encrypted", path: PATHS.encryptedCredential }
      : { kind: "plain", path: PATHS.plainCredential };
  } else if (facts.dataKeyFile) {
    credential = { kind: "none" }; // the key already protecting the data stays where it is
  } else {
    const encrypted = facts.systemdCreds;
    const path = encrypted ? PATHS.encryptedCredential : PATHS.plainCredential;
    steps.push(
      { kind: "dir", path: dirname(path), mode: 0o700, owner: "root", group: "root" },
      { kind: "master-key", path, encrypted },
    );
    credential = { kind: encrypted ? "encrypted" : "plain", path };
  }
  const unit = renderUnit({
    binary: PATHS.binary,
    user,
    group,
    dataDir,
    configPath,
    credential,
  });
  steps.push({
    kind: "file",
    path: PATHS.unit,
    mode: 0o644,
    owner: "root",
    group: "root",
    content: { text: unit },
    keepExisting: false,
  });
  if (options.start) {
    steps.push(
      { kind: "command", argv: ["systemctl", "daemon-reload"] },
      // enable and restart, not enable --now: a reinstall (an upgrade) must also replace a
      // running server by the new binary; on a first install restart starts it.
      { kind: "command", argv: ["systemctl", "enable", UNIT_NAME] },
      { kind: "command", argv: ["systemctl", "restart", UNIT_NAME] },
    );
  }
  return steps;
}

/** `fumi uninstall`'s options. */
export interface UninstallOptions {
  readonly root: string;
  readonly user: string;
  readonly dataDir: string;
  readonly configPath: string;
  /** Also delete the data, the config, the master key and the user. */
  readonly purge: boolean;
}

/**
 * The steps of `fumi uninstall`: the service, its unit and the binary go; the data, the config
 * and the master key (without which the data cannot be read) stay unless `purge`.
 */
export function planUninstall(options: UninstallOptions, facts: HostFacts): Step[] {
  checkOptions(options);
  const live = options.root === "/";
  const steps: Step[] = [];
  if (live && facts.unitInstalled) {
    steps.push({ kind: "command", argv: ["systemctl", "disable", "--now", UNIT_NAME] });
  }
  steps.push(
    { kind: "remove", path: PATHS.unit, what: "file" },
    { kind: "remove", path: PATHS.binary, what: "file" },
  );
  if (live && facts.unitInstalled) {
    steps.push({ kind: "command", argv: ["systemctl", "daemon-reload"] });
  }
  if (options.purge) {
    steps.push(
      { kind: "remove", path: options.dataDir, what: "data-dir" },
      { kind: "remove", path: options.configPath, what: "file" },
      { kind: "remove", path: dirname(options.configPath), what: "empty-dir" },
      { kind: "remove", path: PATHS.encryptedCredential, what: "file" },
      { kind: "remove", path: PATHS.plainCredential, what: "file" },
    );
    // Only the user install made: never an account that merely has the name given.
    if (facts.user !== null && facts.user.uid !== 0 && facts.user.comment === USER_COMMENT) {
      steps.push({ kind: "remove-user", name: options.user });
    }
  }
  return steps;
}

const MARKER_TEXT =
  "This directory holds Fumi's data; it was made by fumi install, and fumi uninstall --purge deletes it.\n";

/** The config file install writes: production mode needs only the host name and the data. */
export function configText(options: Pick<InstallOptions, "hostname" | "dataDir">): string {
  return [
    "# Fumi's configuration, written by fumi install; edit it and restart fumi.service.",
    "# Production defaults: SMTP 25, submission 587 and 465, IMAP 143 and 993, HTTPS 443 and",
    "# HTTP 80 on all addresses; the database embedded in the data directory.",
    `hostname = "${options.hostname}"`,
    `data_dir = "${options.dataDir}"`,
    "",
  ].join("\n");
}

/** The folder of an absolute path. */
export function dirname(path: string): string {
  const at = path.lastIndexOf("/");
  return at <= 0 ? "/" : path.slice(0, at);
}
