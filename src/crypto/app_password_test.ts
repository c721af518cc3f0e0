import { assert, assertEquals, assertMatch, assertNotEquals } from "../../tests/assert.ts";
import { APP_PASSWORD_LETTERS, appPasswordDigest, generateAppPassword } from "./app_password.ts";

Deno.test("app passwords: seven groups of four random letters, each one new", () => {
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  for (let i = 0; i < 500; i++) {
    const password = generateAppPassword();
    assertMatch(password, /^[a-z]{4}(-[a-z]{4}){6}$/);
    seen.add(password);
    for (const letter of password.replaceAll("-", "")) {
      counts.set(letter, (counts.get(letter) ?? 0) + 1);
    }
  }
  assertEquals(seen.size, 500);
  assertEquals(APP_PASSWORD_LETTERS, 28);
  // 14,000 letters: every letter turns up, none wildly often (expected 538 each).
  assertEquals(counts.size, 26);
  for (const [letter, n] of counts) assert(n > 350 && n < 750, `${letter}: ${n}`);
});

Deno.test("app passwords: the digest ignores hyphens, spaces and case, and nothing else", async () => {
  const password = "abcd-efgh-ijkl-mnop-qrst-uvwx-yzab";
  const digest = await appPasswordDigest(password);
  assertEquals(digest.length, 32);
  for (const typed of ["abcdefghijklmnopqrstuvwxyzab", "ABCD EFGH IJKL MNOP QRST UVWX YZAB"]) {
    assertEquals(await appPasswordDigest(typed), digest);
  }
  assertNotEquals(await appPasswordDigest("abcd-efgh-ijkl-mnop-qrst-uvwx-yzac"), digest);
  // Domain-separated: not the plain SHA-256 of the letters.
  const plain = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode("abcdefghijklmnopqrstuvwxyzab")),
  );
  assertNotEquals(digest, plain);
});
