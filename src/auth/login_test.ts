import { assert, assertEquals, assertMatch, assertRejects } from "../../tests/assert.ts";
import { GOOD_PASSWORD, withStore } from "../../tests/store.ts";
import { createLogger } from "../ops/log.ts";
import type { Store } from "../store/mod.ts";
import { InvalidInputError } from "../util/errors.ts";
import { Bans, type BansOptions } from "./bans.ts";
import { Login, sqlCredentials, VerificationCache } from "./login.ts";

const START = Date.parse("2026-11-27T12:00:00Z");

function setup(store: Store, options: BansOptions = {}) {
  const clock = { t: START, now: () => clock.t };
  const lines: string[] = [];
  const sleeps: number[] = [];
  const log = createLogger({
    level: "info",
    format: "text",
    write: (line) => lines.push(line),
    now: () => new Date(clock.t),
  });
  const bans = new Bans(store.sql, { log, now: clock.now, ...options });
  const login = new Login({
    bans,
    credentials: sqlCredentials(store.sql),
    log,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  });
  return { clock, lines, sleeps, bans, login };
}

const imap = (ip: string) => ({ protocol: "imap", ip });

Deno.test("a correct password signs in, undelayed, and is remembered for its client", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
      isAdmin: true,
    });
    const { login, lines, sleeps } = setup(store);
    const signedIn = await login.checkLogin(
      "Alice@EXAMPLE.org",
      GOOD_PASSWORD,
      imap("::ffff:192.0.2.7"),
    );
    assertEquals(signedIn, { id: alice.id, address: "alice@example.org", isAdmin: true });
    assertEquals(sleeps, []);
    assertEquals(lines, [
      "2026-11-27T12:00:00.000Z INFO  auth succeeded protocol=imap ip=192.0.2.7 account=alice@example.org",
    ]);
    const rows = await store.sql`select account_id, ip_key from auth_successes`;
    assertEquals([...rows], [{ account_id: alice.id, ip_key: "192.0.2.7" }]);
    // Detached use, as a session's deps interface holds it.
    const check = login.checkLogin;
    assert(await check("alice@example.org", GOOD_PASSWORD, imap("2001:db8::1")));
  });
});

Deno.test("every kind of failure answers null and writes one stable line", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    await store.accounts.create({ address: "dave@example.org", password: GOOD_PASSWORD });
    await store.accounts.setDisabled("dave@example.org", true);
    const { login, lines, bans } = setup(store);
    assertEquals(
      await login.checkLogin("alice@example.org", "wrong password", imap("192.0.2.7")),
      null,
    );
    assertEquals(
      await login.checkLogin("nobody@example.org", GOOD_PASSWORD, imap("192.0.2.7")),
      null,
    );
    assertEquals(
      await login.checkLogin("dave@example.org", GOOD_PASSWORD, imap("192.0.2.7")),
      null,
    );
    assertEquals(
      await login.checkLogin("not an address", "x", { protocol: "smtp", ip: "2001:db8::5" }),
      null,
    );
    await bans.add("198.51.100.0/24");
    lines.length = 0;
    assertEquals(
      await login.checkLogin("alice@example.org", GOOD_PASSWORD, imap("198.51.100.1")),
      null,
    );
    assertEquals(lines, [
      "2026-11-27T12:00:00.000Z WARN  auth failed protocol=imap ip=198.51.100.1 account=alice@example.org reason=banned",
    ]);
    const failures = await store.sql<{ account: string; reason: string; ip_key: string }[]>`
      select account, reason, ip_key from auth_failures order by id`;
    assertEquals(failures.map((f) => `${f.ip_key} ${f.account} ${f.reason}`), [
      "192.0.2.7 alice@example.org bad-password",
      "192.0.2.7 nobody@example.org unknown-account",
      "192.0.2.7 dave@example.org disabled",
      "2001:db8::/64 not an address unknown-account",
    ], "a banned client's attempts are logged, not counted");
  });
});

