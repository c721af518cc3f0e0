import { assertEquals } from "../../../tests/assert.ts";
import { UserConnections } from "./user_connections.ts";

Deno.test("UserConnections: per account and address, up to the limit; counting out once", () => {
  const counts = new UserConnections(2);
  const first = counts.take(1, "192.0.2.1")!;
  const second = counts.take(1, "192.0.2.1")!;
  assertEquals(counts.take(1, "192.0.2.1"), null);
  // Another address, another account: counted apart.
  assertEquals(typeof counts.take(1, "192.0.2.2"), "function");
  assertEquals(typeof counts.take(2, "192.0.2.1"), "function");
  first();
  first(); // a second call counts nothing out
  assertEquals(counts.count(1, "192.0.2.1"), 1);
  second();
  assertEquals(counts.count(1, "192.0.2.1"), 0);
});
