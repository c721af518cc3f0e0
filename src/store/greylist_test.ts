import { assertEquals } from "../../tests/assert.ts";
import { withStore } from "../../tests/store.ts";
import { Greylist } from "./greylist.ts";

const MINUTE = 60_000;
const periods = { delayMs: 5 * MINUTE, windowMs: 4 * 60 * MINUTE, allowMs: 35 * 24 * 60 * MINUTE };
const triplet = {
  client: "192.0.2.0/24",
  sender: "a@remote.example",
  recipient: "bob@example.org",
};

Deno.test("greylist: new, early, passed after the delay, then the network is allowed", async () => {
  await withStore(async ({ store }) => {
    const greylist = new Greylist(store.sql);
    const t0 = new Date("2026-11-28T06:00:00Z");
    const at = (ms: number) => new Date(t0.getTime() + ms);
    assertEquals(await greylist.attempt(triplet, t0, periods), { kind: "new" });
    assertEquals(await greylist.attempt(triplet, at(MINUTE), periods), {
      kind: "early",
      waitMs: 4 * MINUTE,
    });
    assertEquals(await greylist.attempt(triplet, at(6 * MINUTE), periods), { kind: "passed" });
    // RFC 6647 §2.2: the client network is allow-listed, for any sender and recipient.
    const other = { ...triplet, sender: "", recipient: "alice@example.org" };
    assertEquals(await greylist.attempt(other, at(7 * MINUTE), periods), { kind: "allowed" });
  });
});

Deno.test("greylist: a retry after the window starts over; expire deletes old rows", async () => {
  await withStore(async ({ store }) => {
    const greylist = new Greylist(store.sql);
    const t0 = new Date("2026-11-28T06:00:00Z");
    const at = (ms: number) => new Date(t0.getTime() + ms);
    assertEquals(await greylist.attempt(triplet, t0, periods), { kind: "new" });
    assertEquals(await greylist.attempt(triplet, at(5 * 60 * MINUTE), periods), { kind: "new" });
    assertEquals(await greylist.expire(at(5 * 60 * MINUTE)), 0);
    assertEquals(await greylist.expire(at(10 * 60 * MINUTE)), 1);
    // An allow-listing expires too.
    await greylist.attempt(triplet, at(10 * 60 * MINUTE), periods);
    assertEquals(
      (await greylist.attempt(triplet, at(10 * 60 * MINUTE + 6 * MINUTE), periods)).kind,
      "passed",
    );
    assertEquals(await greylist.expire(at(10 * 60 * MINUTE + periods.allowMs + 7 * MINUTE)), 1);
    const [row] = await store.sql<{ n: number }[]>`
      select (select count(*) from greylist_triplets)::int
           + (select count(*) from greylist_clients)::int as n`;
    assertEquals(row!.n, 0);
  });
});

Deno.test("greylist: expire deletes in batches until nothing expired is left", async () => {
  await withStore(async ({ store }) => {
    const greylist = new Greylist(store.sql);
    const t0 = new Date("2026-11-28T06:00:00Z");
    for (let i = 0; i < 7; i++) {
      await greylist.attempt({ ...triplet, recipient: `u${i}@example.org` }, t0, periods);
    }
    const later = new Date(t0.getTime() + periods.windowMs + MINUTE);
    // Batches of 3: 3 + 3 + 1.
    assertEquals(await greylist.expire(later, 3), 7);
    const [row] = await store.sql<
      { n: number }[]
    >`select count(*)::int as n from greylist_triplets`;
    assertEquals(row!.n, 0);
  });
});

Deno.test("greylist: an allow-listed network is not written on every recipient", async () => {
  await withStore(async ({ store }) => {
    const greylist = new Greylist(store.sql);
    const t0 = new Date("2026-11-28T06:00:00Z");
    const at = (ms: number) => new Date(t0.getTime() + ms);
    await greylist.attempt(triplet, t0, periods);
    assertEquals((await greylist.attempt(triplet, at(6 * MINUTE), periods)).kind, "passed");
    const expiry = async () =>
      (await store.sql<{ expires_at: Date }[]>`select expires_at from greylist_clients`)[0]!
        .expires_at.getTime();
    const listed = await expiry();
    // A minute later: allowed, and the row is left as it was.
    assertEquals((await greylist.attempt(triplet, at(7 * MINUTE), periods)).kind, "allowed");
    assertEquals(await expiry(), listed);
    // After a tenth of the period: prolonged to a full period from then.
    const late = 6 * MINUTE + periods.allowMs / 10 + MINUTE;
    assertEquals((await greylist.attempt(triplet, at(late), periods)).kind, "allowed");
    assertEquals(await expiry(), t0.getTime() + late + periods.allowMs);
  });
});
