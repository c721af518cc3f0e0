import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "../../tests/assert.ts";
import { GOOD_PASSWORD, withStore } from "../../tests/store.ts";
import { createLogger } from "../ops/log.ts";
import type { Sql } from "../store/mod.ts";
import { InvalidInputError, NotFoundError } from "../util/errors.ts";
import {
  type BanPolicy,
  Bans,
  type BansOptions,
  DEFAULT_BAN_POLICY,
  delayFor,
  formatDuration,
  normalizeAccount,
} from "./bans.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const START = Date.parse("2026-11-27T12:00:00Z");

function setup(sql: Sql, options: BansOptions = {}) {
  const clock = { t: START, now: () => clock.t };
  const lines: string[] = [];
  const log = createLogger({
    level: "info",
    format: "text",
    write: (line) => lines.push(line),
    now: () => new Date(clock.t),
  });
  return { clock, lines, bans: new Bans(sql, { log, now: clock.now, ...options }) };
}

async function fail(
  bans: Bans,
  ip: string,
  account = "alice@example.org",
  reason = "bad-password",
) {
  return await bans.recordFailure({ protocol: "imap", ip, account, reason });
}

Deno.test("the delay: none up to the backoff threshold, then doubling up to the cap", () => {
  assertEquals(DEFAULT_BAN_POLICY.backoffAfter, 5);
  assertEquals(DEFAULT_BAN_POLICY.banAfter, 20);
  assertEquals(DEFAULT_BAN_POLICY.windowMs, HOUR);
  const delays = Array.from({ length: 14 }, (_, i) => delayFor(i + 1));
  assertEquals(delays, [0, 0, 0, 0, 0, 250, 500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
  assertEquals(delayFor(1e9), 10_000);
  const policy: Pick<BanPolicy, "backoffAfter" | "baseDelayMs" | "maxDelayMs"> = {
    backoffAfter: 1,
    baseDelayMs: 100,
    maxDelayMs: 300,
  };
  assertEquals([1, 2, 3, 4].map((n) => delayFor(n, policy)), [0, 100, 200, 300]);
});

Deno.test("typed account names are stored canonical when they parse, and made safe", () => {
  assertEquals(normalizeAccount("Alice@Example.ORG"), "alice@example.org");
  assertEquals(normalizeAccount("ALICE"), "alice");
  assertEquals(normalizeAccount(""), "");
  assertEquals(normalizeAccount("a\r\nb\u202ec\u0000"), "a??b?c?");
  assertEquals(normalizeAccount("x".repeat(400)).length, 321);
  assertEquals(formatDuration(HOUR), "1 h");
  assertEquals(formatDuration(90 * MINUTE + 5000), "1 h 30 min 5 s");
  assertEquals(formatDuration(7 * DAY), "7 d");
});

Deno.test("policy and names are checked", async () => {
  await withStore(async ({ store }) => {
    assertThrows(() => new Bans(store.sql, { banAfter: 0 }), RangeError);
    assertThrows(() => new Bans(store.sql, { windowMs: -1 }), RangeError);
    assertThrows(() => new Bans(store.sql, { allow: ["10.0.0.1/8"] }), InvalidInputError);
    const { bans } = setup(store.sql);
    await assertRejects(
      () => bans.recordFailure({ protocol: "IMAP x", ip: "192.0.2.1", account: "", reason: "r" }),
      InvalidInputError,
      "protocol",
    );
    await assertRejects(
      () => bans.recordFailure({ protocol: "imap", ip: "nope", account: "", reason: "r" }),
      InvalidInputError,
      'Cannot parse IP address "nope"',
    );
    await assertRejects(() => bans.isBanned("192.0.2.1/24"), InvalidInputError);
  });
});

Deno.test("failures slow down after 5 and ban after 20 in an hour; the ban explains itself and expires", async () => {
  await withStore(async ({ store }) => {
    const { bans, clock, lines } = setup(store.sql);
    const outcomes = [];
    for (let i = 1; i <= 19; i++) {
      // Several accounts, as a password sprayer would: the client's count is what bans.
      outcomes.push(await fail(bans, "192.0.2.7", i % 2 ? "alice@example.org" : `user${i}@x.test`));
      clock.t += MINUTE;
    }
    assertEquals(outcomes.map((o) => o.delayMs).slice(0, 8), [0, 0, 0, 0, 0, 250, 500, 1000]);
    assertEquals(outcomes.at(-1)!.delayMs, 10_000);
    assert(outcomes.every((o) => !o.banned));
    assertEquals(outcomes.at(-1)!.failures, { client: 19, counted: 19, account: 10 });
    assertEquals(await bans.isBanned("192.0.2.7"), false);
    assertEquals(await bans.list(), []);

    const twentieth = await fail(bans, "192.0.2.7", "Bob@Example.org");
    assertEquals(twentieth.banned, true);
    assert(await bans.isBanned("192.0.2.7"));
    assert(await bans.isBanned("::ffff:192.0.2.7"), "the mapped form is the same client");
    assertEquals(await bans.isBanned("192.0.2.8"), false, "only that address");

    const [ban, ...others] = await bans.list();
    assertEquals(others, []);
    assertEquals(ban!.network, "192.0.2.7/32");
    assertEquals(ban!.createdBy, "auto");
    assertEquals(ban!.createdAt, new Date(clock.t));
    assertEquals(ban!.expiresAt, new Date(clock.t + HOUR));
    assertEquals(
      ban!.reason,
      "20 failed sign-ins within 1 h from 192.0.2.7/32: alice@example.org ×10, bob@example.org ×1, user10@x.test ×1, user12@x.test ×1, user14@x.test ×1, …",
    );
    assertEquals(ban!.details.length, 20);
    assertEquals(ban!.details[0], {
      at: new Date(clock.t),
      protocol: "imap",
      ip: "192.0.2.7",
      account: "bob@example.org",
      reason: "bad-password",
    });
    assertEquals(ban!.details.at(-1)!.at, new Date(START));
    assertEquals((await bans.covering("192.0.2.7")).map((b) => b.id), [ban!.id]);
    const logged = lines.filter((l) => l.includes("ban added"));
    assertEquals(logged.length, 1);
    assertMatch(logged[0]!, /WARN +ban added network=192\.0\.2\.7\/32 by=auto expires=2026-/);

    // Expiry: ignored from its time on, deleted by expire().
    clock.t += HOUR - 1;
    assert(await bans.isBanned("192.0.2.7"));
    clock.t += 1;
    assertEquals(await bans.isBanned("192.0.2.7"), false);
    assertEquals(await bans.list(), []);
    assertEquals((await bans.list({ includeExpired: true })).length, 1);
    const report = await bans.expire();
    assertEquals(report.bans, 1);
    assertEquals((await bans.list({ includeExpired: true })).length, 0);
  });
});

Deno.test("only failures within the window count", async () => {
  await withStore(async ({ store }) => {
    const { bans, clock } = setup(store.sql, { banAfter: 3 });
    await fail(bans, "192.0.2.1");
    await fail(bans, "192.0.2.1");
    clock.t += HOUR;
    const third = await fail(bans, "192.0.2.1");
    assertEquals(third.failures.client, 1, "the first two are an hour old");
    assertEquals(third.banned, false);
    // expire() keeps failures for a day (the retention), then drops them.
    assertEquals((await bans.expire()).failures, 0);
    clock.t = START + DAY;
    assertEquals((await bans.expire()).failures, 0, "kept for a day");
    clock.t += 1;
    assertEquals((await bans.expire()).failures, 2);
    clock.t += HOUR;
    assertEquals((await bans.expire()).failures, 1);
  });
});

Deno.test("IPv6 clients are counted and banned per /64", async () => {
  await withStore(async ({ store }) => {
    const { bans } = setup(store.sql, { banAfter: 4 });
    for (let i = 1; i <= 3; i++) {
      assertEquals((await fail(bans, `2001:db8:1:2::${i}`)).banned, false);
    }
    assertEquals((await fail(bans, "2001:db8:1:3::1")).failures.client, 1, "another /64");
    const fourth = await fail(bans, "2001:DB8:1:2:ffff:ffff:ffff:ffff");
    assertEquals(fourth.banned, true);
    assertEquals((await bans.list()).map((b) => b.network), ["2001:db8:1:2::/64"]);
    assert(await bans.isBanned("2001:db8:1:2:abcd::99"));
    assertEquals(await bans.isBanned("2001:db8:1:3::1"), false);
    const details = (await bans.list())[0]!.details.map((d) => d.ip);
    assertEquals(details, [
      "2001:db8:1:2:ffff:ffff:ffff:ffff",
      "2001:db8:1:2::3",
      "2001:db8:1:2::2",
      "2001:db8:1:2::1",
    ]);
  });
});

Deno.test("the allow list always wins: never banned automatically, and bans over it ignored", async () => {
  await withStore(async ({ store }) => {
    const { bans, lines } = setup(store.sql, {
      banAfter: 2,
      allow: ["10.0.0.0/8", "2001:db8::/32"],
    });
    for (let i = 0; i < 5; i++) {
      const outcome = await fail(bans, "10.1.2.3");
      assertEquals(outcome.banned, false);
    }
    // Still recorded and slowed (allowed clients are trusted with bans, not with guessing).
    assertEquals((await fail(bans, "10.1.2.3")).failures.client, 6);
    assertEquals(await bans.list(), []);
    await bans.add("10.0.0.0/16", { reason: "oops" });
    await bans.add("2001:db8:5::/48");
    assertEquals(await bans.isBanned("10.0.0.1"), false);
    assertEquals(await bans.isBanned("::ffff:10.0.0.1"), false);
    assertEquals(await bans.isBanned("2001:db8:5::1"), false);
    assert(bans.isAllowed("10.0.0.1"));
    assert(!bans.isAllowed("11.0.0.1"));
    assertEquals(lines.filter((l) => l.includes("ban added")).length, 2, "admin bans are logged");
  });
});

Deno.test("a client an account signed in from lately is slowed, not banned, for its failures", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const { bans, clock } = setup(store.sql, { banAfter: 5 });
    await bans.recordSuccess(alice.id, "198.51.100.20");
    clock.t += DAY;
    // Alice's phone with an old password, from the office NAT: slowed, never banned.
    let last;
    for (let i = 0; i < 12; i++) last = await fail(bans, "198.51.100.20", "Alice@Example.org");
    assertEquals(last!.banned, false);
    assertEquals(last!.failures, { client: 12, counted: 0, account: 12 });
    assertEquals(last!.delayMs, delayFor(12));
    assertEquals(await bans.isBanned("198.51.100.20"), false);
    // Anyone else's failures from that office still count.
    for (let i = 0; i < 4; i++) {
      assert(!(await fail(bans, "198.51.100.20", "bob@example.org")).banned);
    }
    assert((await fail(bans, "198.51.100.20", "mallory@example.org")).banned);
    const [ban] = await bans.list();
    assert(ban!.details.every((d) => d.account !== "alice@example.org"), "excused ones not shown");
    assertStringIncludes(ban!.reason, "5 failed sign-ins");
    // The trust lasts 7 days from the last success, and only for that client.
    await bans.remove(ban!.network);
    clock.t += 5 * DAY; // six days after the success
    assertEquals((await fail(bans, "198.51.100.20")).failures.counted, 0);
    assertEquals((await fail(bans, "198.51.100.21")).failures.counted, 1, "another client");
    clock.t += DAY;
    assertEquals((await fail(bans, "198.51.100.20")).failures.counted, 1, "a week later");
  });
});

