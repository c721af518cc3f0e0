/**
 * The web's two-step sign-in (src/auth/login.ts `checkPassword`, `checkSecondFactor`): the
 * password of a 2FA account is a first step there and nowhere else; a wrong code is a counted,
 * delayed, logged failure; a banned client is refused before its code is looked at.
 */

import { assert, assertEquals } from "../../tests/assert.ts";
import { enableTwoFactor, GOOD_PASSWORD, withStore } from "../../tests/store.ts";
import { createLogger } from "../ops/log.ts";
import { Bans } from "./bans.ts";
import { Login, sqlCredentials } from "./login.ts";

const web = { protocol: "web", ip: "192.0.2.5" };

Deno.test("with 2FA on, the password is a first step on the web only; the code decides", async () => {
  await withStore(async ({ store }) => {
    const lines: string[] = [];
    const sleeps: number[] = [];
    const log = createLogger({ level: "info", format: "text", write: (l) => lines.push(l) });
    const bans = new Bans(store.sql, { log, banAfter: 3 });
    const login = new Login({
      bans,
      credentials: sqlCredentials(store.sql),
      log,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    // Without 2FA: signed in at the first step.
    // (From another address: a success excuses that address's later failures from bans.)
    const plain = await login.checkPassword("alice@example.org", GOOD_PASSWORD, {
      protocol: "web",
      ip: "203.0.113.1",
    });
    assertEquals(plain?.secondFactorDue, false);
    await enableTwoFactor(store, alice.id);
    lines.length = 0;
    const first = await login.checkPassword("alice@example.org", GOOD_PASSWORD, web);
    assertEquals(first?.secondFactorDue, true);
    assertEquals(first?.account.id, alice.id);
    assertEquals(lines, [], "nothing logged before the code");
    // Elsewhere the same password is still refused.
    assertEquals(await login.checkLogin("alice@example.org", GOOD_PASSWORD, web), null);
    assert(lines.some((l) => l.includes("reason=app-password-required")));
    // A wrong password at the first step is a failure like any other.
    assertEquals(await login.checkPassword("alice@example.org", "nope nope nope", web), null);
    // A wrong code: counted, logged with its own reason, delayed.
    sleeps.length = 0;
    const account = first!.account;
    assertEquals(await login.checkSecondFactor(account, () => Promise.resolve(false), web), false);
    assert(lines.some((l) => l.includes("reason=bad-second-factor")));
    assertEquals(sleeps.length, 1);
    // The third failure bans the address: the next code is not even looked at.
    let asked = false;
    const verify = () => {
      asked = true;
      return Promise.resolve(true);
    };
    assertEquals(await login.checkSecondFactor(account, verify, web), false);
    assertEquals(asked, false);
    // From another address, the right code completes the sign-in.
    const other = { protocol: "web", ip: "198.51.100.9" };
    assertEquals(await login.checkSecondFactor(account, verify, other), true);
    assert(lines.some((l) => l.includes("auth succeeded") && l.includes("ip=198.51.100.9")));
    const reasons = await store.sql<{ reason: string }[]>`
      select reason from auth_failures order by id`;
    assertEquals(reasons.map((r) => r.reason), [
      "app-password-required",
      "bad-password",
      "bad-second-factor",
    ]);
  });
});
