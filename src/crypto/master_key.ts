/**
 * Master keys (key-encryption keys, KEKs): parsing a key ring, naming keys, and the check value
 * that tells a right key from a wrong one before anything is decrypted with it.
 *
 * A ring is one or more base64 keys of 32 bytes, separated by commas or line breaks. The first
 * is the primary: new data keys are wrapped with it and `fumi keys rotate` re-wraps every data
 * key with it. The others stay readable so that a rotation can be interrupted and resumed.
 *
 * A key's id is derived from the key (the first four bytes of HMAC-SHA-256(key, "fumi kek id")),
 * so a ciphertext names the key that opens it without any table of ids to keep in step.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "../util/base64.ts";
import { ConfigError } from "../util/errors.ts";
import { importAesKey, open, type Placement, seal } from "./envelope.ts";

/** One master key, ready for use. */
export interface MasterKey {
  readonly id: number;
  readonly key: CryptoKey;
}

/** The master keys available to this process; `primary` is `keys[0]`. */
export interface MasterKeyRing {
  readonly primary: MasterKey;
  readonly keys: readonly MasterKey[];
  byId(id: number): MasterKey | undefined;
}

const encoder = new TextEncoder();
const CHECK_PLAINTEXT = encoder.encode("fumi master key check v1");

/** Generates a new random master key, base64-encoded. */
export function generateMasterKey(): string {
  return encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
}

/** Derives the id that names a raw master key in ciphertexts and in the database. */
export async function masterKeyId(raw: Uint8Array): Promise<number> {
  const hmacKey = await crypto.subtle.importKey(
    "raw",
    raw as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", hmacKey, encoder.encode("fumi kek id"));
  return new DataView(mac).getUint32(0);
}

/**
 * Parses a key ring from text. `source` names where it came from, for error messages (never
 * the key itself).
 */
export async function parseMasterKeyRing(text: string, source: string): Promise<MasterKeyRing> {
  const parts = text.split(/[,\r\n]+/).map((p) => p.trim()).filter((p) => p !== "");
  if (parts.length === 0) {
    throw new ConfigError(`${source} holds no master key`);
  }
  const keys: MasterKey[] = [];
  for (const [index, part] of parts.entries()) {
    const raw = decodeBase64(part);
    if (raw === null || raw.length !== 32) {
      throw new ConfigError(
        `${source}: key ${
          index + 1
        } is not 32 bytes of base64 (generate one with \`fumi keys generate\`)`,
      );
    }
    const id = await masterKeyId(raw);
    if (!keys.some((k) => k.id === id)) keys.push({ id, key: await importAesKey(raw) });
  }
  return ringOf(keys);
}

/** Builds a ring from keys, the first being the primary. */
export function ringOf(keys: readonly MasterKey[]): MasterKeyRing {
  const primary = keys[0];
  if (primary === undefined) throw new ConfigError("A master key ring needs at least one key");
  return { primary, keys, byId: (id) => keys.find((k) => k.id === id) };
}

function checkPlacement(id: number): Placement {
  return { table: "master_keys", column: "check_value", row: id };
}

/** Makes the value stored beside a key's id that proves a key is the right one. */
export function makeCheckValue(key: MasterKey): Promise<Uint8Array> {
  return seal(key.key, key.id, CHECK_PLAINTEXT, checkPlacement(key.id));
}

/** True when `key` opens the check value recorded for its id. */
export async function verifyCheckValue(key: MasterKey, check: Uint8Array): Promise<boolean> {
  try {
    const plain = await open(key.key, check, checkPlacement(key.id));
    return plain.length === CHECK_PLAINTEXT.length &&
      plain.every((b, i) => b === CHECK_PLAINTEXT[i]);
  } catch {
    return false;
  }
}
