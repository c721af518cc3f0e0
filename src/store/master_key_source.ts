/**
 * Where the master key ring comes from, in order: the `FUMI_MASTER_KEY` environment variable
 * (base64, several keys separated by commas), the systemd credential `master-key`
 * (`$CREDENTIALS_DIRECTORY/master-key`, see systemd.exec(5) "Credentials"), or the file
 * `master.key` in the data directory (mode 0600, one key per line), which Fumi creates on first
 * start when no key exists anywhere and the database has none recorded.
 *
 * @module
 */

import { generateMasterKey, type MasterKeyRing, parseMasterKeyRing } from "../crypto/master_key.ts";
import { ConfigError } from "../util/errors.ts";

/** A master key ring and where it came from. */
export interface MasterKeySource {
  readonly kind: "env" | "credential" | "file";
  /** For messages: `FUMI_MASTER_KEY`, `systemd credential master-key`, or the file path. */
  readonly description: string;
  /** The file's path, for kind "file". */
  readonly path: string | null;
  readonly ring: MasterKeyRing;
  /** The ring's keys as text, primary first (only kept for kind "file", to rewrite it). */
  readonly keys: readonly string[];
}

/** The environment a key source is looked up in. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Path of the data directory's master key file. */
export function masterKeyPath(dataDir: string): string {
  return `${dataDir}/master.key`;
}

/** Finds the master key ring; null when there is none anywhere. */
export async function findMasterKey(env: Env, dataDir: string): Promise<MasterKeySource | null> {
  const fromEnv = env.FUMI_MASTER_KEY;
  if (fromEnv !== undefined && fromEnv.trim() !== "") {
    return {
      kind: "env",
      description: "FUMI_MASTER_KEY",
      path: null,
      ring: await parseMasterKeyRing(fromEnv, "FUMI_MASTER_KEY"),
      keys: [],
    };
  }
  const credentials = env.CREDENTIALS_DIRECTORY;
  if (credentials) {
    const path = `${credentials}/master-key`;
    const text = await readIfExists(path);
    if (text !== null) {
      const description = "systemd credential master-key";
      return {
        kind: "credential",
        description,
        path: null,
        ring: await parseMasterKeyRing(text, description),
        keys: [],
      };
    }
  }
  const path = masterKeyPath(dataDir);
  const text = await readIfExists(path);
  if (text === null) return null;
  const info = await Deno.stat(path);
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new ConfigError(
      `${path} is readable by other users (mode ${
        (info.mode & 0o777).toString(8)
      }); run: chmod 600 ${path}`,
    );
  }
  return {
    kind: "file",
    description: path,
    path,
    ring: await parseMasterKeyRing(text, path),
    keys: text.split(/[,\r\n]+/).map((k) => k.trim()).filter((k) => k !== ""),
  };
}

/**
 * Creates `master.key` with a new key. When another process created it first (two first starts
 * at once), that file wins and its key is returned, so every process uses the same key.
 */
export async function createMasterKeyFile(dataDir: string): Promise<MasterKeySource> {
  await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = masterKeyPath(dataDir);
  await writeKeyFile(path, [generateMasterKey()], { createNew: true });
  const source = await findMasterKey({}, dataDir);
  if (source === null) throw new ConfigError(`Cannot read back ${path}`);
  return source;
}

/**
 * Writes a key file durably: a temporary file of its own (0600, synced), then an atomic rename
 * and a sync of the directory, so a crash leaves either the old file or the new one, never a
 * torn one. With `createNew`, the file is linked into place instead, which fails atomically if
 * it exists: then the existing file is left as it is.
 */
export async function writeKeyFile(
  path: string,
  keys: readonly string[],
  options: { createNew?: boolean } = {},
): Promise<void> {
  const suffix = Array.from(crypto.getRandomValues(new Uint8Array(8)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const temporary = `${path}.${suffix}.tmp`;
  const file = await Deno.open(temporary, {
    write: true,
    createNew: true,
    mode: 0o600,
  });
  try {
    try {
      await file.write(new TextEncoder().encode(keys.join("\n") + "\n"));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.chmod(temporary, 0o600);
    if (options.createNew) {
      try {
        await Deno.link(temporary, path);
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      }
      await Deno.remove(temporary);
    } else {
      await Deno.rename(temporary, path);
    }
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
  await syncDirectory(path);
}

/** Makes a rename or link in the file's directory durable; skipped where the platform refuses. */
async function syncDirectory(path: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  let handle: Deno.FsFile;
  try {
    handle = await Deno.open(dir, { read: true });
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch {
    // Some platforms (Windows, some file systems) cannot sync a directory.
  } finally {
    handle.close();
  }
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw new ConfigError(`Cannot read ${path}: ${(error as Error).message}`);
  }
}
