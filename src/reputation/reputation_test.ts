import { assert, assertEquals, assertStringIncludes } from "../../tests/assert.ts";
import { SlowResolver } from "../../tests/slow_resolver.ts";
import { type DnsRecord, FakeResolver } from "../dns/mod.ts";
import { FilterChain, type FilterContext, type FilterStage } from "../filter/mod.ts";
import { silentLogger } from "../ops/log.ts";
import { parseAddress } from "../util/address.ts";
import { DEFAULT_IDENTITY_WEIGHTS } from "./identity.ts";
import { SPAMHAUS_DBL, SPAMHAUS_ZEN } from "./presets.ts";
import { Reputation, type ReputationOptions, testList } from "./reputation.ts";
import { toList } from "./settings.ts";

const A = (name: string, address: string): DnsRecord => ({ type: "A", name, ttl: 60, address });

/** Client 192.0.2.10 is PBL-listed (score), 192.0.2.4 XBL (reject); mail.good.example confirms. */
const RECORDS: DnsRecord[] = [
  A("10.2.0.192.zen.test", "127.0.0.10"),
  A("4.2.0.192.zen.test", "127.0.0.4"),
  A("phish.example.dbl.test", "127.0.1.4"),
  A("spammy.example.dbl.test", "127.0.1.2"),
  A("mail.good.example", "192.0.2.20"),
  { type: "PTR", name: "20.2.0.192.in-addr.arpa", ttl: 60, target: "mail.good.example" },
  A("mail.spammy.example", "192.0.2.10"),
];

function reputation(overrides: Partial<ReputationOptions> = {}): Reputation {
  return new Reputation({
    resolver: new FakeResolver(RECORDS),
    log: silentLogger,
    hostname: "mx.example.org",
    dnsbl: [toList({ ...SPAMHAUS_ZEN, zone: "zen.test" }, "ip")],
    uribl: [toList({ ...SPAMHAUS_DBL, zone: "dbl.test" }, "domain")],
    maxUriDomains: 20,
    junkScore: 5,
    rejectScore: 10,
    weights: DEFAULT_IDENTITY_WEIGHTS,
    lookupTimeoutMs: 1000,
    ...overrides,
  });
}

function context(
  stage: FilterStage,
  ip: string,
  options: { helo?: string; sender?: string; body?: string } = {},
): FilterContext {
  const raw = new TextEncoder().encode(
    `From: <someone@${options.sender ?? "good.example"}>\r\nSubject: hi\r\n\r\n${
      options.body ?? "hello"
    }\r\n`,
  );
  return {
    stage,
    connection: { ip, port: 40000, tls: null, role: "mx" },
    helo: options.helo ?? "mail.good.example",
    account: null,
    sender: parseAddress(`someone@${options.sender ?? "good.example"}`),
    declaredSize: null,
    recipients: [],
    recipient: null,
    message: stage === "data" ? { size: raw.length, header: raw, raw } : null,
  };
}

Deno.test("connect: a client listed with action reject is refused, 554 5.7.1 naming the list", async () => {
  const chain = new FilterChain(reputation().checks());
  const { verdict } = await chain.run(context("connect", "192.0.2.4"));
  assertEquals(verdict.action, "reject");
  if (verdict.action !== "reject") return;
  assertEquals([verdict.code, verdict.enhanced], [554, "5.7.1"]);
  assertStringIncludes(verdict.text, "192.0.2.4 is listed by spamhaus-zen (XBL)");
  assertEquals((await chain.run(context("connect", "192.0.2.10"))).verdict.action, "accept");
});

Deno.test("connect: submission is never checked", async () => {
  const chain = new FilterChain(reputation().checks());
  const ctx = context("connect", "192.0.2.4");
  const { verdict } = await chain.run({
    ...ctx,
    connection: { ...ctx.connection, role: "submission" },
  });
  assertEquals(verdict.action, "accept");
});

Deno.test("data: a clean confirmed client is tagged with score 0", async () => {
  const chain = new FilterChain(reputation().checks());
  const result = await chain.run(context("data", "192.0.2.20"));
  assertEquals(result.verdict.action, "accept");
  assertEquals(result.headers, [
    ["X-Spam-Score", "0.0"],
    ["X-Spam-Status", "No, score=0.0 junk=5.0 reject=10.0 tests=none"],
  ]);
});

Deno.test("data: PBL, no PTR and a bare HELO add up to Junk", async () => {
  const chain = new FilterChain(reputation().checks());
  const result = await chain.run(context("data", "192.0.2.10", { helo: "box" }));
  // PBL 3 + FCRDNS_MISSING 1 + HELO_NO_DOT 1 = 5: the junk score.
  assertEquals(result.verdict.action, "quarantine");
  assertEquals(result.quarantine, "spam score 5.0");
  const status = result.headers.find(([name]) => name === "X-Spam-Status")![1];
  assertEquals(
    status,
    "Yes, score=5.0 junk=5.0 reject=10.0 tests=spamhaus-zen(PBL)=3.0,FCRDNS_MISSING=1.0,HELO_NO_DOT=1.0",
  );
});

Deno.test("data: a listed body URL adds its weight; past reject_score the message is refused", async () => {
  const chain = new FilterChain(reputation().checks());
  const spam = await chain.run(
    context("data", "192.0.2.20", { body: "buy at http://www.spammy.example/now" }),
  );
  assertEquals(spam.verdict.action, "quarantine", "DBL spam domain weighs 6");
  const phish = await chain.run(
    context("data", "192.0.2.10", { body: "log in at https://login.phish.example/" }),
  );
  assertEquals(phish.verdict.action, "reject");
  if (phish.verdict.action !== "reject") return;
  assertEquals([phish.verdict.code, phish.verdict.enhanced], [550, "5.7.1"]);
  assertStringIncludes(phish.verdict.text, "spamhaus-dbl(phish_domain:login.phish.example)");
});

