/**
 * The master keys as text, for what needs their raw bytes rather than the ring's
 * non-extractable CryptoKeys: deriving a backup's chunk key (HKDF), and `--include-key`.
 * Read from the same places, in the same order, as src/store/master_key_source.ts.
 *
 * @module
 */

import { masterKeyId } from "../../crypto/master_key.ts";
import { decodeBase64 } from "../../util/base64.ts";
import { ConfigError } from "../../util/errors.ts";
import { type Env, findMasterKey } from "../master_key_source.ts";

/** One master key: its id and raw bytes. */
export interface RawMasterKey {
  readonly id: number;
  readonly raw: Uint8Array;
}

/** The key ring's text (base64 keys, primary first), or null when there is no key anywhere. */
export async function masterKeyText(env: Env, dataDir: string): Promise<string | null> {
  const source = await findMasterKey(env, dataDir);
  if (source === null) return null;
  if (source.kind === "env") return env.FUMI_MASTER_KEY ?? "";
  if (source.kind === "credential") {
    return await Deno.readTextFile(`${env.CREDENTIALS_DIRECTORY}/master-key`);
  }
  return source.keys.join("\n");
}

/** Parses a ring's text into raw keys with their ids (invalid keys are a ConfigError). */
export async function rawMasterKeys(text: string): Promise<RawMasterKey[]> {
  const keys: RawMasterKey[] = [];
  for (const part of text.split(/[,\r\n]+/).map((p) => p.trim()).filter((p) => p !== "")) {
    const raw = decodeBase64(part);
    if (raw === null || raw.length !== 32) {
      throw new ConfigError("A master key is not 32 bytes of base64");
    }
    keys.push({ id: await masterKeyId(raw), raw });
  }
  return keys;
}
