/**
 * Outbound spam control after delivery: an account whose mail had `holdAfter` or more
 * recipients refused for good by remote servers within an hour (a 5xx such as "no such
 * user": the mark of a harvested list sent from a stolen account) is put on outbound hold,
 * so what it queues waits for an administrator (fumi queue release, fumi user unhold).
 *
 * @module
 */

import type { Logger } from "../ops/log.ts";
import type { AuditLog, QueueEntry, Store } from "../store/mod.ts";
import type { FailedRecipient } from "./worker.ts";

/** What the watch needs. */
export interface RefusalWatchDeps {
  readonly store: Pick<Store, "sending" | "queueAdmin" | "accounts">;
  /** Refused recipients in an hour that put the account on hold; 0: never. */
  readonly holdAfter: number;
  readonly log: Logger;
  /** Where the hold is recorded (actor "system"); not recorded when absent. */
  readonly audit?: Pick<AuditLog, "append">;
}

/** Counts the refusals among `failed` and holds the account when there were too many. */
export function refusalWatch(
  deps: RefusalWatchDeps,
): (entry: QueueEntry, failed: readonly FailedRecipient[]) => Promise<void> {
  return async (entry, failed) => {
    if (entry.accountId === null || deps.holdAfter === 0) return;
    // Only a remote server's own refusal counts: not our null-MX or no-domain verdicts, not a
    // message that waited too long.
    const refused =
      failed.filter((f) => f.outcome.outcome === "permanent" && f.outcome.remoteHost !== null)
        .length;
    if (refused === 0) return;
    const lastHour = await deps.store.sending.recordRefused(entry.accountId, refused);
    if (lastHour < deps.holdAfter) return;
    if (await deps.store.queueAdmin.isAccountHeld(entry.accountId)) return;
    const account = await deps.store.accounts.getById(entry.accountId);
    const reason = `${lastHour} recipients refused by remote servers within an hour`;
    await deps.store.queueAdmin.holdAccount(account.address, reason);
    const held = { action: "account.hold", target: account.address, details: { reason } };
    await deps.audit?.append({ actor: "system", source: "system", ...held });
    deps.log.warn("account put on outbound hold", { account: account.address, reason });
  };
}