Deno.test("an account's failures slow every client guessing it, and restart when its owner signs in", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const { bans, clock } = setup(store.sql);
    let last;
    for (let i = 1; i <= 8; i++) {
      last = await fail(bans, `203.0.113.${i}`); // a botnet: one failure per address
      clock.t += 1000;
    }
    assertEquals(last!.failures, { client: 1, counted: 1, account: 8 });
    assertEquals(last!.delayMs, 1000);
    await bans.recordSuccess(alice.id, "192.0.2.50");
    clock.t += 1000;
    assertEquals((await fail(bans, "203.0.113.99")).failures.account, 1);
    assertEquals(await bans.list(), [], "accounts are never locked and bots are not banned");
    // Unknown accounts are counted by the name as typed, exactly like existing ones.
    for (let i = 1; i <= 7; i++) last = await fail(bans, `203.0.114.${i}`, "nobody@example.org");
    assertEquals(last!.failures.account, 7);
    assertEquals(last!.delayMs, 500);
  });
});

Deno.test("dry run: logs the ban it would make, once per window, and makes none", async () => {
  await withStore(async ({ store }) => {
    const { bans, clock, lines } = setup(store.sql, { banAfter: 3, dryRun: true });
    const outcomes = [];
    for (let i = 0; i < 6; i++) outcomes.push(await fail(bans, "192.0.2.99"));
    assert(outcomes.every((o) => !o.banned));
    assertEquals(await bans.list({ includeExpired: true }), []);
    assertEquals(await bans.isBanned("192.0.2.99"), false);
    const dry = lines.filter((l) => l.includes("ban (dry run)"));
    assertEquals(dry.length, 1);
    assertMatch(
      dry[0]!,
      /WARN +ban \(dry run\) network=192\.0\.2\.99\/32 by=auto reason="3 failed sign-ins within 1 h from 192\.0\.2\.99\/32: alice@example\.org ×3"/,
    );
    clock.t += HOUR;
    await fail(bans, "192.0.2.99");
    await fail(bans, "192.0.2.99");
    await fail(bans, "192.0.2.99");
    assertEquals(lines.filter((l) => l.includes("ban (dry run)")).length, 2, "next window");
    // Administrators' bans are enforced in a dry run too.
    await bans.add("192.0.2.99");
    assert(await bans.isBanned("192.0.2.99"));
  });
});

