/**
 * What install and uninstall look up before planning: read-only, and without running any
 * program, so that a dry run works from a fumi that may not start programs.
 *
 * @module
 */

import { FumiError } from "../util/errors.ts";
import { type HostFacts, PATHS } from "./plan.ts";

/** A path under the root prefix: `under("/tmp/r", "/etc/x")` is "/tmp/r/etc/x". */
export function under(root: string, path: string): string {
  return root === "/" ? path : `${root.replace(/\/+$/, "")}${path}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    // The credential stores are root's alone: a plan made without seeing them would be wrong.
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new FumiError(`Cannot see whether ${path} exists (permission denied); run as root`);
    }
    throw error;
  }
}

/** The entry of `name` in an /etc/passwd or /etc/group style file: its numeric id, or null. */
export async function idOf(file: string, name: string): Promise<number | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && fields[2] !== undefined && /^\d+$/.test(fields[2])) {
      return Number(fields[2]);
    }
  }
  return null;
}

/** The facts for `user` and `dataDir` under `root`; systemd-creds is looked for on this host. */
export async function hostFacts(root: string, user: string, dataDir: string): Promise<HostFacts> {
  const encrypted = await exists(under(root, PATHS.encryptedCredential));
  const plain = await exists(under(root, PATHS.plainCredential));
  return {
    userExists: (await idOf(under(root, "/etc/passwd"), user)) !== null,
    // systemd-creds came with systemd 250, as did LoadCredentialEncrypted.
    systemdCreds: (await exists("/usr/bin/systemd-creds")) || (await exists("/bin/systemd-creds")),
    credential: encrypted ? "encrypted" : plain ? "plain" : null,
    dataKeyFile: await exists(under(root, `${dataDir}/master.key`)),
    unitInstalled: await exists(under(root, PATHS.unit)),
  };
}
