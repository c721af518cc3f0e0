/**
 * `fumi user 2fa enable|confirm|disable|status` and `fumi user app-password add|list|revoke`:
 * an account's second factor (TOTP) and the app passwords its mail clients use. With the second
 * factor on, IMAP and SMTP accept app passwords only (src/auth/login.ts).
 *
 * Enrolment takes two steps, as in an account page: `enable` prints the secret (and the
 * `otpauth://` URI an authenticator reads from a QR code), and the second factor is on only
 * once `confirm` is given a code the authenticator made from it. An app password is printed
 * once, by `add`; only its digest is kept.
 *
 * @module
 */

import { type AppPassword, parseScopes, type Store, type TwoFactorState } from "../../store/mod.ts";
import { InvalidInputError, UsageError } from "../../util/errors.ts";
import { expectPositional, parseArgs } from "../args.ts";
import { type Command, group } from "../command.ts";
import { audit } from "./_audit.ts";
import { withStore } from "../context.ts";

const STATE_TEXT: Record<TwoFactorState, string> = {
  off: "off",
  pending: "pending (enrolment begun, not confirmed: not yet required)",
  on: "on (IMAP and SMTP accept app passwords only)",
};

function accountCommand(
  name: string,
  parent: string,
  operands: readonly string[],
  summary: string,
  action: (
    store: Store,
    operands: string[],
    hostname: string,
    record: (action: string, target: string) => Promise<void>,
  ) => Promise<string[]>,
): Command {
  const usage = `${parent} ${name} ${["ADDRESS", ...operands].join(" ")}`;
  return {
    name,
    usage,
    summary,
    run: async (io, argv) => {
      const args = parseArgs(argv, { string: ["config"] });
      const values = expectPositional(args, ["ADDRESS", ...operands], usage);
      await withStore(io, args, async (store, config) => {
        const record = (action: string, target: string) => audit(io, store, action, target);
        for (const line of await action(store, values, config.hostname, record)) io.out(line);
      });
    },
  };
}

const enable = accountCommand(
  "enable",
  "fumi user 2fa",
  [],
  "Begin TOTP enrolment: print the secret and otpauth:// URI for an authenticator app.",
  async (store, [address], hostname, record) => {
    const account = await store.accounts.get(address!);
    const enrolment = await store.twoFactor.begin(account.id, {
      issuer: hostname,
      account: account.address,
    });
    await record("2fa.begin", account.address);
    return [
      `Two-factor enrolment begun for ${account.address}; it is pending until confirmed.`,
      `Secret: ${enrolment.secret}`,
      `URI: ${enrolment.uri}`,
      `Add it to an authenticator app, then run: fumi user 2fa confirm ${account.address} CODE`,
    ];
  },
);

const confirm = accountCommand(
  "confirm",
  "fumi user 2fa",
  ["CODE"],
  "Turn TOTP on with a code from the authenticator; IMAP and SMTP then take app passwords only.",
  async (store, [address, code], _hostname, record) => {
    const account = await store.accounts.get(address!);
    if (!await store.twoFactor.confirm(account.id, code!)) {
      throw new InvalidInputError(
        `The code does not match; check the authenticator's clock and give its current code`,
      );
    }
    await record("2fa.enable", account.address);
    return [
      `Two-factor authentication is on for ${account.address}.`,
      `IMAP and SMTP now accept app passwords only: fumi user app-password add ${account.address} NAME`,
    ];
  },
);

const disable = accountCommand(
  "disable",
  "fumi user 2fa",
  [],
  "Turn TOTP off (or abandon a pending enrolment); the account password works everywhere again.",
  async (store, [address], _hostname, record) => {
    const account = await store.accounts.get(address!);
    const was = await store.twoFactor.disable(account.id);
    if (was !== "off") await record("2fa.disable", account.address);
    return [
      was === "off"
        ? `Two-factor authentication was not on for ${account.address}.`
        : `Two-factor authentication is off for ${account.address}.`,
    ];
  },
);

const status = accountCommand(
  "status",
  "fumi user 2fa",
  [],
  "Show whether TOTP is off, pending or on, and the account's app passwords.",
  async (store, [address]) => {
    const account = await store.accounts.get(address!);
    const state = await store.twoFactor.state(account.id);
    const count = (await store.appPasswords.list(account.id)).length;
    return [
      `Two-factor authentication for ${account.address}: ${STATE_TEXT[state]}.`,
      `App passwords: ${count}.`,
    ];
  },
);

/** `fumi user 2fa`. */
export const twoFactorCommand = group(
  "2fa",
  "Manage an account's second factor (TOTP).",
  [enable, confirm, disable, status],
  "fumi user",
);

function formatTime(date: Date | null): string {
  return date === null
    ? "never"
    : date.toISOString().replace("T", " ").replace(/:\d\d\.\d+Z$/, " UTC");
}

/** Formats app passwords as an aligned table (no secrets: there are none to show). */
export function appPasswordTable(passwords: readonly AppPassword[]): string[] {
  const rows = [["NAME", "SCOPES", "CREATED", "LAST USED"]];
  for (const p of passwords) {
    rows.push([p.name, p.scopes.join(","), formatTime(p.createdAt), formatTime(p.lastUsedAt)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

const ADD_USAGE = "fumi user app-password add ADDRESS NAME [--scope imap,smtp]";

const add: Command = {
  name: "add",
  usage: ADD_USAGE,
  summary: "Make an app password for one mail client (all scopes by default); printed once.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config", "scope"] });
    const [address, name] = expectPositional(args, ["ADDRESS", "NAME"], ADD_USAGE);
    let scopes: string[] | undefined;
    if (args.strings.has("scope")) {
      try {
        scopes = parseScopes(args.strings.get("scope")!);
      } catch (error) {
        if (error instanceof InvalidInputError) throw new UsageError(error.message);
        throw error;
      }
    }
    await withStore(io, args, async (store) => {
      const account = await store.accounts.get(address!);
      const { appPassword, password } = await store.appPasswords.create(
        account.id,
        name!,
        scopes,
      );
      await audit(io, store, "app-password.add", account.address, {
        name: appPassword.name,
        scopes: appPassword.scopes,
      });
      io.out(
        `Created app password "${appPassword.name}" for ${account.address} (${
          appPassword.scopes.join(", ")
        }).`,
      );
      io.out(`Password: ${password}`);
      io.out(
        "It is shown only this once; use it in the mail client instead of the account password.",
      );
    });
  },
};

const list = accountCommand(
  "list",
  "fumi user app-password",
  [],
  "List an account's app passwords: name, scopes, created, last used.",
  async (store, [address]) => {
    const account = await store.accounts.get(address!);
    const passwords = await store.appPasswords.list(account.id);
    if (passwords.length === 0) return [`${account.address} has no app passwords.`];
    return appPasswordTable(passwords);
  },
);

const revoke = accountCommand(
  "revoke",
  "fumi user app-password",
  ["NAME"],
  "Revoke an app password: the client using it can no longer sign in.",
  async (store, [address, name], _hostname, record) => {
    const account = await store.accounts.get(address!);
    await store.appPasswords.revoke(account.id, name!);
    await record("app-password.revoke", `${account.address} ${name!.trim()}`);
    return [`Revoked app password "${name!.trim()}" of ${account.address}.`];
  },
);

/** `fumi user app-password`. */
export const appPasswordCommand = group(
  "app-password",
  "Manage the app passwords of an account's mail clients.",
  [add, list, revoke],
  "fumi user",
);
