import { argon2id } from "hash-wasm";
import { assert, assertEquals, assertMatch, assertRejects } from "../../tests/assert.ts";
import { InvalidInputError } from "../util/errors.ts";
import {
  ARGON2ID_PARAMS,
  dummyVerify,
  hashPassword,
  needsRehash,
  verifyPassword,
} from "./password.ts";

// Argon2id at the current parameters costs tens of milliseconds: hash once, share the result.
const PASSWORD = "caf\u00e9 au lait, s'il vous pla\u00eet";
let shared: Promise<string> | undefined;
function sharedHash(): Promise<string> {
  shared ??= hashPassword(PASSWORD);
  return shared;
}

/** A cheap argon2id PHC string (below current parameters) made directly with hash-wasm. */
function cheapHash(password: string, parallelism = 1): Promise<string> {
  return argon2id({
    password,
    salt: new Uint8Array(16).fill(3),
    iterations: 1,
    parallelism,
    memorySize: 64,
    hashLength: 32,
    outputType: "encoded",
  });
}

Deno.test("hashPassword writes a PHC string with the current parameters", async () => {
  const phc = await sharedHash();
  assertMatch(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assertEquals(needsRehash(phc), false);
});

Deno.test("verifyPassword accepts the password, in any Unicode form, and nothing else", async () => {
  const phc = await sharedHash();
  assert(await verifyPassword(phc, PASSWORD));
  // Decomposed accents and a no-break space prepare to the same string (OpaqueString).
  assert(await verifyPassword(phc, "cafe\u0301\u00a0au lait, s'il vous plai\u0302t"));
  assertEquals(await verifyPassword(phc, "Caf\u00e9 au lait, s'il vous pla\u00eet"), false);
});

Deno.test("hashPassword salts every hash afresh", async () => {
  const again = await hashPassword(PASSWORD);
  assert(again !== await sharedHash(), "two hashes of one password are equal");
});

Deno.test("hashPassword refuses passwords OpaqueString refuses", async () => {
  await assertRejects(() => hashPassword(""), InvalidInputError);
  await assertRejects(() => hashPassword("tab\there"), InvalidInputError);
});

Deno.test("verifyPassword is false, never an exception, for malformed hashes", async () => {
  const phc = await sharedHash();
  const [, , , , salt = "", tag = ""] = phc.split("$");
  const malformed = [
    "",
    "garbage",
    "$2b$12$abcdefghijklmnopqrstuv",
    phc.replace("$argon2id$", "$argon2i$"),
    phc.replace("$argon2id$", "$argon2d$"),
    phc.replace("$v=19$", "$v=16$"),
    phc.replace("$v=19$", "$"),
    phc.replace("m=19456,t=2,p=1", "t=2,m=19456,p=1"),
    phc.replace("m=19456", "m=99999999"), // 95 GiB: refused before any allocation
    phc.replace("m=19456", "m=7"), // below 8 KiB per lane
    phc.replace("p=1", "p=0"),
    phc.replace("p=1", "p=999"),
    phc.replace("t=2", "t=0"),
    phc.replace("t=2", "t=999"),
    phc.replace(salt, "c2FsdA"), // 4-byte salt
    phc.replace(salt, `${salt}AAA`), // length ≡ 1 (mod 4)
    phc.replace(salt, `${salt}==`), // padding is not PHC
    phc.replace(tag, tag.slice(0, 4)), // 3-byte tag
    phc.slice(0, -1) + (phc.endsWith("B") ? "C" : "B"), // non-canonical trailing bits
    `${phc}\n`,
    ` ${phc}`,
    `${phc}$extra`,
  ];
  for (const bad of malformed) {
    assertEquals(await verifyPassword(bad, PASSWORD), false, JSON.stringify(bad));
    assertEquals(needsRehash(bad), true, JSON.stringify(bad));
  }
});

Deno.test("verifyPassword is false for a password that cannot be prepared", async () => {
  const phc = await sharedHash();
  assertEquals(await verifyPassword(phc, ""), false);
  assertEquals(await verifyPassword(phc, `${PASSWORD}\u0000`), false);
});

Deno.test("verifyPassword checks older, cheaper hashes, which then need a rehash", async () => {
  for (const parallelism of [1, 2]) {
    const old = await cheapHash("hunter2 hunter2", parallelism);
    assert(await verifyPassword(old, "hunter2 hunter2"));
    assertEquals(await verifyPassword(old, "hunter3 hunter3"), false);
    assert(needsRehash(old));
  }
});

Deno.test("needsRehash compares each parameter with the current ones", async () => {
  const phc = await sharedHash();
  assertEquals(needsRehash(phc), false);
  assert(needsRehash(phc.replace("m=19456", "m=19455")));
  assert(needsRehash(phc.replace("t=2", "t=1")));
  assertEquals(needsRehash(phc.replace("m=19456", "m=65536")), false);
  assertEquals(needsRehash(phc.replace("t=2", "t=3")), false);
  assertEquals(needsRehash(phc.replace("p=1", "p=4")), false);
  const [, , , , salt = "", tag = ""] = phc.split("$");
  assert(needsRehash(phc.replace(salt, salt.slice(0, 11)))); // 8-byte salt
  assert(needsRehash(phc.replace(tag, tag.slice(0, 22)))); // 16-byte tag
  assertEquals(ARGON2ID_PARAMS.memorySize >= 19456, true);
});

Deno.test("dummyVerify answers false and takes about as long as a real verification", async () => {
  const phc = await sharedHash();
  const t0 = performance.now();
  assert(await verifyPassword(phc, PASSWORD));
  const real = performance.now() - t0;
  const t1 = performance.now();
  assertEquals(await dummyVerify(PASSWORD), false);
  const dummy = performance.now() - t1;
  // Generous bounds: the point is that Argon2id ran at the current cost, not a benchmark.
  assert(dummy > real / 3 && dummy < real * 3, `real ${real} ms, dummy ${dummy} ms`);
  assertEquals(await dummyVerify(""), false);
});
