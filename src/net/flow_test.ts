import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { createLogger } from "../ops/log.ts";
import { InvalidInputError } from "../util/errors.ts";
import {
  type Admission,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_IP,
  FlowControl,
  type FlowOptions,
} from "./flow.ts";

function fakeClock(start = 1_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

/** Flow control with a generous rate, so that only the limit under test bites. */
function flow(options: FlowOptions = {}) {
  const clock = fakeClock();
  return {
    clock,
    flow: new FlowControl({
      connectionBurst: 1e6,
      connectionRate: 1e6,
      now: clock.now,
      ...options,
    }),
  };
}

function reasonOf(admission: Admission): string {
  return admission.ok ? "ok" : admission.reason;
}

async function admitMany(flow: FlowControl, ip: string, n: number): Promise<Admission[]> {
  const out: Admission[] = [];
  for (let i = 0; i < n; i++) out.push(await flow.admit(ip));
  return out;
}

function releaseAll(admissions: readonly Admission[]): void {
  for (const a of admissions) if (a.ok) a.release();
}

Deno.test("defaults are those of DESIGN.md", () => {
  assertEquals(DEFAULT_MAX_CONNECTIONS_PER_IP, 20);
  assertEquals(DEFAULT_MAX_CONNECTIONS, 5000);
});

Deno.test("connections per client: the limit, release, and release twice", async () => {
  const { flow: f } = flow({ maxPerIp: 3 });
  const held = await admitMany(f, "192.0.2.7", 3);
  assertEquals(held.map(reasonOf), ["ok", "ok", "ok"]);
  const refused = await f.admit("192.0.2.7");
  assertEquals(refused, { ok: false, reason: "per-ip", ip: "192.0.2.7" });
  assertEquals(
    reasonOf(await f.admit("::ffff:192.0.2.7")),
    "per-ip",
    "the mapped form is the same",
  );
  assertEquals(reasonOf(await f.admit("192.0.2.8")), "ok", "another client is not affected");
  assertEquals(f.stats(), { connections: 4, clients: 2 });
  const first = held[0]!;
  assert(first.ok);
  first.release();
  first.release(); // idempotent: frees one slot, not two
  assertEquals(f.stats(), { connections: 3, clients: 2 });
  assertEquals(reasonOf(await f.admit("192.0.2.7")), "ok");
  assertEquals(reasonOf(await f.admit("192.0.2.7")), "per-ip");
});

Deno.test("IPv6 clients are counted per /64", async () => {
  const { flow: f } = flow({ maxPerIp: 2 });
  assertEquals(reasonOf(await f.admit("2001:db8:1:2::1")), "ok");
  assertEquals(reasonOf(await f.admit("2001:db8:1:2:ffff:ffff:ffff:ffff")), "ok");
  assertEquals(reasonOf(await f.admit("2001:db8:1:2::abcd")), "per-ip");
  assertEquals(reasonOf(await f.admit("2001:db8:1:3::1")), "ok", "the next /64 is another client");
});

Deno.test("connections in total", async () => {
  const { flow: f } = flow({ maxTotal: 3 });
  const held = [
    await f.admit("192.0.2.1"),
    await f.admit("192.0.2.2"),
    await f.admit("2001:db8::1"),
  ];
  assertEquals(held.map(reasonOf), ["ok", "ok", "ok"]);
  assertEquals(reasonOf(await f.admit("192.0.2.4")), "total");
  releaseAll(held);
  assertEquals(f.stats(), { connections: 0, clients: 0 }, "nothing is kept for closed clients");
  assertEquals(reasonOf(await f.admit("192.0.2.4")), "ok");
});

Deno.test("connection rate per client, with a burst", async () => {
  const clock = fakeClock();
  const f = new FlowControl({ connectionBurst: 3, connectionRate: 1, now: clock.now });
  const burst = await admitMany(f, "198.51.100.1", 4);
  assertEquals(burst.map(reasonOf), ["ok", "ok", "ok", "rate"]);
  releaseAll(burst); // closing does not give the tokens back
  assertEquals(reasonOf(await f.admit("198.51.100.1")), "rate");
  assertEquals(reasonOf(await f.admit("198.51.100.2")), "ok", "rates are per client");
  clock.t += 1000;
  assertEquals(reasonOf(await f.admit("198.51.100.1")), "ok");
  assertEquals(reasonOf(await f.admit("198.51.100.1")), "rate");
  // Per /64 for IPv6: new addresses in the same network share the bucket.
  const v6 = await admitMany(f, "2001:db8:9::1", 3);
  assertEquals(v6.map(reasonOf), ["ok", "ok", "ok"]);
  assertEquals(reasonOf(await f.admit("2001:db8:9::2")), "rate");
});

Deno.test("deny list refuses; allow list wins over deny, limits and bans", async () => {
  const lookups: string[] = [];
  const { flow: f } = flow({
    maxPerIp: 1,
    maxTotal: 2,
    allow: ["10.0.0.0/8", "2001:db8:a::/48"],
    deny: ["10.9.0.0/16", "198.51.100.0/24", "2001:db8::/32"],
    isBanned: (ip) => {
      lookups.push(ip);
      return Promise.resolve(true);
    },
  });
  assertEquals(await f.admit("198.51.100.9"), { ok: false, reason: "denied", ip: "198.51.100.9" });
  assertEquals(reasonOf(await f.admit("::ffff:198.51.100.9")), "denied");
  assertEquals(reasonOf(await f.admit("2001:db8:b::1")), "denied");
  // Allowed: in the deny list too, banned too, and far beyond the limits.
  const allowed = [
    ...await admitMany(f, "10.9.0.1", 5),
    ...await admitMany(f, "2001:db8:a::1", 5),
  ];
  assertEquals(allowed.map(reasonOf), Array(10).fill("ok"));
  assertEquals(f.stats(), { connections: 0, clients: 0 }, "allowed clients are not counted");
  assertEquals(lookups, [], "no ban lookup for allowed or denied clients");
  assertEquals(reasonOf(await f.admit("192.0.2.1")), "banned");
  releaseAll(allowed);
});

Deno.test("an address that does not parse is denied", async () => {
  const { flow: f } = flow();
  for (const bad of ["", "fe80::1%eth0", "localhost", "/run/fumi.sock", "[::1]"]) {
    assertEquals(await f.admit(bad), { ok: false, reason: "denied", ip: null }, bad);
  }
});

Deno.test("bad allow or deny entries are configuration errors", () => {
  assertThrows(() => new FlowControl({ allow: ["10.0.0.1/8"] }), InvalidInputError, "10.0.0.0/8");
  assertThrows(() => new FlowControl({ deny: ["nonsense"] }), InvalidInputError, "nonsense");
});

Deno.test("bans: looked up once, cached for a while, concurrent lookups shared", async () => {
  const banned = new Set(["203.0.113.9"]);
  const lookups: string[] = [];
  let gate = Promise.withResolvers<void>();
  const { clock, flow: f } = flow({
    banCacheMs: 10_000,
    isBanned: async (ip) => {
      lookups.push(ip);
      await gate.promise;
      return banned.has(ip);
    },
  });
  // Two connections at once from a banned client: one lookup, both refused.
  const pending = [f.admit("203.0.113.9"), f.admit("::ffff:203.0.113.9")];
  assertEquals(f.stats().connections, 2, "slots are held while the lookup runs");
  gate.resolve();
  assertEquals((await Promise.all(pending)).map(reasonOf), ["banned", "banned"]);
  assertEquals(lookups, ["203.0.113.9"]);
  assertEquals(f.stats().connections, 0, "and given back when the answer is a ban");
  // Cached now: refused without a lookup, before the rate and connection limits.
  assertEquals(reasonOf(await f.admit("203.0.113.9")), "banned");
  assertEquals(lookups.length, 1);
  // A client that is not banned: cached too.
  const ok = await f.admit("203.0.113.10");
  assertEquals(reasonOf(ok), "ok");
  assertEquals(reasonOf(await f.admit("203.0.113.10")), "ok");
  assertEquals(lookups, ["203.0.113.9", "203.0.113.10"]);
  // The ban is lifted: seen once the cache entry is older than banCacheMs.
  banned.delete("203.0.113.9");
  clock.t += 9_999;
  assertEquals(reasonOf(await f.admit("203.0.113.9")), "banned");
  clock.t += 1;
  gate = Promise.withResolvers<void>();
  gate.resolve();
  assertEquals(reasonOf(await f.admit("203.0.113.9")), "ok");
  assertEquals(lookups.length, 3);
  // clearBanCache: the next connection asks again.
  banned.add("203.0.113.10");
  f.clearBanCache();
  assertEquals(reasonOf(await f.admit("203.0.113.10")), "banned");
});

Deno.test("the ban cache is bounded", async () => {
  let lookups = 0;
  const { flow: f } = flow({
    banCacheSize: 10,
    isBanned: () => {
      lookups++;
      return Promise.resolve(false);
    },
  });
  for (let i = 0; i < 50; i++) releaseAll([await f.admit(`192.0.2.${i}`)]);
  assertEquals(lookups, 50);
  releaseAll([await f.admit("192.0.2.49")]);
  assertEquals(lookups, 50, "the newest are cached");
  releaseAll([await f.admit("192.0.2.0")]);
  assertEquals(lookups, 51, "the oldest were dropped");
});

Deno.test("a failing ban lookup admits, logs, and is not cached", async () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", format: "text", write: (l) => lines.push(l) });
  let fail = true;
  const { flow: f } = flow({
    log,
    isBanned: () => {
      if (fail) throw new Error("connection refused");
      return Promise.resolve(true);
    },
  });
  assertEquals(reasonOf(await f.admit("192.0.2.1")), "ok");
  assertEquals(lines.length, 1);
  assert(lines[0]!.includes("ban lookup failed; admitting the connection ip=192.0.2.1"));
  assert(lines[0]!.includes("connection refused"));
  fail = false;
  assertEquals(reasonOf(await f.admit("192.0.2.1")), "banned");
});

Deno.test("the limits are checked before an uncached ban lookup", async () => {
  let lookups = 0;
  const { flow: f } = flow({
    maxPerIp: 1,
    isBanned: () => {
      lookups++;
      return Promise.resolve(false);
    },
    banCacheMs: 0,
  });
  const held = await f.admit("192.0.2.1");
  for (let i = 0; i < 20; i++) assertEquals(reasonOf(await f.admit("192.0.2.1")), "per-ip");
  assertEquals(lookups, 1, "a flood over the limit costs no lookups");
  releaseAll([held]);
});
