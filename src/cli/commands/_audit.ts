/**
 * Recording an administrative change made from the command line in the audit log
 * (src/store/audit.ts): the actor is the operating-system user ($USER, else $USERNAME), the
 * source "cli". Commands call {@link audit} once, right after the change succeeded.
 *
 * @module
 */

import { AuditLog, type AuditValue, type Store } from "../../store/mod.ts";
import type { CliIo } from "../io.ts";

/** Who runs the command, as the audit log names them. */
export function cliActor(io: CliIo): string {
  return io.env.USER?.trim() || io.env.USERNAME?.trim() || "unknown";
}

/**
 * Appends `action` on `target` to the audit log, as done by the user running the CLI.
 *
 * @example
 * ```ts
 * await audit(io, store, "account.add", account.address, { admin: account.isAdmin });
 * ```
 */
export async function audit(
  io: CliIo,
  store: Store,
  action: string,
  target: string,
  details: Readonly<Record<string, AuditValue>> = {},
): Promise<void> {
  await new AuditLog(store.sql).append({
    actor: cliActor(io),
    action,
    target,
    details,
    source: "cli",
  });
}
