import { assert, assertEquals, assertNotEquals, assertRejects } from "../../tests/assert.ts";
import { ConfigError } from "../util/errors.ts";
import {
  generateMasterKey,
  makeCheckValue,
  parseMasterKeyRing,
  verifyCheckValue,
} from "./master_key.ts";

Deno.test("a ring keeps its order, the first key is primary, duplicates drop", async () => {
  const a = generateMasterKey();
  const b = generateMasterKey();
  const ring = await parseMasterKeyRing(`${a}\n${b}, ${a}\n`, "test");
  assertEquals(ring.keys.length, 2);
  assertEquals(ring.primary, ring.keys[0]);
  assertNotEquals(ring.keys[0]!.id, ring.keys[1]!.id);
  assertEquals(ring.byId(ring.keys[1]!.id), ring.keys[1]);
  assertEquals(ring.byId(12345), undefined);
});

Deno.test("a key's id depends only on the key", async () => {
  const a = generateMasterKey();
  const one = await parseMasterKeyRing(a, "one");
  const two = await parseMasterKeyRing(`${generateMasterKey()},${a}`, "two");
  assertEquals(one.primary.id, two.keys[1]!.id);
});

Deno.test("bad rings name the source and never echo the key", async () => {
  const short = btoa("too short");
  const error = await assertRejects(
    () => parseMasterKeyRing(short, "FUMI_MASTER_KEY"),
    ConfigError,
  );
  assert(error.message.startsWith("FUMI_MASTER_KEY: key 1 is not 32 bytes"));
  assert(!error.message.includes(short));
  await assertRejects(() => parseMasterKeyRing(" \n", "master.key"), ConfigError);
  await assertRejects(() => parseMasterKeyRing("not base64!", "x"), ConfigError);
});

Deno.test("the check value tells the right key from a wrong one", async () => {
  const right = (await parseMasterKeyRing(generateMasterKey(), "right")).primary;
  const wrong = (await parseMasterKeyRing(generateMasterKey(), "wrong")).primary;
  const check = await makeCheckValue(right);
  assert(await verifyCheckValue(right, check));
  assert(!(await verifyCheckValue({ id: right.id, key: wrong.key }, check)));
  assert(!(await verifyCheckValue(right, check.subarray(1))));
});
