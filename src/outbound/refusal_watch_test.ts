import { assertEquals } from "../../tests/assert.ts";
import { GOOD_PASSWORD, withStore } from "../../tests/store.ts";
import { silentLogger } from "../ops/log.ts";
import { AuditLog, type QueueEntry } from "../store/mod.ts";
import { refusalWatch } from "./refusal_watch.ts";
import type { FailedRecipient } from "./worker.ts";

function failure(address: string, remoteHost: string | null): FailedRecipient {
  return {
    recipient: {
      id: 1,
      queueMessageId: 1,
      address,
      notify: null,
      orcpt: null,
      attempts: 0,
      queuedAt: new Date(),
      delayNotifiedAt: null,
    },
    outcome: { address, outcome: "permanent", reply: "550 5.1.1 No such user", remoteHost },
  };
}

Deno.test("refusal watch: many recipients refused by remote servers in an hour hold the account", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const entry = { id: 1, accountId: alice.id } as QueueEntry;
    const audit = new AuditLog(store.sql);
    const watch = refusalWatch({ store, holdAfter: 3, log: silentLogger, audit });
    // Our own verdicts (null MX, no such domain) are not a remote server's refusal.
    await watch(entry, [failure("a@nomail.example", null), failure("b@nomail.example", null)]);
    await watch(entry, [failure("x@remote.example", "mx.remote.example")]);
    await watch(entry, [failure("y@remote.example", "mx.remote.example")]);
    assertEquals(await store.queueAdmin.isAccountHeld(alice.id), false, "two refused so far");
    await watch(entry, [failure("z@remote.example", "mx.remote.example")]);
    assertEquals(await store.queueAdmin.isAccountHeld(alice.id), true);
    const hold = await store.queueAdmin.accountHold(alice.id);
    assertEquals(hold?.reason, "3 recipients refused by remote servers within an hour");
    // The server's own decision is in the audit log, by "system".
    const [row] = await audit.list({ limit: 1 });
    assertEquals(
      [row?.actor, row?.source, row?.action, row?.target, row?.details],
      ["system", "system", "account.hold", "alice@example.org", { reason: hold?.reason ?? "" }],
    );
    // Mail not submitted by an account (an alias forward) is not counted anywhere.
    await watch({ id: 2, accountId: null } as QueueEntry, [failure("q@r.example", "mx.r.example")]);
  });
});
