import { assert, assertEquals } from "../../tests/assert.ts";
import { generatePassword } from "./random_password.ts";

Deno.test("generated passwords are long, unambiguous and different", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const password = generatePassword();
    assertEquals(password.length, 20);
    assert(!/[l1O0Io]/.test(password), password);
    seen.add(password);
  }
  assertEquals(seen.size, 200);
});
