/**
 * The resolver against a real DNS server: Knot DNS on loopback (tests/dns_server.ts) serving
 * zones written here. Every record type Fumi reads, the CNAME chain, NXDOMAIN versus NODATA
 * versus failure, negative caching from the SOA, an answer too big for UDP (TC, then TCP), and
 * mxHosts over real answers.
 *
 * @module
 */

import {
  CachingResolver,
  mxHosts,
  type Resolver,
  reverseName,
  StubResolver,
} from "../src/dns/mod.ts";
import { queryUdp } from "../src/dns/transport.ts";
import { assert, assertEquals } from "./assert.ts";
import { type DnsServer, startDnsServer } from "./dns_server.ts";

const LONG_KEY = "p=" + "A".repeat(250) + "B".repeat(150); // a DKIM-sized value, over 255 octets
const BIG = Array.from(
  { length: 40 },
  (_, i) => `big TXT "${String(i).padStart(2, "0")}${"x".repeat(98)}"`,
);

const ZONES = {
  "example.test": `
@ SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@ NS ns
ns A 127.0.0.1
@ MX 20 mx2
@ MX 10 mx1
@ MX 10 mx1b
@ TXT "v=spf1 " "ip4:192.0.2.0/24 " "-all"
mx1 A 192.0.2.1
mx1 AAAA 2001:db8::1
mx1b A 192.0.2.3
mx2 A 192.0.2.2
_25._tcp.mx1 TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
alias CNAME alias2
alias2 CNAME mx1
sel._domainkey TXT "${LONG_KEY.slice(0, 255)}" "${LONG_KEY.slice(255)}"
_dmarc TXT "v=DMARC1; p=reject"
implicit A 192.0.2.10
implicit AAAA 2001:db8::10
nullmx MX 0 .
nullmx A 192.0.2.11
nomail TXT "no mail here"
deadmx MX 10 nowhere
${BIG.join("\n")}
`,
  "2.0.192.in-addr.arpa": `
@ SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@ NS ns.example.test.
1 PTR mx1.example.test.
`,
};

/** One check against the running server. */
interface Case {
  readonly name: string;
  readonly fn: (resolver: StubResolver, server: DnsServer) => Promise<void>;
}
const cases: Case[] = [];

cases.push({
  name: "A, AAAA, MX, TXT, PTR and TLSA, with TTLs",
  fn: async (resolver) => {
    const a = await resolver.lookup("MX1.example.test.", "A");
    assertEquals([a.status, a.rcode, a.name], ["ok", "NOERROR", "mx1.example.test"]);
    assertEquals(a.records, [{
      type: "A",
      name: "mx1.example.test",
      ttl: 300,
      address: "192.0.2.1",
    }]);
    assertEquals(a.authenticated, false);
    const aaaa = await resolver.lookup("mx1.example.test", "AAAA");
    assertEquals(aaaa.records.map((r) => r.address), ["2001:db8::1"]);
    const mx = await resolver.lookup("example.test", "MX");
    assertEquals(
      mx.records.map((r) => [r.preference, r.exchange]).sort(),
      [[10, "mx1.example.test"], [10, "mx1b.example.test"], [20, "mx2.example.test"]],
    );
    const spf = await resolver.lookup("example.test", "TXT");
    assertEquals(spf.records.map((r) => r.text), ["v=spf1 ip4:192.0.2.0/24 -all"]); // RFC 7208 §3.3
    assertEquals(spf.records[0]!.strings.length, 3);
    const dkim = await resolver.lookup("sel._domainkey.example.test", "TXT");
    assertEquals(dkim.records.map((r) => r.text), [LONG_KEY]);
    assertEquals(dkim.records[0]!.strings.map((s) => s.length), [255, LONG_KEY.length - 255]);
    const ptr = await resolver.lookup(reverseName("192.0.2.1")!, "PTR");
    assertEquals(ptr.records.map((r) => r.target), ["mx1.example.test"]);
    const tlsa = await resolver.lookup("_25._tcp.mx1.example.test", "TLSA", { dnssec: true });
    assertEquals(tlsa.status, "ok");
    const [record] = tlsa.records;
    assertEquals([record!.usage, record!.selector, record!.matchingType], [3, 1, 1]);
    assertEquals(record!.data.length, 32);
    assertEquals(record!.data[0], 0x01);
    assertEquals(tlsa.authenticated, false); // an authoritative server sets no AD
  },
});

cases.push({
  name: "a CNAME chain is followed inside the answer; asking for CNAME gives the alias",
  fn: async (resolver) => {
    const a = await resolver.lookup("alias.example.test", "A");
    assertEquals(a.status, "ok");
    assertEquals(a.cnames.map((r) => [r.name, r.target]), [
      ["alias.example.test", "alias2.example.test"],
      ["alias2.example.test", "mx1.example.test"],
    ]);
    assertEquals(a.records.map((r) => r.address), ["192.0.2.1"]);
    const cname = await resolver.lookup("alias.example.test", "CNAME");
    assertEquals(cname.records.map((r) => r.target), ["alias2.example.test"]);
  },
});

