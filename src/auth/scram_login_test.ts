import {
  assert,
  assertEquals,
  assertNotEquals,
  assertRejects,
  assertThrows,
} from "../../tests/assert.ts";
import { GOOD_PASSWORD, withStore } from "../../tests/store.ts";
import { SCRAM_DEFAULT_ITERATIONS, SCRAM_SALT_LENGTH } from "../crypto/scram.ts";
import type { Store } from "../store/mod.ts";
import { InvalidInputError } from "../util/errors.ts";
import { Bans, type BansOptions } from "./bans.ts";
import { recordingLogger, ScramClient } from "./sasl/_test_support.ts";
import {
  type ScramAttempt,
  type ScramCredentialLookup,
  ScramLogin,
  sqlScramCredentials,
} from "./scram_login.ts";

const START = Date.parse("2026-11-27T12:00:00Z");
const smtp = (ip: string) => ({ protocol: "smtp", ip });

function setup(
  store: Store,
  options: BansOptions & { credentials?: ScramCredentialLookup; secret?: Uint8Array } = {},
) {
  const { credentials, secret, ...policy } = options;
  const lines: string[] = [];
  const sleeps: number[] = [];
  const log = recordingLogger(lines, () => new Date(START));
  const bans = new Bans(store.sql, { now: () => START, ...policy });
  const scram = new ScramLogin({
    bans,
    credentials: credentials ?? sqlScramCredentials(store.sql),
    log,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    ...(secret ? { secret } : {}),
  });
  return { lines, sleeps, bans, scram };
}

/** Runs the proof step as the SASL layer would, for a client holding `password`. */
async function prove(attempt: ScramAttempt, user: string, password: string) {
  const client = new ScramClient(user, password, { nonce: "cnonce" });
  const serverFirst = `r=cnonce-snonce,s=${attempt.salt.toBase64()},i=${attempt.iterations}`;
  const final = await client.final(serverFirst);
  const [without, proof] = final.message.split(",p=") as [string, string];
  const authMessage = `n=${user},r=cnonce,${serverFirst},${without}`;
  const verified = await attempt.verify(authMessage, Uint8Array.fromBase64(proof));
  return { verified, expectedSignature: final.expectedSignature };
}

Deno.test("a correct proof signs in, undelayed, recorded, with the server's signature", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
      isAdmin: true,
    });
    const { scram, lines, sleeps } = setup(store);
    const attempt = await scram.start("Alice@EXAMPLE.org", smtp("::ffff:192.0.2.7"));
    assert(attempt);
    assertEquals(attempt.account, "alice@example.org");
    assertEquals(attempt.iterations, SCRAM_DEFAULT_ITERATIONS);
    const { verified, expectedSignature } = await prove(attempt, "alice", GOOD_PASSWORD);
    assertEquals(verified?.account, { id: alice.id, address: "alice@example.org", isAdmin: true });
    assertEquals(verified?.serverSignature.toBase64(), expectedSignature);
    assertEquals(sleeps, []);
    assertEquals(lines, [
      "2026-11-27T12:00:00.000Z INFO  auth succeeded protocol=smtp ip=192.0.2.7 account=alice@example.org",
    ]);
    const rows = await store.sql`select account_id, ip_key from auth_successes`;
    assertEquals([...rows], [{ account_id: alice.id, ip_key: "192.0.2.7" }]);
    await assertRejects(
      () => attempt.verify("x", new Uint8Array(32)),
      Error,
      "only once",
    );
  });
});

Deno.test("a wrong proof is counted, logged and delayed like a wrong password", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const { scram, lines, sleeps } = setup(store, { backoffAfter: 1 });
    for (let i = 0; i < 3; i++) {
      const attempt = await scram.start("alice@example.org", smtp("192.0.2.7"));
      assert(attempt);
      assertEquals((await prove(attempt, "alice", "wrong password")).verified, null);
    }
    assertEquals(sleeps, [0, 250, 500]);
    assertEquals(lines.length, 3);
    assertEquals(
      lines[0],
      "2026-11-27T12:00:00.000Z WARN  auth failed protocol=smtp ip=192.0.2.7 account=alice@example.org reason=bad-password",
    );
    const failures = await store.sql<{ account: string; reason: string; protocol: string }[]>`
      select account, reason, protocol from auth_failures order by id`;
    assertEquals(failures.map((f) => `${f.protocol} ${f.account} ${f.reason}`), [
      "smtp alice@example.org bad-password",
      "smtp alice@example.org bad-password",
      "smtp alice@example.org bad-password",
    ]);
  });
});

