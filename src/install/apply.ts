/**
 * Carries out a plan's steps, in order, under a root prefix. Files are written by Fumi itself;
 * only what needs the system's own tools runs a program: useradd/userdel (the user databases
 * and their locks), systemd-creds (the host's credential key) and systemctl.
 *
 * @module
 */

import { generateMasterKey } from "../crypto/master_key.ts";
import { FumiError } from "../util/errors.ts";
import { accountOf, idOf, under } from "./facts.ts";
import { DATA_DIR_MARKER, type Step, USER_COMMENT } from "./plan.ts";
import { credentialEnv, encryptArgv, useraddArgv, userdelArgv } from "./script.ts";

/** Runs a program to completion. */
export type RunProgram = (
  argv: readonly string[],
  options?: { stdin?: string; env?: Record<string, string> },
) => Promise<{ code: number; stderr: string }>;

/** Runs programs with Deno.Command (needs --allow-run for each). */
export const runProgram: RunProgram = async (argv, options = {}) => {
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    env: options.env ?? {},
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
};

/** The programs a plan runs, for a permission check before anything is done. */
export function programsOf(steps: readonly Step[]): string[] {
  const names = new Set<string>();
  for (const step of steps) {
    if (step.kind === "user") names.add("useradd");
    if (step.kind === "remove-user") names.add("userdel");
    if (step.kind === "master-key" && step.encrypted) names.add("systemd-creds");
    if (step.kind === "command") names.add(step.argv[0]!);
  }
  return [...names].sort();
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Throws unless install may set the mode and owner of every directory `steps` name: it does not
 * exist yet, is empty, or has the step's owner and group already (a reinstall). Anything else
 * (/etc, someone's data) is not Fumi's to take; checked before any step is carried out.
 */
export async function checkDirs(steps: readonly Step[], root: string): Promise<void> {
  for (const step of steps) {
    if (step.kind !== "dir") continue;
    const path = under(root, step.path);
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    if (!info.isDirectory) {
      throw new FumiError(`${step.path} exists and is not a directory (or is a symbolic link)`);
    }
    if ((await Array.fromAsync(Deno.readDir(path))).length === 0) continue;
    const uid = await idOf(under(root, "/etc/passwd"), step.owner);
    const gid = await idOf(under(root, "/etc/group"), step.group);
    if (info.uid === uid && info.gid === gid) continue;
    throw new FumiError(
      `${step.path} exists, is not empty and is not owned by ${step.owner}:${step.group}; fumi install sets the mode and owner only of a directory it creates, an empty one or its own: choose another directory`,
    );
  }
}

/** Carries out `steps` under `root`, reporting one line per step. */
export async function applySteps(
  steps: readonly Step[],
  root: string,
  report: (line: string) => void,
  run: RunProgram = runProgram,
): Promise<void> {
  const must = async (argv: readonly string[], options?: Parameters<RunProgram>[1]) => {
    const result = await run(argv, options);
    if (result.code !== 0) {
      const why = result.stderr.trim().split("\n")[0] ?? "";
      throw new FumiError(
        `"${argv.join(" ")}" failed (exit ${result.code})${why ? `: ${why}` : ""}`,
      );
    }
  };
  const own = async (path: string, owner: string, group: string) => {
    const uid = await idOf(under(root, "/etc/passwd"), owner);
    const gid = await idOf(under(root, "/etc/group"), group);
    if (uid === null) throw new FumiError(`No user "${owner}" in ${under(root, "/etc/passwd")}`);
    if (gid === null) throw new FumiError(`No group "${group}" in ${under(root, "/etc/group")}`);
    await Deno.chown(path, uid, gid);
  };
  await checkDirs(steps, root);
  for (const step of steps) {
    switch (step.kind) {
      case "user":
        await must(useraddArgv(root, step.name, step.home));
        report(`Created the system user ${step.name}.`);
        break;
      case "dir": {
        const path = under(root, step.path);
        await Deno.mkdir(path, { recursive: true, mode: 0o755 });
        await Deno.chmod(path, step.mode);
        await own(path, step.owner, step.group);
        report(`Directory ${step.path} (${octal(step.mode)} ${step.owner}:${step.group}).`);
        break;
      }
      case "file": {
        const path = under(root, step.path);
        if (step.keepExisting && await exists(path)) {
          report(`Kept ${step.path} as it is.`);
          break;
        }
        await Deno.mkdir(under(root, step.path.slice(0, step.path.lastIndexOf("/")) || "/"), {
          recursive: true,
          mode: 0o755,
        });
        // Written beside the target and renamed over it: never half a file, and a running
        // binary being replaced keeps its old inode.
        const temporary = `${path}.fumi-install`;
        if ("from" in step.content) await Deno.copyFile(step.content.from, temporary);
        else await Deno.writeTextFile(temporary, step.content.text, { mode: 0o600 });
        await Deno.chmod(temporary, step.mode);
        await own(temporary, step.owner, step.group);
        await Deno.rename(temporary, path);
        report(`Wrote ${step.path} (${octal(step.mode)} ${step.owner}:${step.group}).`);
        break;
      }
      case "master-key": {
        const path = under(root, step.path);
        if (await exists(path)) {
          report(`Kept the master key at ${step.path}.`);
          break;
        }
        const key = `${generateMasterKey()}\n`;
        if (step.encrypted) {
          await must(encryptArgv(root, step.path), { stdin: key, env: credentialEnv(root) });
          await Deno.chmod(path, 0o600);
        } else {
          await Deno.writeTextFile(path, key, { mode: 0o600, createNew: true });
        }
        await own(path, "root", "root");
        report(
          `Created a master key at ${step.path} (0600 root:root${
            step.encrypted ? ", encrypted by systemd-creds" : ""
          }).`,
        );
        break;
      }
      case "command":
        await must(step.argv);
        report(`Ran ${step.argv.join(" ")}.`);
        break;
      case "remove": {
        const path = under(root, step.path);
        if (!await exists(path)) break;
        if (step.what === "empty-dir") {
          const empty = (await Array.fromAsync(Deno.readDir(path))).length === 0;
          if (!empty) break;
        }
        if (step.what === "data-dir") {
          const marked = await Deno.lstat(`${path}/${DATA_DIR_MARKER}`).then(
            (info) => info.isFile,
            () => false,
          );
          if (!marked) {
            report(
              `Kept ${step.path}: it has no ${DATA_DIR_MARKER}, so fumi install did not make it.`,
            );
            break;
          }
        }
        await Deno.remove(path, { recursive: step.what === "data-dir" });
        report(`Removed ${step.path}.`);
        break;
      }
      case "remove-user": {
        const account = await accountOf(root, step.name);
        if (account === null) break;
        if (account.uid === 0 || account.comment !== USER_COMMENT) {
          report(`Kept the user ${step.name}: fumi install did not create it.`);
          break;
        }
        await must(userdelArgv(root, step.name));
        report(`Removed the system user ${step.name}.`);
        break;
      }
    }
  }
}
