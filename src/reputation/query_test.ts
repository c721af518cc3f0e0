import { assert, assertEquals, assertStringIncludes } from "../../tests/assert.ts";
import { FakeResolver, type Lookup, type RecordType, type Resolver } from "../dns/mod.ts";
import { createLogger } from "../ops/log.ts";
import type { DnsList } from "./lists.ts";
import { SPAMHAUS_ZEN } from "./presets.ts";
import { FAILURE_MEMO_MS, ListQuerier } from "./query.ts";
import { toList } from "./settings.ts";

/** RFC 5782 §2.4: 2001:db8::1 as 32 nibbles, least significant first. */
const V6_NAME = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.test";

const zen = toList({ ...SPAMHAUS_ZEN, zone: "zen.test" }, "ip");

function recorder() {
  const lines: { level: string; msg: string }[] = [];
  const log = createLogger({
    level: "debug",
    format: "json",
    write: (line) => lines.push(JSON.parse(line)),
  });
  return { log, lines };
}

Deno.test("ListQuerier: a listed IPv4 and IPv6 address, an unlisted one", async () => {
  const resolver = new FakeResolver([
    { type: "A", name: "2.0.0.127.zen.test", ttl: 60, address: "127.0.0.10" },
    {
      type: "A",
      name: V6_NAME,
      ttl: 60,
      address: "127.0.0.4",
    },
  ]);
  const { log } = recorder();
  const lists = new ListQuerier({ resolver, log, timeoutMs: 1000 });
  const v4 = await lists.address([zen], "127.0.0.2");
  assertEquals(v4.map((h) => [h.list, h.meaning, h.subject]), [[
    "spamhaus-zen",
    "PBL",
    "127.0.0.2",
  ]]);
  const v6 = await lists.address([zen], "2001:db8::1");
  assertEquals(v6.map((h) => h.meaning), ["XBL"]);
  assertEquals(resolver.asked.at(-1), `${V6_NAME} A`);
  assertEquals(await lists.address([zen], "192.0.2.1"), []);
});

/** A resolver that never answers. */
class SilentResolver implements Resolver {
  asked = 0;
  lookup<T extends RecordType>(): Promise<Lookup<T>> {
    this.asked++;
    return new Promise(() => {});
  }
}

Deno.test("ListQuerier: a list that does not answer is not counted, logged, not asked again at once", async () => {
  const resolver = new SilentResolver();
  const { log, lines } = recorder();
  let now = 1_000_000;
  const lists = new ListQuerier({ resolver, log, timeoutMs: 50, now: () => now });
  const started = Date.now();
  assertEquals(await lists.address([zen], "192.0.2.1"), []);
  assert(Date.now() - started < 1000, "bounded by the lookup timeout");
  assertEquals(lines.filter((l) => l.level === "warn").length, 1);
  assertStringIncludes(lines[0]!.msg, "did not answer");
  assertEquals(await lists.address([zen], "192.0.2.1"), []);
  assertEquals(resolver.asked, 1, "the failure is remembered");
  now += FAILURE_MEMO_MS;
  await lists.address([zen], "192.0.2.1");
  assertEquals(resolver.asked, 2, "and asked again after a minute");
});

Deno.test("ListQuerier: a temperror is not counted", async () => {
  const resolver = new FakeResolver([], { failing: ["1.2.0.192.zen.test"] });
  const { log, lines } = recorder();
  const lists = new ListQuerier({ resolver, log, timeoutMs: 1000 });
  assertEquals(await lists.address([zen], "192.0.2.1"), []);
  assertEquals(lines.map((l) => l.level), ["warn"]);
});

Deno.test("ListQuerier: a refusal disables the list with an error naming the fix", async () => {
  const resolver = new FakeResolver([
    { type: "A", name: "1.2.0.192.zen.test", ttl: 60, address: "127.255.255.254" },
    { type: "A", name: "2.0.0.127.zen.test", ttl: 60, address: "127.0.0.2" },
  ]);
  const { log, lines } = recorder();
  const lists = new ListQuerier({ resolver, log, timeoutMs: 1000 });
  assertEquals(await lists.address([zen], "192.0.2.1"), []);
  assert(lists.isDisabled(zen));
  const errors = lines.filter((l) => l.level === "error");
  assertEquals(errors.length, 1);
  assertStringIncludes(errors[0]!.msg, "spamhaus-zen refused our query (127.255.255.254)");
  assertStringIncludes(errors[0]!.msg, "DQS key");
  // Disabled: even a listed address is not asked for any more.
  const asked = resolver.asked.length;
  assertEquals(await lists.address([zen], "127.0.0.2"), []);
  assertEquals(resolver.asked.length, asked);
});

Deno.test("ListQuerier: domain lists ask each query once per list", async () => {
  const dbl: DnsList = { ...toList({ name: "dbl", zone: "dbl.test" }, "domain") };
  const resolver = new FakeResolver([
    { type: "A", name: "listed.example.dbl.test", ttl: 60, address: "127.0.1.2" },
  ]);
  const lists = new ListQuerier({ resolver, log: recorder().log, timeoutMs: 1000 });
  const hits = await lists.domains([dbl], [
    { subject: "www.listed.example", query: () => "listed.example" },
    { subject: "listed.example", query: () => "listed.example" },
    { subject: "clean.example", query: () => "clean.example" },
  ]);
  assertEquals(hits.map((h) => [h.subject, h.code]), [["www.listed.example", "127.0.1.2"]]);
  assertEquals(resolver.asked.length, 2);
});

Deno.test("ListQuerier: a name longer than 253 characters with its zone is not asked (RFC 1035 §2.3.4)", async () => {
  const resolver = new FakeResolver([]);
  const { log, lines } = recorder();
  const lists = new ListQuerier({ resolver, log, timeoutMs: 1000 });
  const dbl = toList({ name: "dbl", zone: "dbl.test" }, "domain");
  const long = `${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}.example`;
  const fits = `${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(50)}.example`;
  assertEquals(`${long}.dbl.test`.length, 260);
  assertEquals(`${fits}.dbl.test`.length, 250);
  const names = [long, fits].map((n) => ({ subject: n, query: () => n }));
  assertEquals(await lists.domains([dbl], names), []);
  assertEquals(resolver.asked, [`${fits}.dbl.test A`]);
  assertEquals(lines.filter((l) => l.level !== "debug"), []);
});
