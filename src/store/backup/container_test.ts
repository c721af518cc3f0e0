import { assert, assertEquals, assertRejects } from "../../../tests/assert.ts";
import {
  BackupFormatError,
  type BackupHeader,
  BackupReader,
  deriveChunkKey,
  headerSalt,
  newHeader,
  sealStream,
} from "./container.ts";
import { unwrapKeyRing, wrapKeyRing, WrongPassphraseError } from "./key_wrap.ts";
import { splitLines } from "./lines.ts";

const RAW_KEY = new Uint8Array(32).fill(7);

async function seal(plain: Uint8Array, header: BackupHeader): Promise<Uint8Array> {
  const key = await deriveChunkKey(RAW_KEY, headerSalt(header));
  const out = ReadableStream.from([plain.subarray(0, 5), plain.subarray(5)])
    .pipeThrough(sealStream(header, key));
  return new Uint8Array(await new Response(out).arrayBuffer());
}

async function open(file: Uint8Array, raw = RAW_KEY): Promise<Uint8Array> {
  const reader = new BackupReader(ReadableStream.from([file]));
  const { header, preambleDigest } = await reader.header();
  const key = await deriveChunkKey(raw, headerSalt(header));
  return new Uint8Array(
    await new Response(reader.plaintext(header, preambleDigest, key)).arrayBuffer(),
  );
}

/** Offsets of each chunk record after the preamble. */
function records(file: Uint8Array): { start: number; end: number }[] {
  const view = new DataView(file.buffer, file.byteOffset);
  let at = 8 + 4 + view.getUint32(8);
  const out = [];
  while (at < file.length) {
    const end = at + 17 + view.getUint32(at + 1);
    out.push({ start: at, end });
    at = end;
  }
  return out;
}

const PLAIN = new TextEncoder().encode("0123456789abcdefghijklmnopqrstuvwxyz".repeat(3));

Deno.test("sealed chunks open to the same bytes; the last is marked final", async () => {
  const header = newHeader(42, null, 16);
  const file = await seal(PLAIN, header);
  assertEquals(await open(file), PLAIN);
  const chunks = records(file);
  assertEquals(chunks.length, Math.ceil(PLAIN.length / 16));
  assertEquals(chunks.map((c) => file[c.start]), [...chunks.slice(1).map(() => 0), 1]);
  // An empty plaintext is one empty final chunk.
  assertEquals(await open(await seal(new Uint8Array(), header)), new Uint8Array());
});

Deno.test("a changed byte anywhere, a dropped, swapped or unmarked chunk, or a wrong key fail", async () => {
  const file = await seal(PLAIN, newHeader(42, null, 16));
  const chunks = records(file);
  const fails = (bytes: Uint8Array, raw = RAW_KEY) =>
    assertRejects(() => open(bytes, raw), BackupFormatError);
  for (let i = 0; i < file.length; i += 7) {
    const changed = file.slice();
    changed[i]! ^= 0x40;
    await fails(changed);
  }
  const [a, b] = [chunks[0]!, chunks[1]!];
  const cut = (end: number) => file.slice(0, end);
  await fails(cut(chunks.at(-1)!.start)); // the final chunk dropped
  await fails(cut(file.length - 1)); // truncated inside the final chunk
  const swapped = new Uint8Array(file.length);
  swapped.set(file.subarray(0, a.start));
  swapped.set(file.subarray(b.start, b.end), a.start);
  swapped.set(file.subarray(a.start, a.end), a.start + (b.end - b.start));
  swapped.set(file.subarray(b.end), b.end);
  await fails(swapped);
  const unmarked = file.slice();
  unmarked[chunks.at(-1)!.start] = 0; // the final chunk claims more follows
  await fails(unmarked);
  const early = file.slice(0, a.end);
  early[a.start] = 1; // the first chunk claims to be the last
  await fails(early);
  const extra = new Uint8Array(file.length + 1);
  extra.set(file);
  await fails(extra);
  await fails(file, new Uint8Array(32).fill(8));
  await assertRejects(
    () => open(new TextEncoder().encode("not a backup at all")),
    BackupFormatError,
  );
});

Deno.test("the wrapped key opens only with its passphrase and in its own file", async () => {
  const bound = crypto.getRandomValues(new Uint8Array(32));
  const wrapped = await wrapKeyRing("a\nb", "long enough passphrase", bound);
  assertEquals(await unwrapKeyRing(wrapped, "long enough passphrase", bound), "a\nb");
  await assertRejects(
    () => unwrapKeyRing(wrapped, "another passphrase", bound),
    WrongPassphraseError,
  );
  await assertRejects(
    () => unwrapKeyRing(wrapped, "long enough passphrase", new Uint8Array(32)),
    WrongPassphraseError,
  );
  await assertRejects(() => wrapKeyRing("a", "short", bound));
});

Deno.test("lines split at any chunk boundary, UTF-8 intact, bounded", async () => {
  const text = "first\nzweite Zeile: äöü\n\nlast without newline";
  const bytes = new TextEncoder().encode(text);
  for (let size = 1; size <= bytes.length; size++) {
    const parts = [];
    for (let i = 0; i < bytes.length; i += size) parts.push(bytes.slice(i, i + size));
    const lines = await Array.fromAsync(splitLines(ReadableStream.from(parts)));
    assertEquals(lines, text.split("\n"));
  }
  const long = ReadableStream.from([new TextEncoder().encode("x".repeat(100) + "\n")]);
  await assertRejects(() => Array.fromAsync(splitLines(long, 50)));
  assert(true);
});
