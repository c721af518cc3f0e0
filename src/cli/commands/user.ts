/**
 * `fumi user add|list|passwd|quota|senders|limits|disable|enable|hold|unhold|remove|2fa|app-password`.
 *
 * Without `--password-stdin`, `add` and `passwd` generate a strong password and print it once.
 *
 * @module
 */

import type { Account, AuditValue, Store } from "../../store/mod.ts";
import { UsageError } from "../../util/errors.ts";
import { formatSize, parseSize } from "../../util/size.ts";
import { expectPositional, parseArgs } from "../args.ts";
import { type Command, group } from "../command.ts";
import { audit } from "./_audit.ts";
import type { CliIo } from "../io.ts";
import { generatePassword } from "../../crypto/random_password.ts";
import { passwordFromStdin, withStore } from "../context.ts";
import { appPasswordCommand, twoFactorCommand } from "./user_second_factor.ts";
import { LIMIT_FLAGS, LIMIT_OPTIONS, limitArguments } from "./_limits.ts";

function quotaArgument(text: string): number {
  if (text === "unlimited") return 0;
  const bytes = parseSize(text);
  if (bytes === null) {
    throw new UsageError(`Invalid size "${text}"; use e.g. 500M, 2G or unlimited`);
  }
  return bytes;
}

async function newPassword(
  io: CliIo,
  fromStdin: boolean,
): Promise<{ password: string; generated: boolean }> {
  if (fromStdin) return { password: await passwordFromStdin(io), generated: false };
  return { password: generatePassword(), generated: true };
}

const add: Command = {
  name: "add",
  usage: "fumi user add ADDRESS [--password-stdin] [--quota SIZE] [--admin] [--name NAME]",
  summary: "Create an account (with INBOX, Drafts, Sent, Trash, Junk, Archive).",
  run: async (io, argv) => {
    const args = parseArgs(argv, {
      boolean: ["password-stdin", "admin"],
      string: ["config", "quota", "name"],
    });
    const [address] = expectPositional(args, ["ADDRESS"], add.usage);
    const quota = args.strings.has("quota") ? quotaArgument(args.strings.get("quota")!) : undefined;
    const { password, generated } = await newPassword(io, args.booleans.has("password-stdin"));
    await withStore(io, args, async (store) => {
      const account = await store.accounts.create({
        address: address!,
        password,
        isAdmin: args.booleans.has("admin"),
        ...(quota === undefined ? {} : { quotaBytes: quota }),
        ...(args.strings.has("name") ? { displayName: args.strings.get("name")! } : {}),
      });
      await audit(io, store, "account.add", account.address, { admin: account.isAdmin });
      io.out(`Created ${account.isAdmin ? "administrator" : "account"} ${account.address}.`);
      if (generated) io.out(`Password: ${password}`);
    });
  },
};

const list: Command = {
  name: "list",
  usage: "fumi user list [DOMAIN]",
  summary: "List accounts with quota, use and state.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config"] });
    if (args.positional.length > 1) {
      throw new UsageError(`Unexpected argument "${args.positional[1]}"; usage: ${list.usage}`);
    }
    await withStore(io, args, async (store) => {
      const accounts = await store.accounts.list(args.positional[0]);
      const held = new Set((await store.queueAdmin.heldAccounts()).map((h) => h.address));
      for (const line of accountTable(accounts, held)) io.out(line);
    });
  },
};

/** Formats accounts as an aligned table; `held`: addresses on outbound hold. */
export function accountTable(
  accounts: readonly Account[],
  held: ReadonlySet<string> = new Set(),
): string[] {
  const rows = [["ADDRESS", "QUOTA", "USED", "STATE"]];
  for (const a of accounts) {
    const state = [
      a.isAdmin ? "admin" : "",
      a.disabled ? "disabled" : "active",
      held.has(a.address) ? "held" : "",
    ].filter(Boolean).join(",");
    rows.push([
      a.address,
      a.quotaBytes === 0 ? "unlimited" : formatSize(a.quotaBytes),
      formatSize(a.usedBytes),
      state,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

const passwd: Command = {
  name: "passwd",
  usage: "fumi user passwd ADDRESS [--password-stdin]",
  summary: "Set a new password.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { boolean: ["password-stdin"], string: ["config"] });
    const [address] = expectPositional(args, ["ADDRESS"], passwd.usage);
    const { password, generated } = await newPassword(io, args.booleans.has("password-stdin"));
    await withStore(io, args, async (store) => {
      await store.accounts.setPassword(address!, password);
      await audit(io, store, "account.password", (await store.accounts.get(address!)).address);
      io.out(`Password changed for ${(await store.accounts.get(address!)).address}.`);
      if (generated) io.out(`Password: ${password}`);
    });
  },
};

const quota: Command = {
  name: "quota",
  usage: "fumi user quota ADDRESS SIZE|unlimited",
  summary: "Set an account's storage quota.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config"] });
    const [address, size] = expectPositional(args, ["ADDRESS", "SIZE"], quota.usage);
    const bytes = quotaArgument(size!);
    await withStore(io, args, async (store) => {
      await store.accounts.setQuota(address!, bytes);
      await audit(io, store, "account.quota", address!, { bytes });
      io.out(
        `Quota of ${(await store.accounts.get(address!)).address} set to ${
          bytes === 0 ? "unlimited" : formatSize(bytes)
        }.`,
      );
    });
  },
};

