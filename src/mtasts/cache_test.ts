import { assertEquals } from "../../tests/assert.ts";
import { FakeResolver } from "../dns/mod.ts";
import { FETCH_BACKOFF_MS, MtaStsPolicies } from "./cache.ts";
import { discover } from "./discover.ts";
import type { FetchResult } from "./fetch.ts";
import type { Policy } from "./parse.ts";

const txt = (name: string, text: string) => ({
  type: "TXT" as const,
  name,
  ttl: 60,
  strings: [new TextEncoder().encode(text)],
  text,
});

Deno.test("discovery: exactly one v=STSv1 record, other TXT records ignored (RFC 8461 §3.1)", async () => {
  const resolver = new FakeResolver([
    txt("_mta-sts.one.example", "v=STSv1; id=abc"),
    txt("_mta-sts.one.example", "some-verification=xyz"),
    txt("_mta-sts.two.example", "v=STSv1; id=a"),
    txt("_mta-sts.two.example", "v=STSv1; id=b"),
    txt("_mta-sts.bad.example", "v=STSv1; id=not valid"),
    txt("other.example", "v=spf1 -all"),
  ], { failing: ["_mta-sts.down.example"] });
  const status = async (domain: string) => {
    const d = await discover(resolver, domain);
    return d.status === "found" ? d.id : d.status;
  };
  assertEquals(await status("one.example"), "abc");
  assertEquals(await status("two.example"), "none");
  assertEquals(await status("bad.example"), "none");
  assertEquals(await status("other.example"), "none");
  assertEquals(await status("down.example"), "temperror");
});

const policy = (mode: Policy["mode"], maxAge = 3600): Policy => ({
  mode,
  mx: ["mx.example.net"],
  maxAge,
});

/** A world whose TXT record and served policy a test changes as it goes. */
function world() {
  let record: string | null = "v=STSv1; id=one";
  let txtFails = false;
  let served: FetchResult = { ok: true, policy: policy("enforce") };
  let now = 1_000_000;
  const fetched: string[] = [];
  const resolver = {
    lookup: (name: string, type: "TXT") =>
      new FakeResolver(
        record === null ? [] : [txt("_mta-sts.example.net", record)],
        { failing: txtFails ? [name] : [] },
      ).lookup(name, type),
  } as unknown as FakeResolver;
  const policies = new MtaStsPolicies({
    resolver,
    fetch: (domain) => {
      fetched.push(domain);
      return Promise.resolve(served);
    },
    now: () => now,
    maxEntries: 2,
  });
  return {
    policies,
    fetched,
    setRecord: (text: string | null) => (record = text),
    setTxtFails: (fails: boolean) => (txtFails = fails),
    serve: (result: FetchResult) => (served = result),
    advance: (ms: number) => (now += ms),
    get: async () => {
      const p = await policies.policyFor("example.net");
      return [p.source, p.id, p.policy?.mode ?? null];
    },
  };
}

Deno.test("cache: fetched once per id, kept until max_age, fetched again when the id changes", async () => {
  const w = world();
  assertEquals(await w.get(), ["fetched", "one", "enforce"]);
  assertEquals(await w.get(), ["cached", "one", "enforce"]);
  assertEquals(w.fetched.length, 1);
  // A new id: a new policy (RFC 8461 §3.1).
  w.setRecord("v=STSv1; id=two");
  w.serve({ ok: true, policy: policy("testing") });
  assertEquals(await w.get(), ["fetched", "two", "testing"]);
  assertEquals(w.fetched.length, 2);
  // Refreshed at half its max_age even with the same id; expired at max_age.
  w.advance(1800_000);
  w.serve({ ok: true, policy: policy("enforce", 100) });
  assertEquals(await w.get(), ["fetched", "two", "enforce"]);
  w.setRecord(null);
  assertEquals(await w.get(), ["cached", "two", "enforce"], "the record gone: still in force");
  w.advance(100_000);
  assertEquals(await w.get(), ["none", null, null], "never used after max_age (§3.3)");
});

Deno.test("cache: a failed fetch or lookup keeps an unexpired cached policy in force (RFC 8461 §3.3)", async () => {
  const w = world();
  assertEquals(await w.get(), ["fetched", "one", "enforce"]);
  w.setRecord("v=STSv1; id=two");
  w.serve({ ok: false, reason: "HTTP status 500, not 200" });
  const failed = await w.policies.policyFor("example.net");
  assertEquals([failed.source, failed.id, failed.policy?.mode], ["cached", "one", "enforce"]);
  assertEquals(failed.problem, "HTTP status 500, not 200");
  // Not fetched again for that id for five minutes.
  await w.get();
  assertEquals(w.fetched.length, 2);
  w.advance(FETCH_BACKOFF_MS);
  w.serve({ ok: true, policy: policy("none") });
  assertEquals(await w.get(), ["fetched", "two", "none"]);
  // The TXT lookup failing: the cached policy still applies.
  w.setTxtFails(true);
  assertEquals(await w.get(), ["cached", "two", "none"]);
});

Deno.test("cache: no policy without one cached when the fetch fails; concurrent callers share one fetch", async () => {
  const w = world();
  w.serve({ ok: false, reason: "mta-sts.example.net has no address" });
  assertEquals(await w.get(), ["none", null, null]);
  w.advance(FETCH_BACKOFF_MS);
  w.serve({ ok: true, policy: policy("enforce") });
  const all = await Promise.all([1, 2, 3].map(() => w.get()));
  assertEquals(all, [1, 2, 3].map(() => ["fetched", "one", "enforce"]));
  assertEquals(w.fetched.length, 2);
});

Deno.test("cache: bounded in domains, the oldest forgotten first", async () => {
  const fetched: string[] = [];
  const resolver = new FakeResolver(
    ["a.example", "b.example", "c.example"].map((d) => txt(`_mta-sts.${d}`, "v=STSv1; id=1")),
  );
  const policies = new MtaStsPolicies({
    resolver,
    fetch: (domain) => {
      fetched.push(domain);
      return Promise.resolve({ ok: true, policy: policy("enforce") });
    },
    maxEntries: 2,
  });
  for (const d of ["a.example", "b.example", "c.example", "b.example", "a.example"]) {
    await policies.policyFor(d);
  }
  assertEquals(fetched, ["a.example", "b.example", "c.example", "a.example"]);
});
