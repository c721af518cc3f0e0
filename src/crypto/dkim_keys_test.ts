import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { generateDkimKeyPair, importDkimPrivateKey, importDkimPublicKey } from "./dkim_keys.ts";

Deno.test("generated DKIM key pairs sign and verify; private keys import non-extractable", async () => {
  const data = new TextEncoder().encode("data");
  for (
    const [algorithm, name, publicLength] of [
      ["rsa-sha256", "RSASSA-PKCS1-v1_5", 294], // SPKI of a 2048-bit key
      ["ed25519-sha256", "Ed25519", 32],
    ] as const
  ) {
    const pair = await generateDkimKeyPair(algorithm);
    assertEquals(pair.publicKey.length, publicLength);
    const privateKey = await importDkimPrivateKey(algorithm, pair.privateKey);
    assertEquals(privateKey.extractable, false);
    assertEquals(privateKey.usages, ["sign"]);
    const signature = await crypto.subtle.sign(name, privateKey, data);
    const publicKey = await importDkimPublicKey(algorithm, pair.publicKey);
    assertEquals(await crypto.subtle.verify(name, publicKey, signature, data), true);
  }
  await assertRejects(
    () => importDkimPrivateKey("ed25519-sha256", new Uint8Array(8)),
    Error,
    "Cannot import",
  );
});
