import { assertEquals } from "../../tests/assert.ts";
import { createLogger } from "../ops/log.ts";
import type { RenewalReport } from "./issuer.ts";
import { startRenewal, type Timers } from "./renewal.ts";

/** Timers that fire only when the test says so. */
function fakeTimers() {
  let next = 1;
  const pending = new Map<number, { fn: () => void; ms: number }>();
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      const id = next++;
      pending.set(id, { fn, ms });
      return id;
    },
    clearTimeout: (handle) => {
      pending.delete(handle as number);
    },
  };
  return {
    timers,
    /** The delays of the timers now pending. */
    delays: () => [...pending.values()].map((t) => t.ms),
    /** Fires every pending timer. */
    fire: () => {
      const due = [...pending.entries()];
      for (const [id] of due) pending.delete(id);
      for (const [, timer] of due) timer.fn();
    },
  };
}

const quiet = createLogger({ level: "error", format: "json", write: () => {} });
const NOTHING: RenewalReport = { locked: false, renewed: [], failed: [] };

Deno.test("the renewal loop checks after the first delay, then every interval, at the clock's time", async () => {
  const fake = fakeTimers();
  const asked: Date[] = [];
  let now = new Date("2026-03-01T00:00:00Z");
  const reports: RenewalReport[] = [];
  const loop = startRenewal({
    acme: {
      renewDue: (at) => {
        asked.push(at!);
        return Promise.resolve(NOTHING);
      },
    },
    log: quiet,
    clock: () => now,
    firstDelayMs: 1_000,
    intervalMs: 60_000,
    timers: fake.timers,
    onRun: (report) => reports.push(report),
  });
  assertEquals(fake.delays(), [1_000]);
  assertEquals(asked, []);
  fake.fire();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(asked, [new Date("2026-03-01T00:00:00Z")]);
  assertEquals(fake.delays(), [60_000]);
  now = new Date("2026-03-01T00:01:00Z");
  fake.fire();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(asked.length, 2);
  assertEquals(asked[1], now);
  assertEquals(reports, [NOTHING, NOTHING]);
  await loop.stop();
  assertEquals(fake.delays(), [], "stop cancels the next run");
});

Deno.test("the renewal loop never overlaps runs; stop waits for the one in progress", async () => {
  const fake = fakeTimers();
  let finish = () => {};
  let runs = 0;
  let finished = 0;
  const loop = startRenewal({
    acme: {
      renewDue: () => {
        runs++;
        return new Promise((resolve) => {
          finish = () => {
            finished++;
            resolve(NOTHING);
          };
        });
      },
    },
    log: quiet,
    firstDelayMs: 0,
    timers: fake.timers,
  });
  fake.fire();
  assertEquals(runs, 1);
  assertEquals(fake.delays(), [], "the next run is scheduled only when this one ends");
  const stopped = loop.stop();
  let done = false;
  stopped.then(() => done = true);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assertEquals(done, false, "stop waits for the run");
  finish();
  await stopped;
  assertEquals([runs, finished], [1, 1]);
  assertEquals(fake.delays(), [], "nothing scheduled after stop");
});

Deno.test("a run that fails as a whole is logged and the loop goes on", async () => {
  const fake = fakeTimers();
  const lines: string[] = [];
  let calls = 0;
  const loop = startRenewal({
    acme: {
      renewDue: () => {
        calls++;
        return calls === 1
          ? Promise.reject(new Error("database unreachable"))
          : Promise.resolve(NOTHING);
      },
    },
    log: createLogger({ level: "warn", format: "json", write: (line) => lines.push(line) }),
    firstDelayMs: 0,
    intervalMs: 5,
    timers: fake.timers,
  });
  fake.fire();
  await new Promise((resolve) => setTimeout(resolve, 0));
  const line = JSON.parse(lines[0]!);
  assertEquals([line.level, line.event], ["warn", "acme_renewal_check_failed"]);
  assertEquals(fake.delays(), [5]);
  fake.fire();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(calls, 2);
  await loop.stop();
});
