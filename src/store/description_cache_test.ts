import { assertEquals, assertThrows } from "../../tests/assert.ts";
import {
  DESCRIPTION_CACHE_ENTRIES,
  DESCRIPTION_CACHE_OCTETS,
  DescriptionCache,
} from "./description_cache.ts";

Deno.test("description cache: a hit returns the value kept for that account only", () => {
  const cache = new DescriptionCache<string>(4);
  assertEquals(cache.get(1, 10), undefined);
  cache.set(1, 10, "ten", 1);
  assertEquals(cache.get(1, 10), "ten");
  assertEquals(cache.get(2, 10), undefined, "another account misses");
  assertEquals(cache.get(1, 11), undefined);
  cache.set(2, 10, "other", 1);
  assertEquals(cache.get(1, 10), undefined, "the entry now belongs to account 2");
  assertEquals(cache.get(2, 10), "other");
  assertEquals(cache.size, 1);
});

Deno.test("description cache: bounded, evicting the least recently used", () => {
  const cache = new DescriptionCache<number>(3);
  cache.set(1, 1, 1, 1);
  cache.set(1, 2, 2, 1);
  cache.set(1, 3, 3, 1);
  assertEquals(cache.get(1, 1), 1); // 1 is now the most recent; 2 the least
  cache.set(1, 4, 4, 1);
  assertEquals(cache.size, 3);
  assertEquals(cache.get(1, 2), undefined);
  assertEquals([cache.get(1, 1), cache.get(1, 3), cache.get(1, 4)], [1, 3, 4]);
  cache.set(1, 3, 30, 1); // replacing refreshes and keeps the size
  assertEquals(cache.size, 3);
  cache.set(1, 5, 5, 1);
  assertEquals(cache.get(1, 1), undefined);
  assertEquals(cache.get(1, 3), 30);
  for (let i = 100; i < 1100; i++) cache.set(7, i, i, 1);
  assertEquals(cache.size, 3);
  assertEquals([cache.get(7, 1097), cache.get(7, 1098), cache.get(7, 1099)], [1097, 1098, 1099]);
});

Deno.test("description cache: capacity 0 keeps nothing; a bad capacity is refused", () => {
  const off = new DescriptionCache<string>(0);
  off.set(1, 1, "x", 1);
  assertEquals(off.get(1, 1), undefined);
  assertEquals(off.size, 0);
  const defaults = new DescriptionCache<string>();
  assertEquals([defaults.capacity, defaults.maxOctets], [
    DESCRIPTION_CACHE_ENTRIES,
    DESCRIPTION_CACHE_OCTETS,
  ]);
  assertThrows(() => new DescriptionCache<string>(-1), RangeError);
  assertThrows(() => new DescriptionCache<string>(1.5), RangeError);
  assertThrows(() => new DescriptionCache<string>(1, -1), RangeError);
});

Deno.test("description cache: bounded by weight too; one heavy entry is not kept", () => {
  const cache = new DescriptionCache<string>(100, 1000);
  for (let i = 1; i <= 10; i++) cache.set(1, i, `m${i}`, 100);
  assertEquals([cache.size, cache.octets], [10, 1000]);
  cache.set(1, 11, "m11", 100); // evicts 1
  assertEquals([cache.size, cache.octets], [10, 1000]);
  assertEquals(cache.get(1, 1), undefined);
  cache.set(1, 2, "m2 again", 50); // replacing adjusts the weight
  assertEquals([cache.size, cache.octets], [10, 950]);
  cache.set(1, 12, "heavy", 101); // more than a tenth of the bound: not kept
  assertEquals(cache.get(1, 12), undefined);
  assertEquals([cache.size, cache.octets], [10, 950]);
  cache.set(1, 3, "heavy", 101); // nor does it stay under an old id
  assertEquals(cache.get(1, 3), undefined);
  assertEquals([cache.size, cache.octets], [9, 850]);
});
