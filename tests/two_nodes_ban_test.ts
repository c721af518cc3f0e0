/**
 * Two Fumi nodes on one database: failures counted by either add up, a ban made by one is
 * enforced by the other (in sign-in and in flow control), and bans and counts survive a
 * restart, since all of it lives in tables and nothing in memory.
 *
 * @module
 */

import { Bans } from "../src/auth/bans.ts";
import { Login, sqlCredentials } from "../src/auth/login.ts";
import { FlowControl } from "../src/net/flow.ts";
import { silentLogger } from "../src/ops/log.ts";
import { assert, assertEquals } from "./assert.ts";
import { GOOD_PASSWORD, withStore } from "./store.ts";

const START = Date.parse("2026-11-27T12:00:00Z");

Deno.test("two nodes share failure counts and bans, and a restart forgets nothing", async () => {
  await withStore(async ({ store, db }) => {
    const clock = { t: START, now: () => clock.t };
    const policy = { banAfter: 6, now: clock.now };
    const nodeA = new Bans(store.sql, policy);
    let sqlB = db.connectAgain();
    let nodeB = new Bans(sqlB, policy);
    const failAt = (bans: Bans, ip: string, account = "alice@example.org") =>
      bans.recordFailure({ protocol: "imap", ip, account, reason: "bad-password" });

    // Failures on both nodes add up to one count.
    for (let i = 0; i < 3; i++) assertEquals((await failAt(nodeA, "192.0.2.7")).banned, false);
    for (let i = 0; i < 2; i++) assertEquals((await failAt(nodeB, "192.0.2.7")).banned, false);
    const sixth = await failAt(nodeA, "192.0.2.7");
    assertEquals(sixth.failures.client, 6);
    assert(sixth.banned);
    assert(await nodeB.isBanned("192.0.2.7"), "node B sees node A's ban");
    const [seen] = await nodeB.list();
    assertEquals(seen!.network, "192.0.2.7/32");
    assertEquals(seen!.details.length, 6, "with the failures of both nodes");

    // Node B's listener and sign-in refuse the client node A banned.
    const flowB = new FlowControl({ isBanned: (ip) => nodeB.isBanned(ip), now: clock.now });
    const refused = await flowB.admit("192.0.2.7");
    assertEquals(refused.ok ? "ok" : refused.reason, "banned");
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const loginB = new Login({
      bans: nodeB,
      credentials: sqlCredentials(sqlB),
      log: silentLogger,
      sleep: () => Promise.resolve(),
    });
    assertEquals(
      await loginB.checkLogin("alice@example.org", GOOD_PASSWORD, imap("192.0.2.7")),
      null,
    );
    const signedIn = await loginB.checkLogin(
      "alice@example.org",
      GOOD_PASSWORD,
      imap("192.0.2.50"),
    );
    assertEquals(signedIn?.address, "alice@example.org");

    // A success recorded on node B excuses alice's failures from that client on node A.
    assertEquals((await failAt(nodeA, "192.0.2.50")).failures.counted, 0);

    // An administrator's ban on node B is enforced by node A.
    await nodeB.add("2001:db8:bad::/48", { reason: "abuse" });
    assert(await nodeA.isBanned("2001:db8:bad:1::1"));

    // "Restart" node B: a new pool and new services; nothing was kept in memory.
    await sqlB.end();
    sqlB = db.connectAgain();
    nodeB = new Bans(sqlB, policy);
    assert(await nodeB.isBanned("192.0.2.7"));
    assert(await nodeB.isBanned("2001:db8:bad::1"));
    assertEquals((await nodeB.list()).map((b) => b.network), ["192.0.2.7/32", "2001:db8:bad::/48"]);
    // Counts survive too: the other client's count goes on where it was.
    for (let i = 0; i < 4; i++) await failAt(nodeA, "198.51.100.1", "bob@example.org");
    await sqlB.end();
    sqlB = db.connectAgain();
    nodeB = new Bans(sqlB, policy);
    const fifth = await failAt(nodeB, "198.51.100.1", "bob@example.org");
    assertEquals(fifth.failures.client, 5);

    // Lifted on one node, lifted on both; expiry is the same for both.
    await nodeA.remove("2001:db8:bad::/48");
    assertEquals(await nodeB.isBanned("2001:db8:bad::1"), false);
    clock.t += 3600_000;
    assertEquals(await nodeA.isBanned("192.0.2.7"), false);
    assertEquals(await nodeB.isBanned("192.0.2.7"), false);
    assertEquals((await nodeB.expire()).bans, 1);
    assertEquals(await nodeA.list({ includeExpired: true }), []);
  });
});

function imap(ip: string) {
  return { protocol: "imap", ip };
}
