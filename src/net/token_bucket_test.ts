import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { TokenBucket, TokenBuckets } from "./token_bucket.ts";

function fakeClock(start = 1_000_000) {
  const clock = { t: start, now: () => clock.t };
  return clock;
}

Deno.test("a bucket allows its burst, then its rate", () => {
  const clock = fakeClock();
  const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 2, now: clock.now });
  assertEquals([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [
    true,
    true,
    true,
    false,
  ]);
  assertEquals(bucket.waitTime(), 500);
  clock.t += 499;
  assert(!bucket.take(), "not before half a second");
  clock.t += 1;
  assert(bucket.take(), "one token after half a second");
  assert(!bucket.take());
  clock.t += 60_000;
  assertEquals(bucket.available(), 3, "never more than the capacity");
  assert(bucket.take(3));
  assert(!bucket.take(1));
  assertEquals(bucket.waitTime(2), 1000);
});

Deno.test("a clock going backwards adds nothing and takes nothing", () => {
  const clock = fakeClock();
  const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, now: clock.now });
  assert(bucket.take());
  clock.t -= 10_000;
  assert(!bucket.take());
  clock.t += 10_000; // back where it was: still nothing has accrued
  assert(!bucket.take());
  clock.t += 1000;
  assert(bucket.take());
});

Deno.test("a failed take costs nothing; fractional rates accrue", () => {
  const clock = fakeClock();
  const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 0.5, now: clock.now });
  assert(bucket.take(2));
  clock.t += 1000;
  assert(!bucket.take(), "half a token");
  clock.t += 1000;
  assert(bucket.take(), "the failed take did not spend the half token");
});

Deno.test("invalid shapes are refused", () => {
  assertThrows(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 }), RangeError);
  assertThrows(() => new TokenBucket({ capacity: 1, refillPerSecond: 0 }), RangeError);
  assertThrows(() => new TokenBucket({ capacity: NaN, refillPerSecond: 1 }), RangeError);
  assertThrows(() => new TokenBuckets({ capacity: 1, refillPerSecond: 1, maxKeys: 0 }), RangeError);
});

Deno.test("keyed buckets are independent", () => {
  const clock = fakeClock();
  const buckets = new TokenBuckets<string>({ capacity: 2, refillPerSecond: 1, now: clock.now });
  assert(buckets.take("a"));
  assert(buckets.take("a"));
  assert(!buckets.take("a"));
  assert(buckets.take("b"), "b has its own bucket");
  assertEquals(buckets.available("a"), 0);
  assertEquals(buckets.available("never-seen"), 2);
  clock.t += 1000;
  assert(buckets.take("a"));
});

Deno.test("keyed buckets forget the ones that refilled, and never hold more than maxKeys", () => {
  const clock = fakeClock();
  const buckets = new TokenBuckets<number>({
    capacity: 4,
    refillPerSecond: 2,
    maxKeys: 100,
    now: clock.now,
  });
  for (let i = 0; i < 50; i++) buckets.take(i);
  assertEquals(buckets.size, 50);
  clock.t += 499; // a token refilled of each, but not full yet
  assertEquals(buckets.sweep(), 0);
  clock.t += 1; // 0.5 s: each of the 50 is full again
  assertEquals(buckets.sweep(), 50);
  assertEquals(buckets.size, 0);

  // The sweep also runs by itself once per refill period (2 s here), on use.
  for (let i = 0; i < 50; i++) buckets.take(i);
  clock.t += 2000;
  buckets.take(1000);
  assertEquals(buckets.size, 1);

  // A flood of distinct keys: the least recently used go first, the bound holds.
  for (let i = 0; i < 1000; i++) {
    buckets.take(i);
    buckets.take(i);
    buckets.take(i);
    assert(buckets.size <= 100);
  }
  assertEquals(buckets.size, 100);
  assertEquals(buckets.available(999), 1, "the newest is kept, with its taken tokens");
  assertEquals(buckets.available(0), 4, "the oldest was dropped");
});

Deno.test("a key in use is not dropped for the bound", () => {
  const clock = fakeClock();
  const buckets = new TokenBuckets<string>({
    capacity: 2,
    refillPerSecond: 1,
    maxKeys: 3,
    now: clock.now,
  });
  buckets.take("hot");
  buckets.take("a");
  buckets.take("hot"); // now most recently used, and empty
  buckets.take("b");
  buckets.take("c"); // evicts "a", the least recently used
  assertEquals(buckets.size, 3);
  assert(!buckets.take("hot"), "hot kept its empty bucket");
});
