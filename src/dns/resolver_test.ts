import { assertEquals } from "../../tests/assert.ts";
import type { DnsRecord } from "./message.ts";
import { reverseName, selectAnswer } from "./resolver.ts";

Deno.test("reverseName: IPv4 and IPv6 (RFC 1035 §3.5, RFC 3596 §2.5); anything else is null", () => {
  assertEquals(reverseName("192.0.2.1"), "1.2.0.192.in-addr.arpa");
  assertEquals(
    reverseName("2001:db8::567:89ab"),
    "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
  );
  assertEquals(reverseName("::1"), `1${".0".repeat(31)}.ip6.arpa`);
  for (const bad of ["256.0.0.1", "1.2.3", "example.org", "1::2::3", "1:2:3:4:5:6:7:8:9", ""]) {
    assertEquals(reverseName(bad), null, bad);
  }
});

Deno.test("selectAnswer: follows the CNAME chain in the answer, stops at a loop", () => {
  const records: DnsRecord[] = [
    { type: "CNAME", name: "www.example", ttl: 1, target: "web.example" },
    { type: "CNAME", name: "web.example", ttl: 1, target: "host.example" },
    { type: "A", name: "host.example", ttl: 1, address: "192.0.2.1" },
    { type: "A", name: "stray.example", ttl: 1, address: "192.0.2.66" },
    { type: "CNAME", name: "loop1.example", ttl: 1, target: "loop2.example" },
    { type: "CNAME", name: "loop2.example", ttl: 1, target: "loop1.example" },
  ];
  const www = selectAnswer("WWW.example.", "A", records);
  assertEquals(www.cnames.map((c) => c.target), ["web.example", "host.example"]);
  assertEquals(www.records.map((r) => r.address), ["192.0.2.1"]);
  const loop = selectAnswer("loop1.example", "A", records);
  assertEquals([loop.cnames.length, loop.records.length], [1, 0]);
  assertEquals(selectAnswer("www.example", "CNAME", records).records.length, 1);
});
