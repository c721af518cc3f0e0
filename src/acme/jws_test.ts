import { assert, assertEquals, assertMatch, assertRejects } from "../../tests/assert.ts";
import { decodeBase64 } from "../util/base64.ts";
import {
  base64url,
  generateAccountKey,
  importAccountKey,
  jwkThumbprint,
  keyAuthorization,
  signJws,
} from "./jws.ts";

function fromBase64url(text: string): Uint8Array {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/");
  return decodeBase64(padded + "=".repeat((4 - padded.length % 4) % 4))!;
}

function json(text: string): unknown {
  return JSON.parse(new TextDecoder().decode(fromBase64url(text)));
}

Deno.test("base64url: RFC 4648 §10 vectors, URL alphabet, no padding", () => {
  const cases: [string, string][] = [
    ["", ""],
    ["f", "Zg"],
    ["fo", "Zm8"],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg"],
    ["fooba", "Zm9vYmE"],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [input, output] of cases) {
    assertEquals(base64url(new TextEncoder().encode(input)), output);
  }
  assertEquals(base64url(new Uint8Array([0xfb, 0xff, 0xbf])), "-_-_");
});

Deno.test("JWK thumbprint: SHA-256 over crv, kty, x, y in that order (RFC 7638 §3.2)", async () => {
  const jwk = { kty: "EC", crv: "P-256", x: "abc", y: "def" } as const;
  const canonical = '{"crv":"P-256","kty":"EC","x":"abc","y":"def"}';
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  assertEquals(await jwkThumbprint(jwk), base64url(new Uint8Array(digest)));
  assertMatch(await jwkThumbprint(jwk), /^[A-Za-z0-9_-]{43}$/);
});

Deno.test("an account key round-trips through PKCS#8 and signs verifiable ES256 JWS", async () => {
  const pkcs8 = await generateAccountKey();
  const key = await importAccountKey(pkcs8);
  const again = await importAccountKey(pkcs8);
  assertEquals(again.jwk, key.jwk);
  assertEquals(again.thumbprint, key.thumbprint);
  assertEquals(Object.keys(key.jwk).sort(), ["crv", "kty", "x", "y"], "no private member");
  assertEquals(key.privateKey.extractable, false);
  assertEquals(keyAuthorization("tok_en-123", key), `tok_en-123.${key.thumbprint}`);

  const verifyKey = await crypto.subtle.importKey(
    "jwk",
    { ...key.jwk },
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  const verify = (jws: { protected: string; payload: string; signature: string }) =>
    crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      verifyKey,
      fromBase64url(jws.signature) as Uint8Array<ArrayBuffer>,
      new TextEncoder().encode(`${jws.protected}.${jws.payload}`),
    );

  // newAccount: the key itself in "jwk" (RFC 8555 §6.2).
  const url = "https://ca.example/acme/new-account";
  const withJwk = await signJws(key, { url, nonce: "n1" }, { termsOfServiceAgreed: true });
  assertEquals(json(withJwk.protected), { alg: "ES256", jwk: key.jwk, nonce: "n1", url });
  assertEquals(json(withJwk.payload), { termsOfServiceAgreed: true });
  assertEquals(fromBase64url(withJwk.signature).length, 64, "R || S");
  assert(await verify(withJwk));

  // Everything else: the account URL in "kid"; POST-as-GET has an empty payload (§6.3).
  const kid = "https://ca.example/acme/acct/1";
  const asGet = await signJws(key, { url: kid, nonce: "n2", kid }, null);
  assertEquals(json(asGet.protected), { alg: "ES256", kid, nonce: "n2", url: kid });
  assertEquals(asGet.payload, "");
  assert(await verify(asGet));

  // A tampered payload does not verify.
  assertEquals(
    await verify({ ...asGet, payload: base64url(new TextEncoder().encode("{}")) }),
    false,
  );
});

Deno.test("importAccountKey refuses keys that are not ECDSA P-256", async () => {
  const rsa = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", rsa.privateKey));
  await assertRejects(() => importAccountKey(pkcs8));
});