Deno.test("an unknown account gets a stable made-up salt shaped like a real one, then fails", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const { scram, lines, sleeps } = setup(store);
    const real = await scram.start("alice@example.org", smtp("192.0.2.7"));
    const fake = await scram.start("nobody@example.org", smtp("192.0.2.7"));
    const again = await scram.start("NOBODY@example.org", smtp("198.51.100.1"));
    const other = await scram.start("someone@example.org", smtp("192.0.2.7"));
    assert(real && fake && again && other);
    assertEquals(fake.salt.length, real.salt.length);
    assertEquals(fake.salt.length, SCRAM_SALT_LENGTH);
    assertEquals(fake.iterations, real.iterations);
    assertEquals(again.salt, fake.salt, "the same name gets the same salt");
    assertNotEquals(other.salt, fake.salt, "another name gets another salt");
    // Even the password of a real account cannot pass for an unknown one.
    assertEquals((await prove(fake, "nobody", GOOD_PASSWORD)).verified, null);
    assertEquals(sleeps, [0]);
    assertEquals(lines, [
      "2026-11-27T12:00:00.000Z WARN  auth failed protocol=smtp ip=192.0.2.7 account=nobody@example.org reason=unknown-account",
    ]);
    const [row] = await store.sql`select account, reason from auth_failures`;
    assertEquals({ ...row }, { account: "nobody@example.org", reason: "unknown-account" });
  });
});

Deno.test("the made-up salt follows the secret, and the default secret is one per process", async () => {
  await withStore(async ({ store }) => {
    const a = setup(store, { secret: new Uint8Array(32).fill(1) });
    const b = setup(store, { secret: new Uint8Array(32).fill(1) });
    const c = setup(store, { secret: new Uint8Array(32).fill(2) });
    const d = setup(store);
    const e = setup(store);
    const salt = async (scram: ScramLogin) =>
      (await scram.start("nobody@example.org", smtp("192.0.2.7")))!.salt;
    assertEquals(await salt(a.scram), await salt(b.scram));
    assertNotEquals(await salt(a.scram), await salt(c.scram));
    assertEquals(await salt(d.scram), await salt(e.scram));
    const { bans } = setup(store);
    assertThrows(
      () =>
        new ScramLogin({
          bans,
          credentials: () => Promise.resolve(null),
          log: recordingLogger([]),
          secret: new Uint8Array(8),
        }),
      RangeError,
      "16 bytes",
    );
  });
});

Deno.test("a disabled account answers with its salt but never signs in", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "dave@example.org", password: GOOD_PASSWORD });
    const { scram, lines } = setup(store);
    const before = await scram.start("dave@example.org", smtp("192.0.2.7"));
    await store.accounts.setDisabled("dave@example.org", true);
    const attempt = await scram.start("dave@example.org", smtp("192.0.2.7"));
    assert(before && attempt);
    assertEquals(attempt.salt, before.salt);
    assertEquals((await prove(attempt, "dave", GOOD_PASSWORD)).verified, null);
    assertEquals(lines, [
      "2026-11-27T12:00:00.000Z WARN  auth failed protocol=smtp ip=192.0.2.7 account=dave@example.org reason=disabled",
    ]);
  });
});

Deno.test("a banned client is refused at the start, after the longest delay, uncounted", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const { scram, lines, sleeps, bans } = setup(store);
    await bans.add("198.51.100.0/24");
    assertEquals(await scram.start("alice@example.org", smtp("198.51.100.9")), null);
    assertEquals(sleeps, [bans.policy.maxDelayMs]);
    assertEquals(lines, [
      "2026-11-27T12:00:00.000Z WARN  auth failed protocol=smtp ip=198.51.100.9 account=alice@example.org reason=banned",
    ]);
    const [count] = await store.sql<{ n: number }[]>`select count(*)::int as n from auth_failures`;
    assertEquals(count?.n, 0);
  });
});

Deno.test("repeated wrong proofs ban the client, as with passwords", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const { scram, bans } = setup(store, { banAfter: 3 });
    for (let i = 0; i < 3; i++) {
      const attempt = await scram.start("alice@example.org", smtp("203.0.113.5"));
      assertEquals((await prove(attempt!, "alice", `guess ${i}`)).verified, null);
    }
    assert(await bans.isBanned("203.0.113.5"));
    assertEquals(await scram.start("alice@example.org", smtp("203.0.113.5")), null);
  });
});

Deno.test("a malformed context is the caller's bug; a damaged row an internal error", async () => {
  await withStore(async ({ store }) => {
    const damaged: ScramCredentialLookup = () =>
      Promise.resolve({
        id: 1,
        address: "alice@example.org",
        scram: "SCRAM-SHA-256$1:AA==$AA==:AA==",
        disabled: false,
        isAdmin: false,
        twoFactor: false,
      });
    const { scram, lines } = setup(store, { credentials: damaged });
    await assertRejects(
      () => scram.start("a@example.org", smtp("fe80::1%eth0")),
      InvalidInputError,
    );
    await assertRejects(
      () => scram.start("a@example.org", { protocol: "SMTP", ip: "192.0.2.1" }),
      InvalidInputError,
      "protocol",
    );
    const error = await assertRejects(
      () => scram.start("alice@example.org", smtp("192.0.2.1")),
      Error,
      "cannot be read",
    );
    assert(!(error instanceof InvalidInputError), "not a message for the client");
    assert(!error.message.includes("AA=="), "no key material in the message");
    assertEquals(lines, []);
  });
});
