import { assert, assertEquals, assertMatch, assertThrows } from "../../tests/assert.ts";
import { createLogger } from "../ops/log.ts";
import {
  type Check,
  DEFAULT_CHECK_TIMEOUT_MS,
  FilterChain,
  type FilterContext,
  type FilterStage,
  type SetTimer,
} from "./chain.ts";
import { ACCEPT, quarantine, reject, tag, tempfail, type Verdict } from "./verdict.ts";

/** A context at `stage` with nothing else known. */
function context(stage: FilterStage, more: Partial<FilterContext> = {}): FilterContext {
  return {
    stage,
    connection: { ip: "192.0.2.7", port: 25, tls: null, role: "mx" },
    helo: null,
    account: null,
    sender: undefined,
    declaredSize: null,
    recipients: [],
    recipient: null,
    message: null,
    ...more,
  };
}

function recording() {
  const lines: string[] = [];
  const log = createLogger({
    level: "debug",
    format: "text",
    write: (line) => lines.push(line),
    now: () => new Date(0),
  });
  return { lines, log };
}

/** A check that records its runs in `ran` and answers `verdict`. */
function check(
  name: string,
  verdict: Verdict,
  ran: string[],
  stages: FilterStage[] = ["connect", "helo", "mail", "rcpt", "data"],
): Check {
  return {
    name,
    stages,
    run(ctx) {
      ran.push(`${name}@${ctx.stage}`);
      return verdict;
    },
  };
}

Deno.test("checks of the stage run in the order given; others are skipped", async () => {
  const ran: string[] = [];
  const chain = new FilterChain([
    check("a", ACCEPT, ran, ["mail", "rcpt"]),
    check("b", ACCEPT, ran, ["rcpt"]),
    check("c", ACCEPT, ran, ["data"]),
    check("d", ACCEPT, ran),
  ]);
  const result = await chain.run(context("rcpt"));
  assertEquals(ran, ["a@rcpt", "b@rcpt", "d@rcpt"]);
  assertEquals(result, { verdict: { action: "accept" }, headers: [], quarantine: null });
  ran.length = 0;
  await chain.run(context("helo"));
  assertEquals(ran, ["d@helo"]);
});

Deno.test("the first reject or tempfail decides and stops the chain", async () => {
  for (const refusal of [reject(550, "5.7.1", "No"), tempfail(450, "4.7.1", "Later")]) {
    const ran: string[] = [];
    const chain = new FilterChain([
      check("tagger", tag(["X-First", "1"]), ran),
      check("refuser", refusal, ran),
      check("never", reject(554, "5.7.1", "Too late"), ran),
    ]);
    const result = await chain.run(context("mail"));
    assertEquals(ran, ["tagger@mail", "refuser@mail"]);
    assertEquals(result.verdict, refusal);
    assertEquals(result.headers, [["X-First", "1"]]);
  }
});

Deno.test("tags accumulate in order; the first quarantine is remembered and wins over accept", async () => {
  const ran: string[] = [];
  const chain = new FilterChain([
    check("spam", tag(["X-Spam-Score", "7.1"], ["X-Spam-Flag", "YES"]), ran),
    check("junk", quarantine("spam score 7.1"), ran),
    check("fine", ACCEPT, ran),
    check("virus", tag(["X-Virus-Scanned", "clean"]), ran),
    check("second", quarantine("another reason"), ran),
  ]);
  const result = await chain.run(context("data"));
  assertEquals(ran.length, 5);
  assertEquals(result, {
    verdict: { action: "quarantine", reason: "spam score 7.1" },
    headers: [["X-Spam-Score", "7.1"], ["X-Spam-Flag", "YES"], ["X-Virus-Scanned", "clean"]],
    quarantine: "spam score 7.1",
  });
  // A refusal after a quarantine still refuses, and says what was remembered.
  const refused = await new FilterChain([
    check("junk", quarantine("spam"), ran),
    check("no", reject(550, "5.7.1", "Refused"), ran),
  ]).run(context("data"));
  assertEquals(refused.verdict.action, "reject");
  assertEquals(refused.quarantine, "spam");
});

function hanging(name: string, onError: "open" | "closed", signals: AbortSignal[]): Check {
  return {
    name,
    stages: ["data"],
    timeoutMs: 20,
    onError,
    run: (_ctx, signal) => {
      signals.push(signal);
      return new Promise<Verdict>(() => {}); // never answers, holds no timer
    },
  };
}

Deno.test("a hanging check is abandoned at its time bound: open accepts, closed tempfails", async () => {
  const { lines, log } = recording();
  const signals: AbortSignal[] = [];
  const ran: string[] = [];
  const open = new FilterChain(
    [hanging("slow-dnsbl", "open", signals), check("next", ACCEPT, ran)],
    {
      log,
    },
  );
  const started = performance.now();
  assertEquals((await open.run(context("data"))).verdict, { action: "accept" });
  assert(performance.now() - started >= 15, "waited for the bound");
  assertEquals(ran, ["next@data"], "the chain goes on after an open failure");
  assertEquals(lines, [
    "1970-01-01T00:00:00.000Z WARN  filter check timed out check=slow-dnsbl stage=data ip=192.0.2.7 timeoutMs=20 policy=open",
  ]);
  assert(signals[0]?.aborted, "the check is told to stop");
  assertEquals((signals[0]?.reason as DOMException).name, "TimeoutError");

  const closed = new FilterChain([
    hanging("slow-av", "closed", signals),
    check("next", ACCEPT, ran),
  ]);
  assertEquals((await closed.run(context("data"))).verdict, {
    action: "tempfail",
    code: 451,
    enhanced: "4.7.1",
    text: "Temporary filter failure, try again later",
  });
  assertEquals(ran, ["next@data"], "a closed failure stops the chain");
});

