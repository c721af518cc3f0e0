import { assertEquals, assertNotEquals } from "../../tests/assert.ts";
import { withStore } from "../../tests/store.ts";

Deno.test("a secret is created once, then the same for every caller; names are separate", async () => {
  await withStore(async ({ store, masterKey, reopen }) => {
    const first = await store.secrets.get("scram-stand-in");
    assertEquals(first.length, 32);
    const [again, other] = await Promise.all([
      store.secrets.get("scram-stand-in"),
      store.secrets.get("another"),
    ]);
    assertEquals(again, first);
    assertNotEquals(other, first);
    // Another process on the same database (here: services opened again) sees the same value.
    const restarted = await reopen(masterKey);
    assertEquals(await restarted.secrets.get("scram-stand-in"), first);
    const [row] = await store.sql<{ value: Uint8Array }[]>`
      select value from server_secrets where name = 'scram-stand-in'`;
    assertEquals(row!.value.length > 32, true, "stored sealed, not as the plain value");
  });
});
