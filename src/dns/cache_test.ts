import { assert, assertEquals } from "../../tests/assert.ts";
import { CachingResolver } from "./cache.ts";
import type { RecordType, SoaRecord } from "./message.ts";
import { type Lookup, type Resolver, temporaryFailure } from "./resolver.ts";

const SOA: SoaRecord = {
  type: "SOA",
  name: "example.test",
  ttl: 3600,
  mname: "ns.example.test",
  rname: "h.example.test",
  serial: 1,
  minimum: 120,
};

/** A resolver that answers from a function and counts what it is asked. */
class Scripted implements Resolver {
  asked: string[] = [];
  constructor(readonly answer: (name: string, type: RecordType) => Lookup) {}
  lookup<T extends RecordType>(name: string, type: T): Promise<Lookup<T>> {
    this.asked.push(`${name} ${type}`);
    return Promise.resolve(this.answer(name, type) as unknown as Lookup<T>);
  }
}

function a(name: string, ttl: number, cnameTtl?: number): Lookup {
  return {
    name,
    type: "A",
    status: "ok",
    rcode: "NOERROR",
    records: [{ type: "A", name, ttl, address: "192.0.2.1" }],
    cnames: cnameTtl === undefined ? [] : [{ type: "CNAME", name, ttl: cnameTtl, target: name }],
    authenticated: false,
    soa: null,
  };
}

function negative(name: string, status: "nxdomain" | "nodata", soa: SoaRecord | null): Lookup {
  return {
    name,
    type: "A",
    status,
    rcode: status === "nxdomain" ? "NXDOMAIN" : "NOERROR",
    records: [],
    cnames: [],
    authenticated: false,
    soa,
  };
}

function clock() {
  const state = { t: 1_700_000_000_000 };
  return { state, now: () => state.t };
}

Deno.test("cache: an answer is kept for its TTL, counted down, then asked again", async () => {
  const { state, now } = clock();
  const inner = new Scripted((name) => a(name, 300));
  const cache = new CachingResolver(inner, { now });
  await cache.lookup("host.example", "A");
  state.t += 100_000;
  const again = await cache.lookup("HOST.example.", "A");
  assertEquals(again.records[0]!.ttl, 200);
  assertEquals(inner.asked.length, 1);
  state.t += 200_000; // exactly the TTL: expired
  await cache.lookup("host.example", "A");
  assertEquals(inner.asked.length, 2);
});

Deno.test("cache: the shortest TTL of records and CNAMEs counts; TTLs are clamped to [min, max]", async () => {
  const { state, now } = clock();
  const ttls: Record<string, Lookup> = {
    "chain.example": a("chain.example", 300, 10),
    "zero.example": a("zero.example", 0),
    "long.example": a("long.example", 30 * 86_400),
  };
  const inner = new Scripted((name) => ttls[name]!);
  const cache = new CachingResolver(inner, { now, minTtl: 5, maxTtl: 86_400 });
  for (const name of Object.keys(ttls)) await cache.lookup(name, "A");
  state.t += 4_000; // within the floor: zero.example is still kept
  for (const name of Object.keys(ttls)) await cache.lookup(name, "A");
  assertEquals(inner.asked.length, 3);
  state.t += 6_000; // 10 s: past the CNAME's TTL and the floor
  for (const name of Object.keys(ttls)) await cache.lookup(name, "A");
  assertEquals(inner.asked.slice(3), ["chain.example A", "zero.example A"]);
  state.t = 1_700_000_000_000 + 86_400_000; // a day: the cap
  await cache.lookup("long.example", "A");
  assertEquals(inner.asked.at(-1), "long.example A");
});

Deno.test("cache: NXDOMAIN and NODATA are kept for min(SOA TTL, SOA minimum), never without an SOA", async () => {
  const { state, now } = clock();
  const answers: Record<string, Lookup> = {
    "gone.example": negative("gone.example", "nxdomain", SOA),
    "empty.example": negative("empty.example", "nodata", { ...SOA, ttl: 30 }),
    "bare.example": negative("bare.example", "nxdomain", null),
  };
  const inner = new Scripted((name) => answers[name]!);
  const cache = new CachingResolver(inner, { now });
  for (const name of Object.keys(answers)) await cache.lookup(name, "A");
  for (const name of Object.keys(answers)) await cache.lookup(name, "A");
  assertEquals(inner.asked.length, 4); // bare.example asked twice
  state.t += 31_000;
  for (const name of Object.keys(answers)) await cache.lookup(name, "A");
  assertEquals(inner.asked.slice(4), ["empty.example A", "bare.example A"]);
  state.t += 90_000; // 121 s: past the SOA minimum of 120
  const gone = await cache.lookup("gone.example", "A");
  assertEquals(gone.status, "nxdomain");
  assertEquals(inner.asked.at(-1), "gone.example A");
});

Deno.test("cache: a temporary failure is never kept", async () => {
  const inner = new Scripted((name, type) => temporaryFailure(name, type, "timeout"));
  const cache = new CachingResolver(inner, { now: clock().now });
  assertEquals((await cache.lookup("down.example", "A")).status, "temperror");
  assertEquals((await cache.lookup("down.example", "A")).status, "temperror");
  assertEquals(inner.asked.length, 2);
  assertEquals(cache.size, 0);
});

Deno.test("cache: concurrent identical lookups share one query; other types and DO do not", async () => {
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const asked: string[] = [];
  const inner: Resolver = {
    async lookup<T extends RecordType>(name: string, type: T, options?: { dnssec?: boolean }) {
      asked.push(`${name} ${type}${options?.dnssec ? " +do" : ""}`);
      await gate;
      return a(name, 60) as unknown as Lookup<T>;
    },
  };
  const cache = new CachingResolver(inner, { now: clock().now });
  const all = Promise.all([
    cache.lookup("host.example", "A"),
    cache.lookup("Host.Example.", "A"),
    cache.lookup("host.example", "A"),
    cache.lookup("host.example", "AAAA"),
    cache.lookup("host.example", "A", { dnssec: true }),
  ]);
  release();
  const results = await all;
  assertEquals(asked, ["host.example A", "host.example AAAA", "host.example A +do"]);
  assert(results[0] === results[1] && results[1] === results[2]);
});

Deno.test("cache: at most maxEntries answers; the least recently used goes first", async () => {
  const { now } = clock();
  const inner = new Scripted((name) => a(name, 300));
  const cache = new CachingResolver(inner, { now, maxEntries: 2 });
  await cache.lookup("one.example", "A");
  await cache.lookup("two.example", "A");
  await cache.lookup("one.example", "A"); // one is now the most recently used
  await cache.lookup("three.example", "A"); // evicts two
  assertEquals(cache.size, 2);
  await cache.lookup("one.example", "A");
  await cache.lookup("two.example", "A");
  assertEquals(inner.asked, ["one.example A", "two.example A", "three.example A", "two.example A"]);
});

Deno.test("cache: a failing inner resolver's rejection reaches every sharer and is not kept", async () => {
  let calls = 0;
  const inner: Resolver = {
    lookup() {
      calls++;
      return Promise.reject(new Error("bug"));
    },
  };
  const cache = new CachingResolver(inner, { now: clock().now });
  const results = await Promise.allSettled([
    cache.lookup("x.example", "A"),
    cache.lookup("x.example", "A"),
  ]);
  assertEquals(results.map((r) => r.status), ["rejected", "rejected"]);
  await cache.lookup("x.example", "A").catch(() => {});
  assertEquals(calls, 2);
});
