import { assertEquals } from "../../../tests/assert.ts";
import { withStore } from "../../../tests/store.ts";
import { services } from "./_test_support.ts";
import { SASL_MECHANISMS } from "./mod.ts";

Deno.test("Sasl.create makes each offered mechanism, by name in any case, and nothing else", async () => {
  await withStore(({ store }) => {
    const { sasl } = services(store);
    const context = { protocol: "imap", ip: "2001:db8::1" };
    assertEquals([...SASL_MECHANISMS], ["SCRAM-SHA-256", "PLAIN", "LOGIN"]);
    for (const name of SASL_MECHANISMS) {
      assertEquals(sasl.create(name, context)?.name, name);
      assertEquals(sasl.create(name.toLowerCase(), context)?.name, name);
    }
    for (const name of ["CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256-PLUS", "XOAUTH2", ""]) {
      assertEquals(sasl.create(name, context), null, name);
    }
    const a = sasl.create("PLAIN", context);
    const b = sasl.create("PLAIN", context);
    assertEquals(a === b, false, "one mechanism object per exchange");
    return Promise.resolve();
  });
});
