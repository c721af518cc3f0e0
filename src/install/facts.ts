/**
 * What install and uninstall look up before planning: read-only, and without running any
 * program, so that a dry run works from a fumi that may not start programs.
 *
 * @module
 */

import { FumiError } from "../util/errors.ts";
import { type Account, type HostFacts, PATHS } from "./plan.ts";

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

/** The lines of an /etc/passwd or /etc/group style file, split into fields; none if absent. */
async function entries(file: string): Promise<string[][]> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return text.split("\n").map((line) => line.split(":"));
}

const ID = /^\d+$/;

/** The entry of `name` in an /etc/passwd or /etc/group style file: its numeric id, or null. */
export async function idOf(file: string, name: string): Promise<number | null> {
  for (const fields of await entries(file)) {
    if (fields[0] === name && fields[2] !== undefined && ID.test(fields[2])) {
      return Number(fields[2]);
    }
  }
  return null;
}

/**
 * The account `name` under `root` (passwd(5): name, password, uid, gid, GECOS, home, shell),
 * with its primary group's name from group(5); null if there is none.
 */
export async function accountOf(root: string, name: string): Promise<Account | null> {
  for (const fields of await entries(under(root, "/etc/passwd"))) {
    const [user, , uid, gid, comment] = fields;
    if (user !== name || uid === undefined || gid === undefined || !ID.test(uid)) continue;
    if (!ID.test(gid)) continue;
    const group = (await entries(under(root, "/etc/group"))).find((g) => g[2] === gid)?.[0];
    return { uid: Number(uid), gid: Number(gid), group: group ?? null, comment: comment ?? "" };
  }
  return null;
}

/** The facts for `user` and `dataDir` under `root`; systemd-creds is looked for on this host. */
export async function hostFacts(root: string, user: string, dataDir: string): Promise<HostFacts> {
  const encrypted = await exists(under(root, PATHS.encryptedCredential));
  const plain = await exists(under(root, PATHS.plainCredential));
  return {
    user: await accountOf(root, user),
    // systemd-creds came with systemd 250, as did LoadCredentialEncrypted.
    systemdCreds: (await exists("/usr/bin/systemd-creds")) || (await exists("/bin/systemd-creds")),
    credential: encrypted ? "encrypted" : plain ? "plain" : null,
    dataKeyFile: await exists(under(root, `${dataDir}/master.key`)),
    unitInstalled: await exists(under(root, PATHS.unit)),
  };
}
