import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import {
  DecryptError,
  importAesKey,
  keyIdOf,
  MIN_ENVELOPE_LENGTH,
  open,
  type Placement,
  seal,
} from "./envelope.ts";

const here: Placement = { table: "messages", column: "raw", row: 42n };
const text = new TextEncoder().encode("Subject: hello\r\n\r\nsecret body");

async function newKey(): Promise<CryptoKey> {
  return await importAesKey(crypto.getRandomValues(new Uint8Array(32)));
}

Deno.test("seal and open round-trip, carrying the key id", async () => {
  const key = await newKey();
  const sealed = await seal(key, 0xdeadbeef, text, here);
  assertEquals(sealed[0], 1);
  assertEquals(keyIdOf(sealed), 0xdeadbeef);
  assertEquals(sealed.length, MIN_ENVELOPE_LENGTH + text.length);
  assertEquals(await open(key, sealed, here), text);
});

Deno.test("two seals of one plaintext differ (random nonce)", async () => {
  const key = await newKey();
  const a = await seal(key, 1, text, here);
  const b = await seal(key, 1, text, here);
  assert(a.some((byte, i) => byte !== b[i]));
});

Deno.test("every flipped bit is detected", async () => {
  const key = await newKey();
  const sealed = await seal(key, 7, text, here);
  for (let i = 0; i < sealed.length; i++) {
    const bad = sealed.slice();
    bad[i] = bad[i]! ^ 0x01;
    await assertRejects(() => open(key, bad, here), DecryptError);
  }
});

Deno.test("truncated ciphertexts are refused", async () => {
  const key = await newKey();
  const sealed = await seal(key, 7, text, here);
  for (const length of [0, 1, 5, 16, MIN_ENVELOPE_LENGTH - 1, sealed.length - 1]) {
    await assertRejects(() => open(key, sealed.subarray(0, length), here), DecryptError);
  }
});

Deno.test("a ciphertext moved to another row, column or table fails", async () => {
  const key = await newKey();
  const sealed = await seal(key, 7, text, here);
  for (
    const elsewhere of [
      { ...here, row: 43n },
      { ...here, column: "envelope" },
      { ...here, table: "queue" },
      // The separator cannot be used to make two placements collide.
      { table: "messages.raw", column: "", row: 42n },
    ]
  ) {
    await assertRejects(() => open(key, sealed, elsewhere), DecryptError);
  }
});

Deno.test("the wrong key fails", async () => {
  const sealed = await seal(await newKey(), 7, text, here);
  await assertRejects(async () => open(await newKey(), sealed, here), DecryptError);
});

Deno.test("key ids and key sizes are checked", async () => {
  const key = await newKey();
  await assertRejects(() => seal(key, -1, text, here));
  await assertRejects(() => seal(key, 2 ** 32, text, here));
  assertThrows(() => importAesKey(new Uint8Array(16)));
  assertThrows(() => keyIdOf(new Uint8Array(40)), DecryptError); // version 0
});
