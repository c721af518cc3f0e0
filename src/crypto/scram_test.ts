import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/assert.ts";
import { InvalidInputError } from "../util/errors.ts";
import {
  computeServerSignature,
  deriveScramCredentials,
  formatScram,
  parseScram,
  SCRAM_DEFAULT_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
  SCRAM_SALT_LENGTH,
  type ScramCredentials,
  verifyClientProof,
} from "./scram.ts";

// RFC 7677 §3: the SCRAM-SHA-256 exchange for user "user", password "pencil".
const RFC = {
  password: "pencil",
  clientFirstBare: "n=user,r=rOprNGfwEbeRWgbNEkqO",
  serverFirst:
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
  clientFinalWithoutProof: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
  salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
  iterations: 4096,
  proof: "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
  serverSignature: "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
} as const;

// RFC 5802 §3: AuthMessage := client-first-message-bare + "," + server-first-message + "," +
// client-final-message-without-proof.
const AUTH_MESSAGE = `${RFC.clientFirstBare},${RFC.serverFirst},${RFC.clientFinalWithoutProof}`;

let rfcCreds: Promise<ScramCredentials> | undefined;
function rfcCredentials(): Promise<ScramCredentials> {
  rfcCreds ??= deriveScramCredentials(RFC.password, {
    iterations: RFC.iterations,
    salt: Uint8Array.fromBase64(RFC.salt),
  });
  return rfcCreds;
}

Deno.test("RFC 7677 §3: the RFC's client proof verifies against the derived StoredKey", async () => {
  const creds = await rfcCredentials();
  assert(await verifyClientProof(creds.storedKey, AUTH_MESSAGE, Uint8Array.fromBase64(RFC.proof)));
});

Deno.test("RFC 7677 §3: the server signature equals the RFC's v= value", async () => {
  const creds = await rfcCredentials();
  const signature = await computeServerSignature(creds.serverKey, AUTH_MESSAGE);
  assertEquals(signature.toBase64(), RFC.serverSignature);
  const asBytes = await computeServerSignature(
    creds.serverKey,
    new TextEncoder().encode(AUTH_MESSAGE),
  );
  assertEquals(asBytes.toBase64(), RFC.serverSignature);
});

Deno.test("verifyClientProof rejects a tampered proof, another message, or a wrong length", async () => {
  const creds = await rfcCredentials();
  const proof = Uint8Array.fromBase64(RFC.proof);
  const tampered = proof.slice();
  tampered[0] = (tampered[0] ?? 0) ^ 1;
  assertEquals(await verifyClientProof(creds.storedKey, AUTH_MESSAGE, tampered), false);
  assertEquals(await verifyClientProof(creds.storedKey, `${AUTH_MESSAGE}x`, proof), false);
  assertEquals(await verifyClientProof(creds.storedKey, AUTH_MESSAGE, proof.slice(1)), false);
  assertEquals(await verifyClientProof(creds.storedKey, AUTH_MESSAGE, new Uint8Array(0)), false);
  assertEquals(await verifyClientProof(creds.storedKey.slice(1), AUTH_MESSAGE, proof), false);
});

Deno.test("formatScram and parseScram round-trip the RFC credentials", async () => {
  const creds = await rfcCredentials();
  const text = formatScram(creds);
  assert(text.startsWith(`SCRAM-SHA-256$4096:${RFC.salt}$`), text);
  assertEquals(parseScram(text), {
    iterations: creds.iterations,
    salt: creds.salt,
    storedKey: creds.storedKey,
    serverKey: creds.serverKey,
  });
  assertEquals(formatScram(parseScram(text)), text);
});

Deno.test("deriveScramCredentials defaults: 10000 iterations, 16 random bytes of salt", async () => {
  const a = await deriveScramCredentials("correct horse");
  const b = await deriveScramCredentials("correct horse");
  assertEquals(a.iterations, SCRAM_DEFAULT_ITERATIONS);
  assertEquals(a.salt.length, SCRAM_SALT_LENGTH);
  assertEquals(a.storedKey.length, 32);
  assertEquals(a.serverKey.length, 32);
  assert(a.salt.toBase64() !== b.salt.toBase64(), "salts repeat");
  assert(a.storedKey.toBase64() !== b.storedKey.toBase64(), "keys repeat across salts");
});

Deno.test("deriveScramCredentials prepares the password with OpaqueString", async () => {
  const salt = new Uint8Array(16).fill(7);
  const options = { iterations: SCRAM_MIN_ITERATIONS, salt };
  const nfc = await deriveScramCredentials("caf\u00e9\u00a0au lait", options);
  const nfd = await deriveScramCredentials("cafe\u0301 au lait", options);
  assertEquals(formatScram(nfd), formatScram(nfc));
  await assertRejects(() => deriveScramCredentials("", options), InvalidInputError);
  await assertRejects(() => deriveScramCredentials("a\u0000b", options), InvalidInputError);
});

Deno.test("deriveScramCredentials refuses fewer than 4096 iterations and empty salts", async () => {
  for (const iterations of [0, 1, 4095, 4096.5, Number.NaN, -4096]) {
    await assertRejects(
      () => deriveScramCredentials("pencil", { iterations }),
      InvalidInputError,
      "iteration count",
    );
  }
  await assertRejects(
    () => deriveScramCredentials("pencil", { salt: new Uint8Array(0) }),
    InvalidInputError,
    "salt",
  );
});

Deno.test("parseScram rejects malformed text without echoing the keys", () => {
  const key = new Uint8Array(32).fill(1).toBase64();
  const salt = RFC.salt;
  const bad: ReadonlyArray<readonly [string, string]> = [
    ["", "not a SCRAM-SHA-256 credential"],
    ["$argon2id$v=19$m=19456,t=2,p=1$abc$def", "not a SCRAM-SHA-256 credential"],
    ["SCRAM-SHA-1$4096:" + salt + "$" + key + ":" + key, "not a SCRAM-SHA-256 credential"],
    ["SCRAM-SHA-256$4096:" + salt + "$" + key, "not of the form"],
    ["SCRAM-SHA-256$4096:" + salt + "$" + key + ":" + key + " ", "not of the form"],
    ["SCRAM-SHA-256$4095:" + salt + "$" + key + ":" + key, "below the minimum"],
    ["SCRAM-SHA-256$1:" + salt + "$" + key + ":" + key, "below the minimum"],
    ["SCRAM-SHA-256$9999999999:" + salt + "$" + key + ":" + key, "too large"],
    ["SCRAM-SHA-256$-4096:" + salt + "$" + key + ":" + key, "not of the form"],
    ["SCRAM-SHA-256$4096:" + salt + "$" + key.slice(0, -4) + ":" + key, "32 bytes"],
    ["SCRAM-SHA-256$4096:" + salt + "$" + key + ":" + new Uint8Array(33).toBase64(), "32 bytes"],
    ["SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ$" + key + ":" + key, "salt is not valid base64"],
    ["SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gR==$" + key + ":" + key, "not valid base64"],
    ["SCRAM-SHA-256$4096:A$" + key + ":" + key, "not valid base64"],
  ];
  for (const [text, fragment] of bad) {
    const error = assertThrows(() => parseScram(text), InvalidInputError, fragment);
    assert(!error.message.includes(key), `message echoes a key: ${error.message}`);
  }
});
