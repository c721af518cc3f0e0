/**
 * The backup file's container: a clear, authenticated header, then the compressed dump in
 * chunks sealed with AES-256-GCM.
 *
 * ```
 * "FUMIBAK1"                 8 bytes  magic
 * header length              4 bytes  unsigned big-endian, at most 64 KiB
 * header                     JSON     {@link BackupHeader}
 * chunk*                              until the one marked final
 *   flags                    1 byte   1 for the final chunk, else 0
 *   ciphertext length        4 bytes  unsigned big-endian, at most chunk size + 16
 *   nonce                   12 bytes  random per chunk
 *   ciphertext                        AES-256-GCM ciphertext and 16-byte tag
 * ```
 *
 * Invariants:
 * - The chunk key is HKDF-SHA-256 (RFC 5869) of the raw master key named by `kekId`, with the
 *   header's random 32-byte salt and the info "fumi backup v1": every file has its own key, and
 *   the master key itself never enters the file (unless wrapped, see key_wrap.ts).
 * - Each chunk's additional data is SHA-256 of everything before the first chunk (magic,
 *   length, header), the chunk's index (8 bytes) and its flags byte: a chunk moved to another
 *   place, another file, or relabelled final fails to open; the header cannot be edited.
 * - The reader returns plaintext only after its chunk is authenticated; it fails on a
 *   damaged chunk, on the end of the file before the final chunk (truncation), and on any
 *   byte after it. Every failure is a {@link BackupFormatError}.
 *
 * @module
 */

import { decodeBase64, encodeBase64 } from "../../util/base64.ts";
import { FumiError } from "../../util/errors.ts";
import type { WrappedKey } from "./key_wrap.ts";

/** The file is not a backup, or is damaged, truncated or tampered with. */
export class BackupFormatError extends FumiError {}

/** The clear header of a backup file (authenticated by every chunk). */
export interface BackupHeader {
  readonly format: 1;
  /** The master key (its id, 8 hex digits) the chunk key is derived from. */
  readonly kekId: string;
  /** HKDF salt, base64 of 32 random bytes. */
  readonly salt: string;
  /** Most plaintext octets per chunk. */
  readonly chunkSize: number;
  /** How the plaintext inside the chunks is compressed. */
  readonly compression: "gzip";
  readonly createdAt: string;
  /** The master key ring wrapped with a passphrase (`--include-key`), else null. */
  readonly key: WrappedKey | null;
}

const MAGIC = new TextEncoder().encode("FUMIBAK1");
const MAX_HEADER = 64 * 1024;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;
const RECORD_HEAD = 1 + 4 + NONCE_LENGTH;
/** Default plaintext per chunk. */
export const CHUNK_SIZE = 1024 * 1024;
const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
const HKDF_INFO = new TextEncoder().encode("fumi backup v1");

/** Derives the chunk key from a raw master key and the header's salt (RFC 5869). */
export async function deriveChunkKey(
  rawMasterKey: Uint8Array,
  salt: Uint8Array,
): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey(
    "raw",
    rawMasterKey as Uint8Array<ArrayBuffer>,
    "HKDF",
    false,
    ["deriveKey"],
  );
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: salt as Uint8Array<ArrayBuffer>, info: HKDF_INFO },
    ikm,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** Makes a header with a fresh salt. */
export function newHeader(
  kekId: number,
  key: WrappedKey | null,
  chunkSize = CHUNK_SIZE,
): BackupHeader {
  return {
    format: 1,
    kekId: kekId.toString(16).padStart(8, "0"),
    salt: encodeBase64(crypto.getRandomValues(new Uint8Array(32))),
    chunkSize,
    compression: "gzip",
    createdAt: new Date().toISOString(),
    key,
  };
}

/** The header's salt as bytes. */
export function headerSalt(header: BackupHeader): Uint8Array {
  const salt = decodeBase64(header.salt);
  if (salt === null || salt.length !== 32) throw new BackupFormatError("Backup header: bad salt");
  return salt;
}

/** The header's master key id as a number. */
export function headerKekId(header: BackupHeader): number {
  return parseInt(header.kekId, 16);
}

