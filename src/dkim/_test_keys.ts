/**
 * Fixed DKIM keys for tests: an RSA-2048 key made once with `openssl genpkey`, and the Ed25519
 * key of RFC 8463 Appendix A.2 (selector "brisbane" of football.example.com there).
 *
 * @module
 */

import type { DkimAlgorithm, DkimSigningKey } from "../crypto/dkim_keys.ts";
import { decodeBase64 } from "../util/base64.ts";

/** PKCS#8 DER, base64. */
const RSA_PKCS8 = [
  "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQD8lgKuG+owg0NAZOGydTDysi41",
  "XaRmgQwtvX9piqssqcnnaSLhDUa2mfO8SPgrLD+QH36yGuy23sw90XztpU/GoaSaN8UCMG5MsSt1",
  "k0cpWy0fOnrxZfInUf+jxvwfKZ4dHbtRb1kR4fazl6KzLCbnJt8Dh4jpyP02OuqrYFnL2TQ/LjkI",
  "olMzoyziYIquLMdT1ukW5Ge6MbHGZkM9mznEfKZ25VzeWEbXSc3s7nD2/Pokygho+JcnYisJC9Sf",
  "7HwJlIZhtHyYVlAYh9cU2enTjjJbmxY452OFQjsywx3eKu+MHy9Br+ij5ixCAddi7GtcSDa5Gx4O",
  "5aEKXzKe2JLjAgMBAAECggEAb1+v79ikM171rPOupzNQcXtKr8JKJt6ZIaQQhdecsbVuLyknNYfW",
  "mdaZZ/je4J6CqoiQo3UG0n28Hjf8d4cwfXux6kRUDKqRQCTQ7meR9bTb2Qy+wCl9FIRuDefELPN7",
  "YghFm9tWsXFrB/aBSbLatornxBUjtD4pFJv29Lkn7x9HT4ui9s/LIugcdY7f+EO1CYHz2FlFozkA",
  "QZj7ytSWZ7oMzjMSD18r5H1lSyUNq0HHFGKbMEtVjpR+k/dJOKFFE6FaeOHL6KwLWFEcAWOoTl7V",
  "L7WXExWSA+rNt7VO2E5Gf2BbEQbSk2KBpLSHxfB/6XsGOuhpS8Cy5vLWtxtA0QKBgQD+cWI5/Q+I",
  "JbD/CELjw119BDCl46mK2R7qot3ryiOQA0R76eetBKGz4cXgWD1YiWKcY0/DbQtGwqypm18zb1jf",
  "4FSWur2AALa/7P57XCyGTTkbS4MvizA0ZZ9jEj+xww57CeUy62MarEFq5SicazLflifSAPK27fNI",
  "1oYMn75vcQKBgQD+Ibe4/C3FbWO70HlxeGL6jXVFCSGkQxP/BRUaAwXDHXDgTDT6OK2zFHmB6fJd",
  "cM0w8QxaH08qk1U66FKSpy36mQ3Y1qU60mcJ79UZWJsEoweQvCqIhAvkWIHllWScTmBkLQysRXyf",
  "vWMBHASBmZVSwhwOHYmtGWhkdR91xXdlkwKBgCV1K7C9wHuakOP6o15EdI7i/wZs7ZizPgns0B7W",
  "M0YQNRTI6oJeHDAPHMJaOy29i/bZ5/QtKWvRXPnbFbjMu5i5vboy45LkiALZMN2YRDXBSJbsFvP4",
  "2a/dBgnfteDFhmw2mLdWT9CtazQBaGkenu6rfFE+Mn0bqqUeb72MBs0BAoGAKcBCXdrYbjoVi5Kp",
  "kRHVORKqdIgWhdUbYOdl2xsqBC8/DyqV/ZH4P5aai9RypBVXMLY5cEj6iaUg+IeYoU1kCWrB0qEZ",
  "Djvo/8HuQbbD6RQbtxSi7EC9b2t3E8/icqeRwIOCNH9KBThpHpKKzvv7g1guoccKimzFMNPpMkEZ",
  "548CgYA5OyCKxbYHvswW84VsMl97DOXVGApRAR7reFBJEa/z81sfaiOkObp9k2kvsaO1cN7ICWbS",
  "OjMfm415K2va0Zr5QxUH+BiROjgetkV/1NKtr0bLFNj20u9W/NaKvJRbD1Vcbfzhl5JzL3FDI/Ei",
  "wUo7piJ/hVbwcuuaZ/h6A7k9Ag==",
].join("");

/** RFC 8463 Appendix A.2: the Ed25519 private key (seed), base64. */
const ED25519_SEED = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
/** RFC 8463 Appendix A.2: its public key as published in `p=`. */
export const RFC8463_ED25519_PUBLIC = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
/** PKCS#8 of an Ed25519 key is this prefix and the 32-byte seed (RFC 8410 §7). */
const ED25519_PKCS8_PREFIX = "MC4CAQAwBQYDK2VwBCIEIA==";

/** A test key: the signing key and the public key as its DNS record publishes it. */
export interface TestKey {
  readonly signing: DkimSigningKey;
  readonly publicKey: Uint8Array;
  readonly pkcs8: Uint8Array;
}

function pkcs8Of(algorithm: DkimAlgorithm): Uint8Array {
  if (algorithm === "rsa-sha256") return decodeBase64(RSA_PKCS8)!;
  const prefix = decodeBase64(ED25519_PKCS8_PREFIX)!.subarray(0, 16);
  const seed = decodeBase64(ED25519_SEED)!;
  const out = new Uint8Array(48);
  out.set(prefix);
  out.set(seed, 16);
  return out;
}

/** The fixed key of `algorithm` for `domain` and `selector`. */
export async function testKey(
  algorithm: DkimAlgorithm,
  domain: string,
  selector: string,
): Promise<TestKey> {
  const pkcs8 = pkcs8Of(algorithm);
  const params = algorithm === "rsa-sha256"
    ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
    : { name: "Ed25519" };
  const extractable = await crypto.subtle.importKey(
    "pkcs8",
    pkcs8 as Uint8Array<ArrayBuffer>,
    params,
    true,
    ["sign"],
  );
  const jwk = await crypto.subtle.exportKey("jwk", extractable);
  const publicJwk: JsonWebKey = algorithm === "rsa-sha256"
    ? { kty: "RSA", n: jwk.n!, e: jwk.e! }
    : { kty: "OKP", crv: "Ed25519", x: jwk.x! };
  const publicKey = await crypto.subtle.importKey("jwk", publicJwk, params, true, ["verify"]);
  const published = new Uint8Array(
    await crypto.subtle.exportKey(algorithm === "rsa-sha256" ? "spki" : "raw", publicKey),
  );
  const privateKey = await crypto.subtle.importKey(
    "pkcs8",
    pkcs8 as Uint8Array<ArrayBuffer>,
    params,
    false,
    ["sign"],
  );
  return { signing: { domain, selector, algorithm, privateKey }, publicKey: published, pkcs8 };
}