Deno.test("mail: a sender domain on a domain list with action reject is refused", async () => {
  const rep = reputation({
    uribl: [toList({ name: "dbl", zone: "dbl.test", action: "reject" }, "domain")],
  });
  const chain = new FilterChain(rep.checks());
  const { verdict } = await chain.run(context("mail", "192.0.2.20", { sender: "spammy.example" }));
  assertEquals(verdict.action, "reject");
  if (verdict.action !== "reject") return;
  assertEquals([verdict.code, verdict.enhanced], [550, "5.7.1"]);
  assertStringIncludes(verdict.text, "spammy.example is listed by dbl");
});

Deno.test("identity: HELO literal, our own name, an unknown name", async () => {
  const rep = reputation();
  const tests = async (helo: string) =>
    (await rep.evaluate(context("data", "192.0.2.20", { helo }))).items.map((i) => i.test);
  assertEquals(await tests("[192.0.2.20]"), []);
  assertEquals(await tests("[192.0.2.99]"), ["HELO_LITERAL_MISMATCH"]);
  assertEquals(await tests("mx.example.org"), ["HELO_OURS"]);
  assertEquals(await tests("nowhere.invalid.example"), ["HELO_UNRESOLVABLE"]);
  const mismatch = await rep.evaluate(context("data", "192.0.2.99"));
  assert(mismatch.items.some((i) => i.test === "FCRDNS_MISSING"));
});

Deno.test("X-Spam-Status stays one line under 998 octets however many domains are listed", () => {
  const items = Array.from({ length: 40 }, (_, i) => ({
    test: `spamhaus-dbl(spam_domain:host-${i}.${"x".repeat(40)}.example)`,
    weight: 6,
  }));
  const tests = testList(items);
  assert(tests.length <= 804, `${tests.length}`);
  assert(tests.endsWith(",..."));
  assertEquals(testList(items.slice(0, 2)).split(",").length, 2);
});

/**
 * A client's name server slower than the whole check's bound (3 lookups + 1 s) must not switch
 * the data stage off: its identity lookups are bounded like list lookups, and count as
 * temporary errors, so the list results still decide.
 */
Deno.test("data: a HELO or PTR name slower than the check's bound does not drop the list results", async () => {
  const lookupTimeoutMs = 200;
  const slowMs = 3 * lookupTimeoutMs + 1000 + 1000;
  const resolver = new SlowResolver(
    new FakeResolver([...RECORDS, A("slow.attacker.example", "192.0.2.20")]),
    ["slow.attacker.example", "20.2.0.192.in-addr.arpa"],
    slowMs,
  );
  try {
    const chain = new FilterChain(reputation({ resolver, lookupTimeoutMs }).checks());
    const started = Date.now();
    const phish = await chain.run(
      context("data", "192.0.2.20", {
        helo: "slow.attacker.example",
        body: "log in at https://login.phish.example/",
      }),
    );
    assertEquals(phish.verdict.action, "reject", "the DBL reject still applies");
    const spam = await chain.run(
      context("data", "192.0.2.20", {
        helo: "slow.attacker.example",
        body: "buy at http://www.spammy.example/now",
      }),
    );
    assertEquals(spam.verdict.action, "quarantine");
    const status = spam.headers.find(([name]) => name === "X-Spam-Status")?.[1];
    // A timed-out PTR or HELO lookup is a temporary error: no FCrDNS or HELO penalty.
    assertEquals(
      status,
      "Yes, score=6.0 junk=5.0 reject=10.0 tests=spamhaus-dbl(spam_domain:www.spammy.example)=6.0",
    );
    assert(Date.now() - started < 2 * slowMs, `took ${Date.now() - started} ms`);
  } finally {
    resolver.close();
  }
});

Deno.test("data: FCrDNS waits one lookup bound for all PTR names together", async () => {
  const names = Array.from({ length: 10 }, (_, i) => `n${i}.slow.example`);
  const resolver = new SlowResolver(
    new FakeResolver([
      ...names.map((target) => ({
        type: "PTR" as const,
        name: "30.2.0.192.in-addr.arpa",
        ttl: 60,
        target,
      })),
      ...names.map((name) => A(name, "192.0.2.30")),
    ]),
    names,
    5_000,
  );
  try {
    const rep = reputation({ resolver, lookupTimeoutMs: 200 });
    const started = Date.now();
    assertEquals(await rep.fcrdns("192.0.2.30"), { confirmed: [], status: "temperror" });
    const took = Date.now() - started;
    assert(took >= 190 && took < 1_000, `took ${took} ms`);
  } finally {
    resolver.close();
  }
});

Deno.test("client lists are not asked about private addresses; loopback still is", async () => {
  const resolver = new FakeResolver(RECORDS);
  const rep = reputation({ resolver });
  for (const ip of ["10.1.2.3", "192.168.0.9", "172.16.5.5", "100.64.0.1", "fd00::1", "fe80::1"]) {
    assertEquals(await rep.clientHits(ip), []);
  }
  assertEquals(resolver.asked.filter((q) => q.includes("zen.test")), []);
  await rep.clientHits("127.0.0.2");
  assertEquals(resolver.asked, ["2.0.0.127.zen.test A"]);
});
