import { assertEquals } from "../../tests/assert.ts";
import { FakeResolver } from "./fake.ts";
import { lookupAddresses, lookupPtr } from "./helpers.ts";

const resolver = new FakeResolver([
  { type: "A", name: "both.example", ttl: 60, address: "192.0.2.1" },
  { type: "AAAA", name: "both.example", ttl: 60, address: "2001:db8::1" },
  { type: "TXT", name: "none.example", ttl: 60, strings: [], text: "" },
  { type: "PTR", name: "1.2.0.192.in-addr.arpa", ttl: 60, target: "both.example" },
], { failing: ["down.example"] });

Deno.test("lookupAddresses: IPv6 first; NXDOMAIN, no address and failure told apart", async () => {
  assertEquals(await lookupAddresses(resolver, "Both.Example."), {
    addresses: ["2001:db8::1", "192.0.2.1"],
    nxdomain: false,
  });
  assertEquals(await lookupAddresses(resolver, "none.example"), { addresses: [], nxdomain: false });
  assertEquals(await lookupAddresses(resolver, "nosuch.example"), {
    addresses: [],
    nxdomain: true,
  });
  const down = await lookupAddresses(resolver, "down.example");
  assertEquals(down.addresses, []);
  assertEquals(typeof down.temporaryError, "string");
});

Deno.test("lookupPtr: the reverse name of an address; null for a non-address", async () => {
  const ptr = await lookupPtr(resolver, "192.0.2.1");
  assertEquals(ptr?.records.map((r) => r.target), ["both.example"]);
  assertEquals(lookupPtr(resolver, "not-an-ip"), null);
});
