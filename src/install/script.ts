/**
 * A plan as a POSIX shell script: what `--dry-run` prints. Every file is shown whole with its
 * mode and owner, every command as it would run, and the script does what `fumi install` would
 * do when piped to a root shell (`fumi install --dry-run | sudo sh`), which is how the compiled
 * fumi, which may not start programs, gets installed.
 *
 * @module
 */

import { under } from "./facts.ts";
import { DATA_DIR_MARKER, PATHS, type Step, USER_COMMENT } from "./plan.ts";
import { CREDENTIAL_NAME } from "./unit.ts";

const HEREDOC = "FUMI_EOF";

/** A word for sh: as it is when plain, else in single quotes. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:@+=%,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function mode(value: number): string {
  return value.toString(8).padStart(4, "0");
}

/** The argv of `useradd` for a system user (with `--prefix` under a root directory). */
export function useraddArgv(root: string, name: string, home: string): string[] {
  return [
    "useradd",
    ...(root === "/" ? [] : ["--prefix", root]),
    "--system",
    "--user-group",
    "--home-dir",
    home,
    "--no-create-home",
    "--shell",
    "/usr/sbin/nologin",
    "--comment",
    USER_COMMENT,
    name,
  ];
}

/** The argv of `userdel`. */
export function userdelArgv(root: string, name: string): string[] {
  return ["userdel", ...(root === "/" ? [] : ["--prefix", root]), name];
}

/**
 * The argv of `systemd-creds encrypt` for the master key read from standard input. Under a root
 * directory the host key is used alone, and `SYSTEMD_CREDENTIAL_SECRET` (see
 * {@link credentialEnv}) keeps that key inside the root too.
 */
export function encryptArgv(root: string, path: string): string[] {
  return [
    "systemd-creds",
    "encrypt",
    `--name=${CREDENTIAL_NAME}`,
    ...(root === "/" ? [] : ["--with-key=host"]),
    "-",
    under(root, path),
  ];
}

/** The environment `systemd-creds` runs with: under a root, its host key lives there. */
export function credentialEnv(root: string): Record<string, string> {
  return root === "/" ? {} : { SYSTEMD_CREDENTIAL_SECRET: under(root, PATHS.credentialSecret) };
}

/**
 * How the script names an owner. On a real host, by name. Under a root directory the names are
 * those of the root's own /etc/passwd and /etc/group, which the host's tools would not read:
 * the script looks the ids up there (with the functions {@link renderScript} defines), after
 * its useradd step has created them.
 */
function owner(root: string, kind: "user" | "group", name: string): string {
  if (root === "/") return name;
  return `"$(${kind === "user" ? "uid_of" : "gid_of"} ${name})"`;
}

function line(argv: readonly string[]): string {
  return argv.map(shellWord).join(" ");
}