Deno.test("the log line in both formats, with the logger's own fields first", async () => {
  await withStore(async ({ store }) => {
    for (const format of ["text", "json"] as const) {
      const lines: string[] = [];
      const log = createLogger({
        level: "info",
        format,
        write: (line) => lines.push(line),
        now: () => new Date(START),
      }).child({ conn: "c7" });
      const bans = new Bans(store.sql, { now: () => START });
      const login = new Login({
        bans,
        credentials: sqlCredentials(store.sql),
        log,
        sleep: () => Promise.resolve(),
      });
      await login.checkLogin('x" ip=10.0.0.1', "pw", { protocol: "submission", ip: "192.0.2.8" });
      if (format === "text") {
        assertEquals(lines, [
          '2026-11-27T12:00:00.000Z WARN  auth failed conn=c7 protocol=submission ip=192.0.2.8 account="x\\" ip=10.0.0.1" reason=unknown-account',
        ]);
      } else {
        assertEquals(lines.length, 1);
        assertMatch(
          lines[0]!,
          /^\{"time":"2026-11-27T12:00:00\.000Z","level":"warn","msg":"auth failed","conn":"c7","protocol":"submission","ip":"192\.0\.2\.8","account":/,
        );
        assertEquals(JSON.parse(lines[0]!).account, 'x" ip=10.0.0.1');
      }
    }
  });
});

Deno.test("failures are delayed exponentially before the answer; a banned client waits longest", async () => {
  await withStore(async ({ store }) => {
    const { login, sleeps, bans } = setup(store, { banAfter: 8 });
    for (let i = 0; i < 8; i++) {
      await login.checkLogin("bob@example.org", "guess", imap("203.0.113.5"));
    }
    assertEquals(sleeps, [0, 0, 0, 0, 0, 250, 500, 1000]);
    assert(await bans.isBanned("203.0.113.5"));
    sleeps.length = 0;
    await login.checkLogin("bob@example.org", "guess", imap("203.0.113.5"));
    assertEquals(sleeps, [10_000]);
  });
});

Deno.test("a malformed client address or protocol is the caller's bug, not a failed sign-in", async () => {
  await withStore(async ({ store }) => {
    const { login, lines } = setup(store);
    await assertRejects(
      () => login.checkLogin("a@example.org", "x", imap("fe80::1%eth0")),
      InvalidInputError,
      "zone ids",
    );
    await assertRejects(
      () => login.checkLogin("a@example.org", "x", { protocol: "IMAP", ip: "192.0.2.1" }),
      InvalidInputError,
      "protocol",
    );
    assertEquals(lines, []);
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

Deno.test("an existing and an unknown account fail alike: same answer, same outcome, same time", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    await store.accounts.create({ address: "dave@example.org", password: GOOD_PASSWORD });
    await store.accounts.setDisabled("dave@example.org", true);
    // A high backoff threshold: no delay, so only the work itself is timed.
    const { login, sleeps } = setup(store, { backoffAfter: 1000, banAfter: 1000 });
    const cases = {
      "bad-password": "alice@example.org",
      "unknown-account": "nobody@example.org",
      disabled: "dave@example.org",
    };
    const times: Record<string, number[]> = {};
    // Warm up (Argon2id's WebAssembly, the statements), then interleave the cases.
    await login.checkLogin("alice@example.org", "warm up", imap("192.0.2.200"));
    await login.checkLogin("nobody@example.org", "warm up", imap("192.0.2.200"));
    for (let round = 0; round < 7; round++) {
      for (const [name, address] of Object.entries(cases)) {
        const started = performance.now();
        const answer = await login.checkLogin(address, `wrong ${round}`, imap(`192.0.2.${round}`));
        (times[name] ??= []).push(performance.now() - started);
        assertEquals(answer, null);
      }
    }
    assertEquals(new Set(sleeps).size, 1, "the same delay for each");
    const medians = Object.values(times).map(median);
    const ratio = Math.max(...medians) / Math.min(...medians);
    // Argon2id dominates (tens of ms or more); what differs between the paths is an index
    // lookup or two. A path that skipped the password hash would be many times faster, so a
    // ratio bound catches it, while staying loose enough for a busy machine's noise (medians
    // of interleaved runs; single runs here vary by 2-3x under load).
    assert(
      ratio < 2,
      `median times ${JSON.stringify(times)} differ by a factor ${ratio.toFixed(2)}`,
    );
    assert(Math.min(...medians) > 10, "every path spends Argon2id time");
  });
});

Deno.test("the verification cache: hits for the same address, hash and password, within its time", async () => {
  const clock = { t: START, now: () => clock.t };
  const cache = new VerificationCache({ ttlMs: 1000, maxEntries: 2, now: clock.now });
  assertEquals(await cache.has("a@example.org", "$hash1", "pw"), false);
  await cache.add("a@example.org", "$hash1", "pw");
  assert(await cache.has("a@example.org", "$hash1", "pw"));
  assertEquals(await cache.has("a@example.org", "$hash1", "pW"), false, "another password");
  assertEquals(await cache.has("a@example.org", "$hash2", "pw"), false, "a changed password");
  assertEquals(await cache.has("b@example.org", "$hash1", "pw"), false, "another account");
  clock.t += 999;
  assert(await cache.has("a@example.org", "$hash1", "pw"));
  clock.t += 1;
  assertEquals(await cache.has("a@example.org", "$hash1", "pw"), false, "expired");
  assertEquals(cache.size, 0);
  for (const pw of ["1", "2", "3"]) await cache.add("a@example.org", "$h", pw);
  assertEquals(cache.size, 2, "bounded");
  assertEquals(await cache.has("a@example.org", "$h", "1"), false, "the oldest went first");
  cache.clear();
  assertEquals(await cache.has("a@example.org", "$h", "3"), false);
});

Deno.test("with the cache, a changed password or a disabled account is refused at once", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const cache = new VerificationCache();
    const bans = new Bans(store.sql);
    const login = new Login({
      bans,
      credentials: sqlCredentials(store.sql),
      log: createLogger({ level: "error", format: "json", write: () => {} }),
      sleep: () => Promise.resolve(),
      cache,
    });
    assert(await login.checkLogin("alice@example.org", GOOD_PASSWORD, imap("192.0.2.1")));
    assertEquals(cache.size, 1);
    assert(await login.checkLogin("ALICE@example.org", GOOD_PASSWORD, imap("192.0.2.1")));
    assertEquals(cache.size, 1, "a hit adds nothing");
    assertEquals(await login.checkLogin("alice@example.org", "wrong", imap("192.0.2.1")), null);
    assertEquals(cache.size, 1, "failures are not cached");

    await store.accounts.setDisabled("alice@example.org", true);
    assertEquals(
      await login.checkLogin("alice@example.org", GOOD_PASSWORD, imap("192.0.2.1")),
      null,
    );
    await store.accounts.setDisabled("alice@example.org", false);

    const newPassword = "orange giraffes sing 77";
    await store.accounts.setPassword("alice@example.org", newPassword);
    assertEquals(
      await login.checkLogin("alice@example.org", GOOD_PASSWORD, imap("192.0.2.1")),
      null,
    );
    assert(await login.checkLogin("alice@example.org", newPassword, imap("192.0.2.1")));

    await bans.add("192.0.2.1");
    assertEquals(await login.checkLogin("alice@example.org", newPassword, imap("192.0.2.1")), null);
  });
});
