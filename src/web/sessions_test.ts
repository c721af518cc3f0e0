/**
 * Webmail sessions in the database: ids stored hashed, timeouts, revocation, disabled accounts,
 * code attempts and the purge of ended sessions.
 */

import { assert, assertEquals, assertNotEquals } from "../../tests/assert.ts";
import { GOOD_PASSWORD, withStore } from "../../tests/store.ts";
import { MAX_CODE_ATTEMPTS, randomToken, sameToken, WebSessions } from "./sessions.ts";

const client = { ip: "192.0.2.1", userAgent: "Test/1.0 " + "x".repeat(400) };

Deno.test("a session opens with its token only; the table holds its SHA-256", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const sessions = new WebSessions(store.sql);
    const { token, session } = await sessions.create(alice.id, "full", client);
    assertEquals(token.length, 43);
    assertEquals(session.address, "alice@example.org");
    assertEquals(session.userAgent.length, 300);
    const [row] = await store.sql<{ id_sha256: Uint8Array }[]>`select id_sha256 from web_sessions`;
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)),
    );
    assertEquals([...row!.id_sha256], [...digest]);
    assertEquals((await sessions.open(token))?.id, session.id);
    assertEquals(await sessions.open(randomToken()), null);
    assertEquals(await sessions.open("short"), null);
    assertEquals(await sessions.open(token.slice(0, 42) + "'"), null);
  });
});

Deno.test("a disabled account's sessions stop opening; revokeAll ends every one", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const sessions = new WebSessions(store.sql);
    const one = await sessions.create(alice.id, "full", client);
    const two = await sessions.create(alice.id, "full", client);
    await store.accounts.setDisabled("alice@example.org", true);
    assertEquals(await sessions.open(one.token), null);
    await store.accounts.setDisabled("alice@example.org", false);
    assert(await sessions.open(one.token));
    const listed = await sessions.list(alice.id);
    assertEquals(listed.length, 2);
    for (const session of listed) assert(!("csrfToken" in session), "no CSRF token listed");
    assertEquals(await sessions.revokeAll(alice.id), 2);
    assertEquals(await sessions.open(one.token), null);
    assertEquals(await sessions.open(two.token), null);
    assertEquals(await sessions.list(alice.id), []);
  });
});

Deno.test("wrong codes revoke a password-only session at the limit; old sessions are purged", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    let now = Date.now();
    const sessions = new WebSessions(store.sql, { idleMs: 60_000 }, () => now);
    const pending = await sessions.create(alice.id, "second-factor", client);
    for (let i = 1; i <= MAX_CODE_ATTEMPTS; i++) {
      assertEquals(await sessions.claimCodeAttempt(pending.session.id), i);
    }
    assertEquals(await sessions.claimCodeAttempt(pending.session.id), null);
    assertEquals(await sessions.open(pending.token), null);
    const live = await sessions.create(alice.id, "full", client);
    now += 60_000; // idle for the whole idle timeout
    assertEquals(await sessions.open(live.token), null);
    now += 2 * 86_400_000;
    assertEquals(await sessions.purge(), 2);
    const rows = await store.sql`select id from web_sessions`;
    assertEquals(rows.length, 0);
  });
});

Deno.test("parallel code attempts on one session are claimed before any is checked", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const sessions = new WebSessions(store.sql);
    const pending = await sessions.create(alice.id, "second-factor", client);
    const claims = await Promise.all(
      Array.from({ length: 20 }, () => sessions.claimCodeAttempt(pending.session.id)),
    );
    assertEquals(
      claims.filter((n) => n !== null).sort((a, b) => a! - b!),
      Array.from({ length: MAX_CODE_ATTEMPTS }, (_, i) => i + 1),
    );
    assertEquals(await sessions.open(pending.token), null);
    // A full session has no code attempts to claim.
    const full = await sessions.create(alice.id, "full", client);
    assertEquals(await sessions.claimCodeAttempt(full.session.id), null);
  });
});

Deno.test("isLive says whether a session has ended, without recording a use", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    let now = Date.now();
    const sessions = new WebSessions(store.sql, { idleMs: 60_000 }, () => now);
    const live = await sessions.create(alice.id, "full", client);
    assertEquals(await sessions.isLive(live.session.id), true);
    now += 59_000;
    assertEquals(await sessions.isLive(live.session.id), true);
    now += 1_000; // isLive recorded no use: idle for the whole timeout now
    assertEquals(await sessions.isLive(live.session.id), false);
    const other = await sessions.create(alice.id, "full", client);
    let ended = 0;
    const off = sessions.onEnd(other.session.id, () => ended++);
    assertEquals(sessions.listeners(other.session.id), 1);
    await sessions.revokeAll(alice.id);
    assertEquals(ended, 1);
    assertEquals(await sessions.isLive(other.session.id), false);
    off();
    assertEquals(sessions.listeners(other.session.id), 0);
  });
});

Deno.test("tokens are random and compared in full", () => {
  assertNotEquals(randomToken(), randomToken());
  assert(sameToken("abc", "abc"));
  assert(!sameToken("abc", "abd"));
  assert(!sameToken("abc", "abcd"));
  assert(!sameToken("", "a"));
});