Deno.test("administrators add, replace and remove bans; removing forgives", async () => {
  await withStore(async ({ store }) => {
    const { bans, clock } = setup(store.sql, { banAfter: 3 });
    const ban = await bans.add("198.51.100.0/24", {
      reason: "scanner",
      expiresAt: new Date(START + DAY),
    });
    assertEquals(ban.network, "198.51.100.0/24");
    assertEquals(ban.createdBy, "admin");
    assertEquals(ban.reason, "scanner");
    assertEquals(ban.expiresAt, new Date(START + DAY));
    assert(await bans.isBanned("198.51.100.77"));
    assertEquals(await bans.isBanned("198.51.101.1"), false);
    const permanent = await bans.add("2001:DB8::/32");
    assertEquals(permanent.expiresAt, null);
    assertEquals(permanent.reason, "banned by an administrator");
    // Adding again replaces reason, time and expiry.
    clock.t += 1000;
    const replaced = await bans.add("198.51.100.0/24", { reason: "still scanning" });
    assertEquals(replaced.id, ban.id);
    assertEquals(replaced.expiresAt, null);
    assertEquals(replaced.createdAt, new Date(clock.t));
    assertEquals((await bans.list()).map((b) => `${b.network} ${b.reason}`), [
      "2001:db8::/32 banned by an administrator",
      "198.51.100.0/24 still scanning",
    ]);
    await assertRejects(
      () => bans.add("192.0.2.1", { expiresAt: new Date(START) }),
      InvalidInputError,
      "would expire before it starts",
    );
    await assertRejects(() => bans.add("192.0.2.1/24"), InvalidInputError, "192.0.2.0/24");
    // Removing names the exact network; a covered address gets a hint.
    await assertRejects(
      () => bans.remove("198.51.100.7"),
      NotFoundError,
      "No ban on 198.51.100.7/32; it is covered by 198.51.100.0/24",
    );
    await assertRejects(() => bans.remove("192.0.2.1"), NotFoundError, "No ban on 192.0.2.1/32");
    assertEquals((await bans.remove("::ffff:198.51.100.0/120")).network, "198.51.100.0/24");
    assertEquals(await bans.isBanned("198.51.100.77"), false);

    // An automatic ban, removed: its failures are forgiven, so one more does not ban again.
    for (let i = 0; i < 3; i++) await fail(bans, "192.0.2.44");
    assert(await bans.isBanned("192.0.2.44"));
    await bans.remove("192.0.2.44");
    clock.t += 1000;
    const after = await fail(bans, "192.0.2.44");
    assertEquals(after.failures.client, 1);
    assertEquals(after.banned, false);
  });
});