Deno.test("a check that answers in time leaves no timer behind", async () => {
  // Deno 2.9's test sanitizers do not report pending timers, so real timers are counted here.
  const pending = new Set<ReturnType<typeof setTimeout>>();
  const setTimer: SetTimer = (callback, ms) => {
    const id = setTimeout(() => {
      pending.delete(id);
      callback();
    }, ms);
    pending.add(id);
    return () => {
      clearTimeout(id);
      pending.delete(id);
    };
  };
  const ran: string[] = [];
  const later: Check = {
    name: "async",
    stages: ["connect"],
    run: async () => {
      await Promise.resolve();
      return tag(["X-Async", "yes"]);
    },
  };
  const signals: AbortSignal[] = [];
  const chain = new FilterChain([check("quick", ACCEPT, ran), later], { setTimer });
  const started = performance.now();
  assertEquals((await chain.run(context("connect"))).headers, [["X-Async", "yes"]]);
  assert(performance.now() - started < 1000, "no wait for the default 5 s bound");
  assertEquals(pending.size, 0);
  const hung = new FilterChain([hanging("slow", "open", signals)], { setTimer });
  await hung.run(context("data"));
  assertEquals(pending.size, 0);
});

Deno.test("each check's timer is started with its bound and cancelled", async () => {
  const started: number[] = [];
  let cancelled = 0;
  const setTimer: SetTimer = (_callback, ms) => {
    started.push(ms);
    return () => cancelled++;
  };
  const ran: string[] = [];
  const throwing: Check = {
    name: "boom",
    stages: ["mail"],
    timeoutMs: 50,
    run: () => {
      throw new Error("boom");
    },
  };
  const chain = new FilterChain([
    { ...check("a", ACCEPT, ran), timeoutMs: 1234 },
    check("b", ACCEPT, ran),
    throwing,
  ], { setTimer });
  await chain.run(context("mail"));
  assertEquals(started, [1234, DEFAULT_CHECK_TIMEOUT_MS, 50]);
  assertEquals(cancelled, 3);
});

Deno.test("a throwing check: open accepts and logs its name, closed tempfails with a fixed text", async () => {
  const throwsSync = (onError: "open" | "closed"): Check => ({
    name: "sync-thrower",
    stages: ["rcpt"],
    onError,
    run: () => {
      throw new Error("database password is hunter2");
    },
  });
  const rejects = (onError: "open" | "closed"): Check => ({
    name: "async-thrower",
    stages: ["rcpt"],
    onError,
    run: () => Promise.reject(new TypeError("undefined is not a function")),
  });
  for (const make of [throwsSync, rejects]) {
    const { lines, log } = recording();
    const open = await new FilterChain([make("open")], { log }).run(context("rcpt"));
    assertEquals(open.verdict, { action: "accept" });
    assertEquals(lines.length, 1);
    assertMatch(lines[0]!, /WARN {2}filter check failed check=(sync|async)-thrower stage=rcpt /);
    assertMatch(lines[0]!, /policy=open$/);

    const closed = await new FilterChain([make("closed")], { log }).run(context("rcpt"));
    assertEquals(closed.verdict, {
      action: "tempfail",
      code: 451,
      enhanced: "4.7.1",
      text: "Temporary filter failure, try again later",
    });
    assertMatch(lines[1]!, /policy=closed$/);
  }
});

Deno.test("an invalid verdict counts as the check's failure", async () => {
  const bad: unknown[] = [
    { action: "reject", code: 250, enhanced: "5.7.1", text: "ok" },
    { action: "reject", code: 550, enhanced: "4.7.1", text: "class mismatch" },
    { action: "tempfail", code: 451, enhanced: "4.7.1", text: "two\r\n250 lines" },
    { action: "tag", headers: [["X-Ok", "a\r\nBcc: victim@example.org"]] },
    { action: "tag", headers: [["Bad Name", "x"]] },
    { action: "discard" },
    null,
  ];
  for (const verdict of bad) {
    const { lines, log } = recording();
    const chain = new FilterChain([
      { name: "plugin", stages: ["data"], onError: "closed", run: () => verdict as Verdict },
    ], { log });
    const result = await chain.run(context("data"));
    assertEquals(result.verdict.action, "tempfail", JSON.stringify(verdict));
    assertEquals(result.headers, []);
    assertMatch(lines[0]!, /filter check gave an invalid verdict check=plugin/);
  }
});

Deno.test("a time bound must be positive", () => {
  for (const timeoutMs of [0, -1, Number.NaN, Infinity]) {
    assertThrows(
      () => new FilterChain([{ name: "x", stages: ["data"], timeoutMs, run: () => ACCEPT }]),
      RangeError,
      "timeoutMs",
    );
  }
});
