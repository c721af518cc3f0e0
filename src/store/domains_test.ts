import { assertEquals, assertNotEquals } from "../../tests/assert.ts";
import { withStore } from "../../tests/store.ts";
import { DOMAIN_CACHE_MS, Domains } from "./domains.ts";

Deno.test("domain lookups are reused for DOMAIN_CACHE_MS; changes made here are seen at once", async () => {
  await withStore(async ({ store }) => {
    let now = 1_000_000;
    const mine = new Domains(store.sql, () => now);
    const other = new Domains(store.sql, () => now); // another process, in effect
    assertEquals(await mine.find("new.example"), null);
    await other.add("new.example");
    // Not yet: the negative answer is reused.
    assertEquals(await mine.find("new.example"), null);
    now += DOMAIN_CACHE_MS + 1;
    assertNotEquals(await mine.find("New.Example"), null);
    // Through this object, a removal is seen at once.
    await mine.remove("new.example");
    assertEquals(await mine.find("new.example"), null);
    await mine.add("again.example");
    assertNotEquals(await mine.find("again.example"), null);
  });
});