function encodePreamble(header: BackupHeader): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  if (json.length > MAX_HEADER) throw new BackupFormatError("Backup header too large");
  const out = new Uint8Array(MAGIC.length + 4 + json.length);
  out.set(MAGIC, 0);
  new DataView(out.buffer).setUint32(MAGIC.length, json.length);
  out.set(json, MAGIC.length + 4);
  return out;
}

async function digest(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

function chunkAad(preambleDigest: Uint8Array, index: number, final: boolean): Uint8Array {
  const aad = new Uint8Array(32 + 8 + 1);
  aad.set(preambleDigest, 0);
  new DataView(aad.buffer).setBigUint64(32, BigInt(index));
  aad[40] = final ? 1 : 0;
  return aad;
}

/**
 * A stream that turns plaintext into the backup file: the preamble first, then sealed chunks
 * of `header.chunkSize` octets, the last one marked final (an empty one if need be).
 */
export function sealStream(
  header: BackupHeader,
  key: CryptoKey,
): TransformStream<Uint8Array, Uint8Array> {
  const preamble = encodePreamble(header);
  const size = header.chunkSize;
  let preambleDigest: Uint8Array;
  let index = 0;
  let pending = new Uint8Array(size);
  let filled = 0;
  const emit = async (
    controller: TransformStreamDefaultController<Uint8Array>,
    plain: Uint8Array,
    final: boolean,
  ) => {
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH));
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        {
          name: "AES-GCM",
          iv: nonce,
          additionalData: chunkAad(preambleDigest, index, final) as Uint8Array<ArrayBuffer>,
        },
        key,
        plain as Uint8Array<ArrayBuffer>,
      ),
    );
    const record = new Uint8Array(RECORD_HEAD + sealed.length);
    record[0] = final ? 1 : 0;
    new DataView(record.buffer).setUint32(1, sealed.length);
    record.set(nonce, 5);
    record.set(sealed, RECORD_HEAD);
    index++;
    controller.enqueue(record);
  };
  return new TransformStream({
    start: async (controller) => {
      preambleDigest = await digest(preamble);
      controller.enqueue(preamble);
    },
    transform: async (chunk, controller) => {
      let at = 0;
      while (at < chunk.length) {
        // A full chunk is sealed only when more follows, so the final one is never empty
        // unless the whole plaintext is.
        if (filled === size) {
          await emit(controller, pending, false);
          pending = new Uint8Array(size);
          filled = 0;
        }
        const take = Math.min(size - filled, chunk.length - at);
        pending.set(chunk.subarray(at, at + take), filled);
        filled += take;
        at += take;
      }
    },
    flush: async (controller) => {
      await emit(controller, pending.subarray(0, filled), true);
    },
  });
}