cases.push({
  name: "NXDOMAIN, NODATA and a refused zone are three different results",
  fn: async (resolver) => {
    const nx = await resolver.lookup("nosuch.example.test", "A");
    assertEquals([nx.status, nx.rcode, nx.records.length], ["nxdomain", "NXDOMAIN", 0]);
    assertEquals(nx.soa?.minimum, 60);
    const nodata = await resolver.lookup("mx1.example.test", "TXT");
    assertEquals([nodata.status, nodata.rcode], ["nodata", "NOERROR"]);
    assertEquals(nodata.soa?.name, "example.test");
    // Knot serves no such zone and refuses: not a fact about the name, so temporary.
    const refused = await resolver.lookup("example.org", "A");
    assertEquals([refused.status, refused.rcode], ["temperror", "REFUSED"]);
  },
});

cases.push({
  name: "an answer too big for UDP comes truncated and is fetched over TCP",
  fn: async (resolver, server) => {
    const question = { name: "big.example.test", type: "TXT" } as const;
    const udp = await queryUdp(server, question, { timeoutMs: 2000 });
    assertEquals([udp.truncated, udp.answers.length < 40], [true, true]);
    const big = await resolver.lookup("big.example.test", "TXT");
    assertEquals(big.status, "ok");
    assertEquals(big.records.length, 40);
    assert(big.records.every((r) => r.text.length === 100));
  },
});

cases.push({
  name: "the cache answers again without asking, and keeps NXDOMAIN for the SOA minimum",
  fn: async (stub) => {
    let now = 1_000_000;
    const asked: string[] = [];
    const counting: Resolver = {
      lookup: (name, type, options) => {
        asked.push(`${name} ${type}`);
        return stub.lookup(name, type, options);
      },
    };
    const cache = new CachingResolver(counting, { now: () => now });
    assertEquals((await cache.lookup("mx2.example.test", "A")).status, "ok");
    assertEquals((await cache.lookup("gone.example.test", "A")).status, "nxdomain");
    now += 59_000;
    const again = await cache.lookup("mx2.example.test", "A");
    assertEquals(again.records[0]!.ttl, 300 - 59);
    assertEquals((await cache.lookup("gone.example.test", "A")).status, "nxdomain");
    assertEquals(asked.length, 2);
    now += 2_000; // past the SOA minimum of 60 s: the negative answer is dropped
    assertEquals((await cache.lookup("gone.example.test", "A")).status, "nxdomain");
    assertEquals((await cache.lookup("mx2.example.test", "A")).status, "ok");
    assertEquals(asked, ["mx2.example.test A", "gone.example.test A", "gone.example.test A"]);
  },
});

cases.push({
  name: "mxHosts — preference order, implicit MX, null MX, no domain, no mail host",
  fn: async (resolver) => {
    const mx = await mxHosts(resolver, "example.test", { random: () => 0 });
    assertEquals(mx.status, "ok");
    if (mx.status !== "ok") return;
    assertEquals(mx.implicit, false);
    assertEquals(mx.hosts.map((h) => h.preference), [10, 10, 20]);
    assertEquals(
      new Set(mx.hosts.slice(0, 2).map((h) => h.host)),
      new Set(["mx1.example.test", "mx1b.example.test"]),
    );
    const mx1 = mx.hosts.find((h) => h.host === "mx1.example.test")!;
    assertEquals(mx1.addresses, ["2001:db8::1", "192.0.2.1"]);
    assertEquals(mx.hosts[2], {
      host: "mx2.example.test",
      preference: 20,
      addresses: ["192.0.2.2"],
    });

    const implicit = await mxHosts(resolver, "implicit.example.test");
    assertEquals(implicit, {
      status: "ok",
      implicit: true,
      hosts: [{
        host: "implicit.example.test",
        preference: 0,
        addresses: ["2001:db8::10", "192.0.2.10"],
      }],
    });
    assertEquals(await mxHosts(resolver, "nullmx.example.test"), { status: "null-mx" });
    assertEquals((await mxHosts(resolver, "nosuch.example.test")).status, "no-domain");
    assertEquals((await mxHosts(resolver, "nomail.example.test")).status, "no-mail-host");
    const dead = await mxHosts(resolver, "deadmx.example.test");
    assertEquals(dead, {
      status: "ok",
      implicit: false,
      hosts: [{ host: "nowhere.example.test", preference: 10, addresses: [] }],
    });
    assertEquals((await mxHosts(resolver, "example.org")).status, "temperror");
  },
});

Deno.test("knot: the resolver against a real DNS server", async (t) => {
  const server = await startDnsServer(ZONES);
  const resolver = new StubResolver({
    nameservers: [{ address: server.address, port: server.port }],
    timeoutMs: 2000,
    attempts: 1,
  });
  try {
    for (const { name, fn } of cases) {
      await t.step(name, async () => {
        try {
          await fn(resolver, server);
        } catch (error) {
          throw new Error(`${error}\nknotd said:\n${server.output()}`, { cause: error });
        }
      });
    }
  } finally {
    await server.stop();
  }
});
