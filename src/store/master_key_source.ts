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

/** Creates `master.key` with a new key; fails if the file exists. */
export async function createMasterKeyFile(dataDir: string): Promise<MasterKeySource> {
  await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = masterKeyPath(dataDir);
  await writeKeyFile(path, [generateMasterKey()], { createNew: true });
  const source = await findMasterKey({}, dataDir);
  if (source === null) throw new ConfigError(`Cannot read back ${path}`);
  return source;
}

/**
 * Writes a key file durably: a temporary file (0600, synced), then an atomic rename, so a
 * crash leaves either the old file or the new one, never a torn one.
 */
export async function writeKeyFile(
  path: string,
  keys: readonly string[],
  options: { createNew?: boolean } = {},
): Promise<void> {
  const temporary = `${path}.tmp`;
  const file = await Deno.open(temporary, {
    write: true,
    create: true,
    truncate: true,
    mode: 0o600,
  });
  try {
    await file.write(new TextEncoder().encode(keys.join("\n") + "\n"));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.chmod(temporary, 0o600);
  if (options.createNew && (await readIfExists(path)) !== null) {
    await Deno.remove(temporary);
    throw new ConfigError(`${path} exists already`);
  }
  await Deno.rename(temporary, path);
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw new ConfigError(`Cannot read ${path}: ${(error as Error).message}`);
  }
}
