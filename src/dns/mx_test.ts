import { assertEquals } from "../../tests/assert.ts";
import { FakeResolver } from "./fake.ts";
import type { DnsRecord } from "./message.ts";
import { mxHosts } from "./mx.ts";

const mx = (name: string, preference: number, exchange: string): DnsRecord => ({
  type: "MX",
  name,
  ttl: 300,
  preference,
  exchange,
});
const a = (name: string, address: string): DnsRecord => ({ type: "A", name, ttl: 300, address });
const aaaa = (name: string, address: string): DnsRecord => ({
  type: "AAAA",
  name,
  ttl: 300,
  address,
});

const WORLD: DnsRecord[] = [
  mx("example.test", 20, "c.example.test"),
  mx("example.test", 10, "a.example.test"),
  mx("example.test", 10, "b.example.test"),
  a("a.example.test", "192.0.2.1"),
  aaaa("a.example.test", "2001:db8::1"),
  a("b.example.test", "192.0.2.2"),
  a("c.example.test", "192.0.2.3"),
  a("implicit.test", "192.0.2.10"),
  mx("null.test", 0, ""),
  mx("mixed.test", 0, ""),
  mx("mixed.test", 10, "a.example.test"),
  { type: "TXT", name: "nomail.test", ttl: 300, strings: [], text: "" },
  mx("flaky.test", 10, "down.test"),
  mx("flaky.test", 20, "a.example.test"),
];

function resolver() {
  return new FakeResolver(WORLD, { failing: ["down.test", "broken.test"] });
}

Deno.test("mx: sorted by preference; equals shuffled by the random source", async () => {
  const order = async (random: () => number) => {
    const result = await mxHosts(resolver(), "Example.Test.", { random });
    return result.status === "ok" ? result.hosts.map((h) => h.host) : [];
  };
  const sequence = (...values: number[]) => () => values.shift() ?? 0.999;
  assertEquals(await order(() => 0.999), ["a.example.test", "b.example.test", "c.example.test"]);
  assertEquals(await order(sequence(0)), ["b.example.test", "a.example.test", "c.example.test"]);
  // With Math.random, both orders of the equals come up, and the 20 is always last.
  const seen = new Set<string>();
  for (let i = 0; i < 64; i++) {
    const hosts = await order(Math.random);
    assertEquals(hosts[2], "c.example.test");
    seen.add(hosts.join(" "));
  }
  assertEquals(seen.size, 2);
  const result = await mxHosts(resolver(), "example.test", { random: () => 0.999 });
  assertEquals(result, {
    status: "ok",
    implicit: false,
    hosts: [
      { host: "a.example.test", preference: 10, addresses: ["2001:db8::1", "192.0.2.1"] },
      { host: "b.example.test", preference: 10, addresses: ["192.0.2.2"] },
      { host: "c.example.test", preference: 20, addresses: ["192.0.2.3"] },
    ],
  });
});

Deno.test("mx: no MX but an address is the implicit MX (RFC 5321 §5.1)", async () => {
  assertEquals(await mxHosts(resolver(), "implicit.test"), {
    status: "ok",
    implicit: true,
    hosts: [{ host: "implicit.test", preference: 0, addresses: ["192.0.2.10"] }],
  });
});

Deno.test("mx: a lone '.' is a null MX (RFC 7505); beside other MX records it is skipped", async () => {
  assertEquals(await mxHosts(resolver(), "null.test"), { status: "null-mx" });
  const mixed = await mxHosts(resolver(), "mixed.test");
  assertEquals(mixed.status === "ok" && mixed.hosts.map((h) => h.host), ["a.example.test"]);
});

Deno.test("mx: NXDOMAIN and 'no MX, no address' are permanent; a failed MX lookup is temporary", async () => {
  assertEquals((await mxHosts(resolver(), "nosuch.test")).status, "no-domain");
  assertEquals((await mxHosts(resolver(), "nomail.test")).status, "no-mail-host");
  const broken = await mxHosts(resolver(), "broken.test");
  assertEquals(broken.status, "temperror");
});

Deno.test("mx: a host whose address lookups fail says so, and the others still come", async () => {
  const result = await mxHosts(resolver(), "flaky.test");
  assertEquals(result.status, "ok");
  if (result.status !== "ok") return;
  assertEquals(result.hosts[0]!.host, "down.test");
  assertEquals(result.hosts[0]!.addresses, []);
  assertEquals(
    result.hosts[0]!.temporaryError,
    "AAAA lookup for down.test: SERVFAIL (fake); A lookup for down.test: SERVFAIL (fake)",
  );
  assertEquals(result.hosts[1]!.addresses, ["2001:db8::1", "192.0.2.1"]);
});

Deno.test("mx: with dnssec, the MX RRset and each host's addresses say whether they were validated", async () => {
  const records: DnsRecord[] = [
    { type: "MX", name: "signed.test", ttl: 60, preference: 10, exchange: "mx.signed.test" },
    { type: "MX", name: "signed.test", ttl: 60, preference: 20, exchange: "mx.plain.test" },
    { type: "A", name: "mx.signed.test", ttl: 60, address: "192.0.2.1" },
    { type: "A", name: "mx.plain.test", ttl: 60, address: "192.0.2.2" },
  ];
  const fake = new FakeResolver(records, { secure: ["signed.test"] });
  const result = await mxHosts(fake, "signed.test", { dnssec: true });
  assertEquals(result.status === "ok" && result.authenticated, true);
  assertEquals(
    result.status === "ok" && result.hosts.map((h) => [h.host, h.authenticated]),
    [["mx.signed.test", true], ["mx.plain.test", false]],
  );
  // Without dnssec nothing is said, and a validating resolver's AD bit is not asked for.
  const plain = await mxHosts(fake, "signed.test");
  assertEquals(plain.status === "ok" && "authenticated" in plain, false);
});
