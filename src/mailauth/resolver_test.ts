import { assertEquals, assertRejects } from "../../tests/assert.ts";
import {
  type DnsRecord,
  FakeResolver,
  type Lookup,
  type RecordType,
  type Resolver,
} from "../dns/mod.ts";
import { abortable, DnsLookupError, mailauthResolver } from "./resolver.ts";

const encoder = new TextEncoder();
const txt = (name: string, ...strings: string[]): DnsRecord => ({
  type: "TXT",
  name,
  ttl: 300,
  strings: strings.map((s) => encoder.encode(s)),
  text: strings.join(""),
});

const WORLD: DnsRecord[] = [
  { type: "A", name: "host.example.test", ttl: 300, address: "192.0.2.1" },
  { type: "A", name: "host.example.test", ttl: 300, address: "192.0.2.2" },
  { type: "AAAA", name: "host.example.test", ttl: 300, address: "2001:db8::1" },
  { type: "MX", name: "example.test", ttl: 300, preference: 10, exchange: "host.example.test" },
  txt("example.test", "v=spf1 ", "ip4:192.0.2.0/24 -all"),
  txt("example.test", "other"),
  { type: "PTR", name: "1.2.0.192.in-addr.arpa", ttl: 300, target: "host.example.test" },
  { type: "CNAME", name: "alias.example.test", ttl: 300, target: "host.example.test" },
  { type: "CNAME", name: "dangling.example.test", ttl: 300, target: "gone.example.test" },
];

async function code(promise: Promise<unknown>): Promise<string> {
  const error = await assertRejects(() => promise, DnsLookupError);
  return error.code;
}

Deno.test("mailauth resolver: records in the shapes of Node's dns.promises.resolve", async () => {
  const resolve = mailauthResolver(new FakeResolver(WORLD));
  assertEquals(await resolve("host.example.test", "A"), ["192.0.2.1", "192.0.2.2"]);
  assertEquals(await resolve("host.example.test", "AAAA"), ["2001:db8::1"]);
  // RFC 7208 §3.3: each record's character-strings apart, the caller joins them.
  assertEquals(await resolve("example.test", "TXT"), [["v=spf1 ", "ip4:192.0.2.0/24 -all"], [
    "other",
  ]]);
  assertEquals(await resolve("example.test", "MX"), [{
    exchange: "host.example.test",
    priority: 10,
  }]);
  assertEquals(await resolve("1.2.0.192.in-addr.arpa", "PTR"), ["host.example.test"]);
  assertEquals(await resolve("alias.example.test", "CNAME"), ["host.example.test"]);
  // A CNAME is followed to its target's records; the type is case-insensitive.
  assertEquals(await resolve("alias.example.test", "a"), ["192.0.2.1", "192.0.2.2"]);
});

Deno.test("mailauth resolver: no such name, no data and failures as Node's error codes", async () => {
  const resolve = mailauthResolver(new FakeResolver(WORLD, { failing: ["broken.example.test"] }));
  // The two facts about a name: void lookups to SPF (RFC 7208 §4.6.4), "no key" to DKIM.
  assertEquals(await code(resolve("nowhere.example.test", "TXT")), "ENOTFOUND");
  assertEquals(await code(resolve("host.example.test", "TXT")), "ENODATA");
  // A CNAME to a name that does not exist: that name's answer, not an empty success.
  assertEquals(await code(resolve("dangling.example.test", "A")), "ENOTFOUND");
  // Everything else is temporary: SPF temperror, DKIM temperror, never "no record".
  assertEquals(await code(resolve("broken.example.test", "TXT")), "ESERVFAIL");
  assertEquals(await code(resolve("example.test", "SRV")), "ENOTIMP");
});

Deno.test("mailauth resolver: a budget of questions per message", async () => {
  const fake = new FakeResolver(WORLD);
  const resolve = mailauthResolver(fake, { budget: 2 });
  await resolve("host.example.test", "A");
  await code(resolve("nowhere.example.test", "A")); // counts too
  assertEquals(await code(resolve("host.example.test", "A")), "ESERVFAIL");
  assertEquals(fake.asked.length, 2); // the third was never asked
});

/** A resolver whose answers never come. */
class Silent implements Resolver {
  asked = 0;
  lookup<T extends RecordType>(): Promise<Lookup<T>> {
    this.asked++;
    return new Promise(() => {});
  }
}

Deno.test("mailauth resolver: once the signal is aborted, waiting lookups end as timeouts", async () => {
  const silent = new Silent();
  const controller = new AbortController();
  const resolve = mailauthResolver(silent, { signal: controller.signal });
  const waiting = code(resolve("example.test", "TXT"));
  controller.abort();
  assertEquals(await waiting, "ETIMEOUT");
  // And later ones are not asked at all.
  assertEquals(await code(resolve("example.test", "A")), "ETIMEOUT");
  assertEquals(silent.asked, 1);
});

Deno.test("abortable: answers pass through until the signal, then temperror at once", async () => {
  const controller = new AbortController();
  const resolver = abortable(new FakeResolver(WORLD), controller.signal);
  assertEquals((await resolver.lookup("host.example.test", "A")).status, "ok");
  controller.abort();
  const late = await resolver.lookup("host.example.test", "A");
  assertEquals([late.status, late.error], ["temperror", "time is up"]);
  assertEquals(abortable(resolver, undefined), resolver);
});
