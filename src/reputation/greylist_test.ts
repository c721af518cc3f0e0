import { assertEquals } from "../../tests/assert.ts";
import { FakeResolver } from "../dns/mod.ts";
import { FilterChain, type FilterContext } from "../filter/mod.ts";
import { silentLogger } from "../ops/log.ts";
import { parseAddress } from "../util/address.ts";
import { clientNetwork, greylistCheck, type GreylistStore, type Triplet } from "./greylist.ts";
import { DEFAULT_IDENTITY_WEIGHTS } from "./identity.ts";
import { Reputation } from "./reputation.ts";

Deno.test("clientNetwork: IPv4 /24, IPv6 /64 (RFC 6647 §4.1)", () => {
  assertEquals(clientNetwork("192.0.2.77"), "192.0.2.0/24");
  assertEquals(clientNetwork("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assertEquals(clientNetwork("::ffff:198.51.100.9"), "198.51.100.0/24");
  assertEquals(clientNetwork("nonsense"), null);
});

/** Records what was asked; every triplet is new. */
class NewEverywhere implements GreylistStore {
  readonly asked: Triplet[] = [];
  attempt(triplet: Triplet) {
    this.asked.push(triplet);
    return Promise.resolve({ kind: "new" } as const);
  }
  expire() {
    return Promise.resolve(0);
  }
}

function rcpt(ip: string): FilterContext {
  return {
    stage: "rcpt",
    connection: { ip, port: 40000, tls: null, role: "mx" },
    helo: "mail.example.net",
    account: null,
    sender: null,
    declaredSize: null,
    recipients: [],
    recipient: parseAddress("Bob@Example.org"),
    message: null,
  };
}

Deno.test("greylist check: a triplet is refused for now; a confirmed provider's client is exempt", async () => {
  const resolver = new FakeResolver([
    {
      type: "PTR",
      name: "5.113.0.203.in-addr.arpa",
      ttl: 60,
      target: "out-5.mail.provider.example",
    },
    { type: "A", name: "out-5.mail.provider.example", ttl: 60, address: "203.0.113.5" },
    // Claims the provider's name, but the name does not point back.
    { type: "PTR", name: "6.113.0.203.in-addr.arpa", ttl: 60, target: "fake.provider.example" },
  ]);
  const reputation = new Reputation({
    resolver,
    log: silentLogger,
    hostname: "mx.example.org",
    dnsbl: [],
    uribl: [],
    maxUriDomains: 20,
    junkScore: 5,
    rejectScore: 10,
    weights: DEFAULT_IDENTITY_WEIGHTS,
    lookupTimeoutMs: 1000,
  });
  const store = new NewEverywhere();
  const chain = new FilterChain([greylistCheck({
    store,
    reputation,
    exemptDomains: ["provider.example"],
    delayMs: 300_000,
    windowMs: 86_400_000,
    allowMs: 86_400_000,
    log: silentLogger,
  })]);
  const refused = await chain.run(rcpt("192.0.2.1"));
  assertEquals(refused.verdict, {
    action: "tempfail",
    code: 451,
    enhanced: "4.7.1",
    text: "Greylisted, please try again in 300 seconds",
  });
  assertEquals(store.asked, [{ client: "192.0.2.0/24", sender: "", recipient: "bob@example.org" }]);
  assertEquals((await chain.run(rcpt("203.0.113.5"))).verdict.action, "accept");
  assertEquals((await chain.run(rcpt("203.0.113.6"))).verdict.action, "tempfail");
  assertEquals(store.asked.length, 2, "the exempt client never reaches the store");
});
