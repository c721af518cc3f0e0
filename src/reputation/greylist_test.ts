import { assert, assertEquals } from "../../tests/assert.ts";
import { SlowResolver } from "../../tests/slow_resolver.ts";
import { FakeResolver } from "../dns/mod.ts";
import { FilterChain, type FilterContext } from "../filter/mod.ts";
import { silentLogger } from "../ops/log.ts";
import { parseAddress } from "../util/address.ts";
import {
  clientNetwork,
  greylistCheck,
  type GreylistOutcome,
  type GreylistStore,
  startGreylistExpiry,
  type Triplet,
} from "./greylist.ts";
import type { Resolver } from "../dns/mod.ts";
import { DEFAULT_IDENTITY_WEIGHTS } from "./identity.ts";
import { toList } from "./settings.ts";
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

/** Answers every attempt with `outcome`, or throws `error`. */
class Fixed implements GreylistStore {
  asked = 0;
  constructor(readonly outcome: GreylistOutcome | Error) {}
  attempt() {
    this.asked++;
    return this.outcome instanceof Error
      ? Promise.reject(this.outcome)
      : Promise.resolve(this.outcome);
  }
  expire() {
    return Promise.resolve(0);
  }
}

function checkWith(
  store: GreylistStore,
  resolver: Resolver = new FakeResolver([]),
  lookupTimeoutMs = 1000,
  dnsbl = [toList({ name: "wl", zone: "wl.test", action: "accept" }, "ip")],
) {
  const reputation = new Reputation({
    resolver,
    log: silentLogger,
    hostname: "mx.example.org",
    dnsbl,
    uribl: [],
    maxUriDomains: 20,
    junkScore: 5,
    rejectScore: 10,
    weights: DEFAULT_IDENTITY_WEIGHTS,
    lookupTimeoutMs,
  });
  return new FilterChain([greylistCheck({
    store,
    reputation,
    exemptDomains: ["provider.example"],
    delayMs: 300_000,
    windowMs: 86_400_000,
    allowMs: 86_400_000,
    log: silentLogger,
  })]);
}

Deno.test("greylist check: each store outcome", async () => {
  const verdict = async (outcome: GreylistOutcome | Error) =>
    (await checkWith(new Fixed(outcome)).run(rcpt("192.0.2.1"))).verdict;
  assertEquals(await verdict({ kind: "early", waitMs: 61_500 }), {
    action: "tempfail",
    code: 451,
    enhanced: "4.7.1",
    text: "Greylisted, please try again in 62 seconds",
  });
  assertEquals((await verdict({ kind: "new" })).action, "tempfail");
  assertEquals((await verdict({ kind: "passed" })).action, "accept");
  assertEquals((await verdict({ kind: "allowed" })).action, "accept");
  // The store failing is the one case that fails open: mail is not held back by a database.
  assertEquals((await verdict(new Error("database down"))).action, "accept");
});

Deno.test("greylist check: an allow-listed client (DNSWL) never reaches the store", async () => {
  const store = new Fixed({ kind: "new" });
  const resolver = new FakeResolver([
    { type: "A", name: "1.2.0.192.wl.test", ttl: 60, address: "127.0.10.2" },
  ]);
  assertEquals((await checkWith(store, resolver).run(rcpt("192.0.2.1"))).verdict.action, "accept");
  assertEquals(
    (await checkWith(store, resolver).run(rcpt("192.0.2.2"))).verdict.action,
    "tempfail",
  );
  assertEquals(store.asked, 1);
});

/**
 * A client whose PTR (or allow-list) answers slower than the check's bound is not exempt: it
 * is greylisted, rather than the whole check timing out and accepting (fail open).
 */
Deno.test("greylist check: a slow PTR or allow-list lookup means not exempt, not fail open", async () => {
  const lookupTimeoutMs = 200;
  for (const slow of ["5.113.0.203.in-addr.arpa", "out-5.mail.provider.example"]) {
    const resolver = new SlowResolver(
      new FakeResolver([
        {
          type: "PTR",
          name: "5.113.0.203.in-addr.arpa",
          ttl: 60,
          target: "out-5.mail.provider.example",
        },
        { type: "A", name: "out-5.mail.provider.example", ttl: 60, address: "203.0.113.5" },
      ]),
      [slow, "5.113.0.203.wl.test"],
      // Longer than the chain's default bound of 5 s.
      6_000,
    );
    try {
      const store = new Fixed({ kind: "new" });
      const started = Date.now();
      const { verdict } = await checkWith(store, resolver, lookupTimeoutMs).run(
        rcpt("203.0.113.5"),
      );
      assertEquals(verdict.action, "tempfail", slow);
      assertEquals(store.asked, 1);
      assert(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
    } finally {
      resolver.close();
    }
  }
});

Deno.test("startGreylistExpiry: expires at once and on each tick, until stopped", async () => {
  const calls: Date[] = [];
  const store: GreylistStore = {
    attempt: () => Promise.resolve({ kind: "new" }),
    expire: (now) => {
      calls.push(now);
      return calls.length === 2 ? Promise.reject(new Error("database down")) : Promise.resolve(3);
    },
  };
  const sweep = startGreylistExpiry(store, silentLogger, { intervalMs: 20 });
  await new Promise((resolve) => setTimeout(resolve, 70));
  await sweep.stop();
  const seen = calls.length;
  assert(seen >= 3, `${seen} runs`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assertEquals(calls.length, seen, "no run after stop");
});
