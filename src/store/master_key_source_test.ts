import { assertEquals } from "../../tests/assert.ts";
import { generateMasterKey } from "../crypto/master_key.ts";
import {
  createMasterKeyFile,
  findMasterKey,
  masterKeyPath,
  writeKeyFile,
} from "./master_key_source.ts";

Deno.test("two first starts at once end up with one master key", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const [a, b] = await Promise.all([createMasterKeyFile(dir), createMasterKeyFile(dir)]);
    assertEquals(a.keys, b.keys);
    assertEquals(a.ring.primary.id, b.ring.primary.id);
    assertEquals((await findMasterKey({}, dir))!.keys, a.keys);
    // No temporary file is left behind.
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assertEquals(names, ["master.key"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an existing master.key is kept by createMasterKeyFile", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await createMasterKeyFile(dir);
    const second = await createMasterKeyFile(dir);
    assertEquals(second.keys, first.keys);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeKeyFile replaces the file, mode 0600, without leftovers", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await createMasterKeyFile(dir);
    const path = masterKeyPath(dir);
    const other = generateMasterKey();
    await Promise.all([
      writeKeyFile(path, [other, ...first.keys]),
      writeKeyFile(path, [other, ...first.keys]),
    ]);
    const read = await findMasterKey({}, dir);
    assertEquals(read!.keys, [other, ...first.keys]);
    if (Deno.build.os !== "windows") {
      assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
    }
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assertEquals(names, ["master.key"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