/** Reads a backup file: its header, then its verified plaintext. */
export class BackupReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer = new Uint8Array(0);
  #ended = false;

  constructor(file: ReadableStream<Uint8Array>) {
    this.#reader = file.getReader();
  }

  /** Reads and checks the preamble; returns the header and the digest chunks are bound to. */
  async header(): Promise<{ header: BackupHeader; preambleDigest: Uint8Array }> {
    const head = await this.#take(MAGIC.length + 4);
    if (head === null || !MAGIC.every((b, i) => head[i] === b)) {
      throw new BackupFormatError("Not a Fumi backup file");
    }
    const length = new DataView(head.buffer, head.byteOffset).getUint32(MAGIC.length);
    if (length > MAX_HEADER) throw new BackupFormatError("Backup header too large");
    const json = await this.#take(length);
    if (json === null) throw new BackupFormatError("Backup file truncated in its header");
    const header = parseHeader(json);
    const preamble = new Uint8Array(head.length + json.length);
    preamble.set(head, 0);
    preamble.set(json, head.length);
    return { header, preambleDigest: await digest(preamble) };
  }

  /** The plaintext, chunk by chunk, each authenticated before it is returned. */
  plaintext(
    header: BackupHeader,
    preambleDigest: Uint8Array,
    key: CryptoKey,
  ): ReadableStream<Uint8Array> {
    let index = 0;
    let done = false;
    /** The next chunk's plaintext, or null after the final chunk at the end of the file. */
    const next = async (): Promise<Uint8Array | null> => {
      if (done) {
        if ((await this.#take(1)) !== null) {
          throw new BackupFormatError("Backup file has data after its final chunk");
        }
        return null;
      }
      const head = await this.#take(RECORD_HEAD);
      if (head === null) {
        throw new BackupFormatError(`Backup file truncated: chunk ${index} is missing`);
      }
      const flags = head[0]!;
      const length = new DataView(head.buffer, head.byteOffset).getUint32(1);
      if (flags > 1 || length < TAG_LENGTH || length > header.chunkSize + TAG_LENGTH) {
        throw new BackupFormatError(`Backup file damaged at chunk ${index}`);
      }
      const sealed = await this.#take(length);
      if (sealed === null) throw new BackupFormatError(`Backup file truncated in chunk ${index}`);
      const final = flags === 1;
      let plain: Uint8Array;
      try {
        plain = new Uint8Array(
          await crypto.subtle.decrypt(
            {
              name: "AES-GCM",
              iv: head.slice(5, RECORD_HEAD),
              additionalData: chunkAad(preambleDigest, index, final) as Uint8Array<ArrayBuffer>,
            },
            key,
            sealed as Uint8Array<ArrayBuffer>,
          ),
        );
      } catch {
        throw new BackupFormatError(
          `Backup file damaged: chunk ${index} fails its check (altered, reordered, or another key)`,
        );
      }
      index++;
      done = final;
      return plain;
    };
    return new ReadableStream<Uint8Array>({
      // Loops until it has something to give: a pull that enqueues nothing is not repeated.
      pull: async (controller) => {
        for (;;) {
          const plain = await next();
          if (plain === null) {
            controller.close();
            await this.#reader.cancel();
            return;
          }
          if (plain.length > 0) {
            controller.enqueue(plain);
            return;
          }
        }
      },
      cancel: async () => {
        await this.#reader.cancel();
      },
    }, { highWaterMark: 0 });
  }

  /** Exactly `n` bytes, or null at a clean end of the file (error if it ends inside). */
  async #take(n: number): Promise<Uint8Array | null> {
    while (this.#buffer.length < n && !this.#ended) {
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#ended = true;
        break;
      }
      const joined = new Uint8Array(this.#buffer.length + value.length);
      joined.set(this.#buffer, 0);
      joined.set(value, this.#buffer.length);
      this.#buffer = joined;
    }
    if (this.#buffer.length === 0 && this.#ended) return null;
    if (this.#buffer.length < n) {
      throw new BackupFormatError("Backup file truncated");
    }
    const out = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  /** Releases the file. */
  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

function parseHeader(json: Uint8Array): BackupHeader {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(json));
  } catch {
    throw new BackupFormatError("Backup header is not valid JSON");
  }
  if (typeof value !== "object" || value === null) {
    throw new BackupFormatError("Backup header is not an object");
  }
  const h = value as Record<string, unknown>;
  if (h.format !== 1) throw new BackupFormatError(`Unknown backup format ${String(h.format)}`);
  if (typeof h.kekId !== "string" || !/^[0-9a-f]{8}$/.test(h.kekId)) {
    throw new BackupFormatError("Backup header: bad kekId");
  }
  if (typeof h.salt !== "string") throw new BackupFormatError("Backup header: bad salt");
  if (
    typeof h.chunkSize !== "number" || !Number.isInteger(h.chunkSize) || h.chunkSize < 1 ||
    h.chunkSize > MAX_CHUNK_SIZE
  ) {
    throw new BackupFormatError("Backup header: bad chunk size");
  }
  if (h.compression !== "gzip") throw new BackupFormatError("Backup header: unknown compression");
  if (typeof h.createdAt !== "string") throw new BackupFormatError("Backup header: bad date");
  if (h.key !== null && (typeof h.key !== "object" || h.key === undefined)) {
    throw new BackupFormatError("Backup header: bad key");
  }
  const header = value as BackupHeader;
  headerSalt(header);
  return header;
}