/** Renders `steps` as a script; `title` is its first comment. */
export function renderScript(steps: readonly Step[], root: string, title: string): string {
  const out = [
    "#!/bin/sh",
    `# ${title}`,
    "# Nothing was changed. To do this, run the script as root (or the command without --dry-run).",
    "set -eu",
  ];
  out.push(
    `uid_of() { awk -F: -v n="$1" '$1 == n { print $3 }' ${under(root, "/etc/passwd")}; }`,
    `gid_of() { awk -F: -v n="$1" '$1 == n { print $3 }' ${under(root, "/etc/group")}; }`,
  );
  const dirs = steps.filter((step) => step.kind === "dir");
  if (dirs.length > 0) {
    // The check of ./apply.ts (checkDirs), before anything is changed.
    out.push(
      "",
      "# The directories whose mode and owner this sets: each must be new, empty or its owner's.",
      "may_own() {",
      `  if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then`,
      `    echo "$1 exists and is not a directory (or is a symbolic link)" >&2; exit 1`,
      "  fi",
      `  if [ -d "$1" ] && [ -n "$(ls -A "$1")" ] &&`,
      `    [ "$(stat -c %u:%g "$1")" != "$(uid_of "$2"):$(gid_of "$3")" ]; then`,
      `    echo "$1 exists, is not empty and is not owned by $2:$3; choose another directory" >&2`,
      "    exit 1",
      "  fi",
      "}",
      ...dirs.map((step) => line(["may_own", under(root, step.path), step.owner, step.group])),
    );
  }
  for (const step of steps) {
    out.push("");
    switch (step.kind) {
      case "user":
        out.push(
          `# The system user ${step.name}, if it does not exist.`,
          `grep -q ${shellWord(`^${step.name}:`)} ${under(root, "/etc/passwd")} || ${
            line(useraddArgv(root, step.name, step.home))
          }`,
        );
        break;
      case "dir":
        out.push(
          `# ${step.path}/ (${mode(step.mode)} ${step.owner}:${step.group})`,
          [
            line(["install", "-d", "-m", mode(step.mode)]),
            `-o ${owner(root, "user", step.owner)} -g ${owner(root, "group", step.group)}`,
            shellWord(under(root, step.path)),
          ].join(" "),
        );
        break;
      case "file": {
        const target = under(root, step.path);
        const install = `${line(["install", "-D", "-m", mode(step.mode)])} -o ${
          owner(root, "user", step.owner)
        } -g ${owner(root, "group", step.group)}`;
        const guard = step.keepExisting ? `[ -e ${shellWord(target)} ] || ` : "";
        out.push(
          `# ${step.path} (${mode(step.mode)} ${step.owner}:${step.group})${
            step.keepExisting ? ", unless it exists" : ""
          }`,
        );
        if ("from" in step.content) {
          out.push(`${guard}${install} ${line([step.content.from, target])}`);
        } else {
          const text = step.content.text;
          if (text.split("\n").includes(HEREDOC)) {
            throw new Error(`The text of ${step.path} contains the line ${HEREDOC}`);
          }
          out.push(
            `${guard}${install} ${line(["/dev/stdin", target])} <<'${HEREDOC}'`,
            text.replace(/\n$/, ""),
            HEREDOC,
          );
        }
        break;
      }
      case "master-key": {
        const target = shellWord(under(root, step.path));
        const temporary = shellWord(`${under(root, step.path)}.fumi-install`);
        const generate = line([under(root, PATHS.binary), "keys", "generate"]);
        out.push(
          `# A new master key at ${step.path} (0600 root:root), ${
            step.encrypted ? "encrypted by systemd-creds" : "in the clear"
          }, unless one exists.`,
          `if [ ! -e ${target} ]; then`,
          // Not a pipe from the generator: sh has no pipefail, and a failed generator would
          // leave an empty key, kept from then on. Written aside and renamed: never half a key.
          `  key=$(${generate}) && [ -n "$key" ] ||`,
          `    { echo "${generate} failed: no master key was written" >&2; exit 1; }`,
        );
        if (step.encrypted) {
          const env = Object.entries(credentialEnv(root)).map(([k, v]) => `${k}=${shellWord(v)} `);
          const encrypt = encryptArgv(root, step.path).slice(0, -1);
          // No umask here: systemd-creds may create its host key's directory, which keeps the
          // usual 0755; the file it writes is ciphertext, and is made 0600 before it is moved.
          out.push(`  printf '%s\\n' "$key" | ${env.join("")}${line(encrypt)} ${temporary}`);
        } else {
          out.push(`  (umask 077; printf '%s\\n' "$key" > ${temporary})`);
        }
        out.push(`  chmod 0600 ${temporary}`, `  mv ${temporary} ${target}`, "fi");
        break;
      }
      case "command":
        out.push(line(step.argv));
        break;
      case "remove": {
        const target = shellWord(under(root, step.path));
        if (step.what === "file") out.push(`rm -f ${target}`);
        else if (step.what === "data-dir") {
          const marker = shellWord(`${under(root, step.path)}/${DATA_DIR_MARKER}`);
          out.push(
            `if [ -f ${marker} ]; then rm -rf ${target}; elif [ -e ${target} ]; then`,
            `  echo ${
              shellWord(
                `Kept ${step.path}: it has no ${DATA_DIR_MARKER}, so fumi install did not make it.`,
              )
            } >&2`,
            "fi",
          );
        } else out.push(`rmdir ${target} 2>/dev/null || true`);
        break;
      }
      case "remove-user": {
        // Only the user install made (its comment), never root: as ./apply.ts checks.
        const entry = shellWord(`^${step.name}:[^:]*:[^:]*:[^:]*:${USER_COMMENT}:`);
        out.push(
          `if grep -q ${entry} ${
            under(root, "/etc/passwd")
          } && [ "$(uid_of ${step.name})" != 0 ]; then`,
          `  ${line(userdelArgv(root, step.name))}`,
          "fi",
        );
        break;
      }
    }
  }
  out.push("");
  return out.join("\n");
}
