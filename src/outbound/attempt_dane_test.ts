import { assertEquals } from "../../tests/assert.ts";
import { type DnsRecord, FakeResolver } from "../dns/mod.ts";
import { silentLogger } from "../ops/log.ts";
import { type AttemptDeps, deliverToDomain } from "./attempt.ts";

const RECORDS: DnsRecord[] = [
  { type: "MX", name: "signed.test", ttl: 60, preference: 10, exchange: "mx.signed.test" },
  { type: "A", name: "mx.signed.test", ttl: 60, address: "192.0.2.1" },
];

const message = {
  sender: "carol@example.org",
  recipients: [{ address: "bob@signed.test", notify: null, orcpt: null }],
  envid: null,
  ret: null,
  content: new TextEncoder().encode("Subject: hi\r\n\r\nhi\r\n"),
  smtputf8: false,
};

function deps(resolver: FakeResolver, dane: boolean, connected: string[]): AttemptDeps {
  return {
    resolver,
    connect: (address) => {
      connected.push(address);
      return Promise.reject(new Error("no network in this test"));
    },
    heloName: "out.example.org",
    port: 25,
    dane,
    log: silentLogger,
  };
}

Deno.test("DANE: a failed TLSA lookup in a signed zone makes the host unusable, 451 4.7.5 (RFC 7672 §2.2.1)", async () => {
  const resolver = new FakeResolver(RECORDS, {
    secure: ["signed.test"],
    failing: ["_25._tcp.mx.signed.test"],
  });
  const connected: string[] = [];
  const [outcome] = await deliverToDomain(deps(resolver, true, connected), "signed.test", message);
  assertEquals(outcome?.outcome, "temporary");
  assertEquals(
    outcome?.reply,
    "451 4.7.5 DANE for signed.test: mx.signed.test: TLSA lookup for _25._tcp.mx.signed.test: " +
      "SERVFAIL (fake)",
  );
  assertEquals(connected, []);
});

Deno.test("DANE: no TLSA lookup for an insecure MX RRset, nor with dane off", async () => {
  for (const [secure, dane] of [[[], true], [["signed.test"], false]] as const) {
    const resolver = new FakeResolver(RECORDS, {
      secure,
      failing: ["_25._tcp.mx.signed.test"],
    });
    const connected: string[] = [];
    const [outcome] = await deliverToDomain(
      deps(resolver, dane, connected),
      "signed.test",
      message,
    );
    assertEquals(resolver.asked.some((q) => q.endsWith(" TLSA")), false);
    // Tried as before: the connection (refused here) was attempted.
    assertEquals([outcome?.outcome, connected], ["temporary", ["192.0.2.1"]]);
  }
});

Deno.test("DANE takes precedence on the hosts it covers (RFC 8461 §2)", async () => {
  const asked: string[] = [];
  const mtaSts = {
    policyFor: (domain: string) => {
      asked.push(domain);
      return Promise.resolve({ policy: null, id: null, source: "none" as const, problem: null });
    },
  };
  const tlsa: DnsRecord = {
    type: "TLSA",
    name: "_25._tcp.mx.signed.test",
    ttl: 60,
    usage: 3,
    selector: 1,
    matchingType: 1,
    data: new Uint8Array(32),
  };
  const secure = new FakeResolver([...RECORDS, tlsa], { secure: ["signed.test"] });
  const connected: string[] = [];
  const [outcome] = await deliverToDomain(
    { ...deps(secure, true, connected), mtaSts },
    "signed.test",
    message,
  );
  assertEquals([asked, connected], [["signed.test"], ["192.0.2.1"]]);
  // Not reached at all: a connection problem (4.4.1), not a DANE failure (4.7.5).
  assertEquals(
    outcome?.reply.startsWith("451 4.4.1 mx.signed.test [192.0.2.1]: cannot connect"),
    true,
  );
  // An insecure MX RRset: no DANE, the MTA-STS policy as before.
  const insecure = new FakeResolver(RECORDS);
  await deliverToDomain({ ...deps(insecure, true, []), mtaSts }, "signed.test", message);
  assertEquals(asked, ["signed.test", "signed.test"]);
});

Deno.test("DANE does not switch MTA-STS enforce off for the hosts without TLSA records", async () => {
  // mx1's TLSA lookup fails (DANE applies to the domain); mx2 has no TLSA records, and the
  // enforced policy names only mx1: mx2 must not be tried, in clear or otherwise.
  const records: DnsRecord[] = [
    ...RECORDS,
    { type: "MX", name: "signed.test", ttl: 60, preference: 20, exchange: "mx2.signed.test" },
    { type: "A", name: "mx2.signed.test", ttl: 60, address: "192.0.2.2" },
  ];
  const resolver = new FakeResolver(records, {
    secure: ["signed.test"],
    failing: ["_25._tcp.mx.signed.test"],
  });
  const policy = {
    mode: "enforce" as const,
    mx: ["mx.signed.test"],
    maxAge: 86400,
  };
  const mtaSts = {
    policyFor: () =>
      Promise.resolve({ policy, id: "1", source: "fetched" as const, problem: null }),
  };
  const connected: string[] = [];
  const [outcome] = await deliverToDomain(
    { ...deps(resolver, true, connected), mtaSts },
    "signed.test",
    message,
  );
  assertEquals(connected, []);
  assertEquals([outcome?.outcome, outcome?.reply.slice(0, 9)], ["temporary", "451 4.7.5"]);
});