Deno.test("automatic bans never replace an active ban; they replace an expired one", async () => {
  await withStore(async ({ store }) => {
    const { bans, clock } = setup(store.sql, { banAfter: 2, banDurationMs: HOUR });
    await bans.add("192.0.2.5", { reason: "by hand" });
    // The ban is checked before sign-in in practice; recordFailure alone still says banned.
    await fail(bans, "192.0.2.5");
    assert((await fail(bans, "192.0.2.5")).banned);
    const [kept] = await bans.list();
    assertEquals([kept!.reason, kept!.createdBy, kept!.expiresAt], ["by hand", "admin", null]);

    await bans.add("192.0.2.6", { reason: "short", expiresAt: new Date(clock.t + 1000) });
    clock.t += 2000;
    await fail(bans, "192.0.2.6");
    assert((await fail(bans, "192.0.2.6")).banned);
    const renewed = (await bans.list()).find((b) => b.network === "192.0.2.6/32")!;
    assertEquals(renewed.createdBy, "auto");
    assertEquals(renewed.expiresAt, new Date(clock.t + HOUR));
    assertEquals(renewed.details.length, 2);
  });
});

Deno.test("permanent automatic bans when the duration is null", async () => {
  await withStore(async ({ store }) => {
    const { bans, clock } = setup(store.sql, { banAfter: 1, banDurationMs: null });
    assert((await fail(bans, "192.0.2.1")).banned);
    clock.t += 365 * DAY;
    assert(await bans.isBanned("192.0.2.1"));
    assertEquals((await bans.expire()).bans, 0);
  });
});
