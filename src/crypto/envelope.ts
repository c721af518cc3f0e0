/**
 * The ciphertext format for everything Fumi encrypts at rest (column values and wrapped data
 * keys), with AES-256-GCM from Web Crypto.
 *
 * Layout (version 1):
 *
 * ```
 * offset 0   1 byte   version (1)
 * offset 1   4 bytes  key id, unsigned big-endian (a data key id, or a master key id)
 * offset 5  12 bytes  nonce, random per encryption
 * offset 17  n bytes  AES-GCM ciphertext followed by its 16-byte tag
 * ```
 *
 * Invariants:
 * - The additional authenticated data is the first five bytes (version and key id) followed by
 *   the UTF-8 of `table.column#row`. A ciphertext copied into another row, another column or
 *   another table, or relabelled with another key id, fails to open.
 * - Nonces are 96 random bits. With one data key per account, and far fewer than 2^32
 *   encryptions under any one key, the birthday bound for a repeated nonce stays negligible
 *   (NIST SP 800-38D §8.3).
 * - Every failure to open (wrong key, tampering, truncation, wrong place) is the same
 *   {@link DecryptError}; nothing partial is ever returned.
 *
 * @module
 */

import { FumiError } from "../util/errors.ts";

/** The current format version. */
export const ENVELOPE_VERSION = 1;
const HEADER_LENGTH = 5;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
/** Smallest possible ciphertext: header, nonce and tag around an empty plaintext. */
export const MIN_ENVELOPE_LENGTH = HEADER_LENGTH + NONCE_LENGTH + TAG_LENGTH;

/** Where a ciphertext belongs; bound into it as additional authenticated data. */
export interface Placement {
  readonly table: string;
  readonly column: string;
  readonly row: string | number | bigint;
}

/** A ciphertext could not be opened: wrong key, tampered, truncated or moved. */
export class DecryptError extends FumiError {
  constructor(message = "Cannot decrypt: the data is damaged or belongs elsewhere") {
    super(message);
  }
}

const encoder = new TextEncoder();

/** Imports 32 raw bytes as a non-extractable AES-256-GCM key. */
export function importAesKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== 32) {
    throw new FumiError(`An AES-256 key is 32 bytes, got ${raw.length}`);
  }
  return crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}

/** Encrypts `plaintext` for the given placement under `key`, labelled with `keyId`. */
export async function seal(
  key: CryptoKey,
  keyId: number,
  plaintext: Uint8Array,
  placement: Placement,
): Promise<Uint8Array> {
  const header = encodeHeader(keyId);
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: aad(header, placement) },
      key,
      plaintext as Uint8Array<ArrayBuffer>,
    ),
  );
  const out = new Uint8Array(HEADER_LENGTH + NONCE_LENGTH + sealed.length);
  out.set(header, 0);
  out.set(nonce, HEADER_LENGTH);
  out.set(sealed, HEADER_LENGTH + NONCE_LENGTH);
  return out;
}

/** Reads the key id of a ciphertext, to find the key that opens it. */
export function keyIdOf(ciphertext: Uint8Array): number {
  if (ciphertext.length < MIN_ENVELOPE_LENGTH || ciphertext[0] !== ENVELOPE_VERSION) {
    throw new DecryptError("Cannot decrypt: unknown ciphertext format");
  }
  return new DataView(ciphertext.buffer, ciphertext.byteOffset, HEADER_LENGTH).getUint32(1);
}

/** Decrypts a ciphertext made by {@link seal} for the same placement. */
export async function open(
  key: CryptoKey,
  ciphertext: Uint8Array,
  placement: Placement,
): Promise<Uint8Array> {
  keyIdOf(ciphertext); // validates version and length
  const header = ciphertext.subarray(0, HEADER_LENGTH);
  const nonce = ciphertext.subarray(HEADER_LENGTH, HEADER_LENGTH + NONCE_LENGTH) as Uint8Array<
    ArrayBuffer
  >;
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonce, additionalData: aad(header, placement) },
        key,
        ciphertext.subarray(HEADER_LENGTH + NONCE_LENGTH) as Uint8Array<ArrayBuffer>,
      ),
    );
  } catch {
    throw new DecryptError();
  }
}

function encodeHeader(keyId: number): Uint8Array {
  if (!Number.isInteger(keyId) || keyId < 0 || keyId > 0xffff_ffff) {
    throw new FumiError(`A key id is an unsigned 32-bit integer, got ${keyId}`);
  }
  const header = new Uint8Array(HEADER_LENGTH);
  header[0] = ENVELOPE_VERSION;
  new DataView(header.buffer).setUint32(1, keyId);
  return header;
}

function aad(header: Uint8Array, { table, column, row }: Placement): Uint8Array<ArrayBuffer> {
  const where = encoder.encode(`${table}.${column}#${row}`);
  const out = new Uint8Array(header.length + where.length);
  out.set(header, 0);
  out.set(where, header.length);
  return out;
}