const senders: Command = {
  name: "senders",
  usage: "fumi user senders ADDRESS [SENDER ...] [--clear]",
  summary: "Show or set the extra addresses (or @domain) an account may send as on submission.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config"], boolean: ["clear"] });
    const [address, ...list] = args.positional;
    if (address === undefined) throw new UsageError(`Missing ADDRESS. Usage: ${senders.usage}`);
    const clear = args.booleans.has("clear");
    if (clear && list.length > 0) {
      throw new UsageError("Give SENDERs to set the list, or --clear to empty it, not both");
    }
    await withStore(io, args, async (store) => {
      const account = await store.accounts.get(address);
      const current = clear || list.length > 0
        ? await store.accounts.setAllowedSenders(account.address, list)
        : await store.accounts.allowedSenders(account.id);
      if (clear || list.length > 0) {
        await audit(io, store, "account.senders", account.address, { senders: current });
      }
      io.out(
        current.length === 0
          ? `${account.address} may send as its own address, its +tags and its aliases only.`
          : `${account.address} may also send as: ${current.join(", ")}`,
      );
    });
  },
};

const limits: Command = {
  name: "limits",
  usage: `fumi user limits ADDRESS ${LIMIT_OPTIONS}`,
  summary: "Show or set an account's sending limits on submission (0: none).",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config", ...LIMIT_FLAGS] });
    const [address] = expectPositional(args, ["ADDRESS"], limits.usage);
    const changes = limitArguments(args);
    await withStore(io, args, async (store) => {
      const account = await store.accounts.get(address!);
      if (Object.keys(changes).length > 0) {
        await store.sending.setLimits(account.id, changes);
        await audit(io, store, "account.limits", account.address, { ...changes });
      }
      const use = await store.sending.use(account.id);
      const show = (limit: number | null, used: number, per: string) =>
        limit === null ? `no limit (${used} in the last ${per})` : `${used} of ${limit} per ${per}`;
      io.out(`${account.address}:`);
      io.out(`  messages:   ${show(use.messagesPerHour, use.messagesLastHour, "hour")}`);
      io.out(`  recipients: ${show(use.recipientsPerDay, use.recipientsLastDay, "day")}`);
    });
  },
};

function simple(
  name: string,
  summary: string,
  action: (store: Store, address: string, record: Recorder) => Promise<string>,
): Command {
  const usage = `fumi user ${name} ADDRESS`;
  return {
    name,
    usage,
    summary,
    run: async (io, argv) => {
      const args = parseArgs(argv, { string: ["config"] });
      const [address] = expectPositional(args, ["ADDRESS"], usage);
      await withStore(io, args, async (store) => {
        const record: Recorder = (action, target, details) =>
          audit(io, store, action, target, details);
        io.out(await action(store, address!, record));
      });
    },
  };
}

const disable = simple(
  "disable",
  "Refuse sign-in and delivery for an account; its mail stays.",
  async (store, address, record) => {
    await store.accounts.setDisabled(address, true);
    await record("account.disable", address);
    return `Disabled ${(await store.accounts.get(address)).address}.`;
  },
);
const enable = simple(
  "enable",
  "Allow a disabled account again.",
  async (store, address, record) => {
    await store.accounts.setDisabled(address, false);
    await record("account.enable", address);
    return `Enabled ${(await store.accounts.get(address)).address}.`;
  },
);
const remove = simple(
  "remove",
  "Delete an account, all its mail and its encryption key.",
  async (store, address, record) => {
    const account = await store.accounts.get(address);
    await store.accounts.remove(account.address);
    await record("account.remove", account.address);
    return `Removed ${account.address} and its mail.`;
  },
);

const hold: Command = {
  name: "hold",
  usage: "fumi user hold ADDRESS [--reason TEXT]",
  summary: "Hold an account's outgoing mail: it is queued but not sent until released.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config", "reason"] });
    const [address] = expectPositional(args, ["ADDRESS"], hold.usage);
    await withStore(io, args, async (store) => {
      const account = await store.accounts.get(address!);
      const ids = await store.queueAdmin.holdAccount(
        account.address,
        args.strings.get("reason") ?? null,
      );
      const reason = (await store.queueAdmin.accountHold(account.id))?.reason;
      await audit(io, store, "account.hold", account.address, { reason: reason ?? null, ids });
      io.out(
        `${account.address} is on outbound hold${
          reason ? ` (${reason})` : ""
        }: what it sends is queued held.`,
      );
      if (ids.length > 0) {
        io.out(
          `Held ${ids.length === 1 ? "1 queued message" : `${ids.length} queued messages`}: ${
            ids.join(", ")
          }.`,
        );
      }
    });
  },
};

const unhold = simple(
  "unhold",
  "Lift an account's outbound hold; its held messages wait for fumi queue release.",
  async (store, address, record) => {
    const account = await store.accounts.get(address);
    const ids = await store.queueAdmin.unholdAccount(account.address);
    await record("account.unhold", account.address, { stillHeld: ids });
    const lifted = `Lifted the outbound hold of ${account.address}.`;
    if (ids.length === 0) return lifted;
    return `${lifted} Still held: ${ids.length === 1 ? "message" : "messages"} ${
      ids.join(", ")
    }; release with fumi queue release --account ${account.address}.`;
  },
);

/** Records a change in the audit log, as the user running the command (src/cli/commands/_audit.ts). */
type Recorder = (
  action: string,
  target: string,
  details?: Readonly<Record<string, AuditValue>>,
) => Promise<void>;

/** `fumi user`. */
export const userCommand = group("user", "Manage accounts.", [
  add,
  list,
  passwd,
  quota,
  senders,
  limits,
  disable,
  enable,
  hold,
  unhold,
  remove,
  twoFactorCommand,
  appPasswordCommand,
]);
