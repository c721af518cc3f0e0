/**
 * `fumi ban list|add|remove`: the bans every node enforces (src/auth/bans.ts).
 *
 * Bans made here are stored at once; running nodes see them on a client's next connection
 * once their ban cache (10 s by default) has expired, and at its next sign-in attempt at once.
 *
 * @module
 */

import { type Ban, Bans } from "../../auth/bans.ts";
import { formatCidr, parseCidr } from "../../net/cidr.ts";
import { silentLogger } from "../../ops/log.ts";
import { parseDuration } from "../../util/duration.ts";
import { InvalidInputError, UsageError } from "../../util/errors.ts";
import { expectPositional, parseArgs } from "../args.ts";
import { type Command, group } from "../command.ts";
import { audit } from "./_audit.ts";
import { withStore } from "../context.ts";

/**
 * A duration argument (`30m`, `12h`, `7d`, `1h30m`) in milliseconds.
 *
 * @throws {UsageError} when it is not a positive duration.
 */
export function durationArgument(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) {
    throw new UsageError(`Invalid duration "${text}"; use e.g. 30m, 12h, 7d or 1h30m`);
  }
  return ms;
}

/** A CIDR argument in canonical form; a malformed one is a usage error. */
function cidrArgument(text: string): string {
  try {
    return formatCidr(parseCidr(text));
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(error.message);
    throw error;
  }
}

function formatTime(date: Date): string {
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

function until(ban: Ban): string {
  return ban.expiresAt === null ? "until removed" : `until ${formatTime(ban.expiresAt)}`;
}

/** Formats bans as an aligned table; with `details`, each followed by its failures. */
export function banTable(bans: readonly Ban[], details = false): string[] {
  const header = ["NETWORK", "EXPIRES", "BY", "REASON"];
  const rows = bans.map((b) => [
    b.network,
    b.expiresAt === null ? "never" : formatTime(b.expiresAt),
    b.createdBy,
    b.reason,
  ]);
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const out = [line(header)];
  for (const [i, ban] of bans.entries()) {
    out.push(line(rows[i]!));
    if (!details) continue;
    out.push(`    created ${formatTime(ban.createdAt)}`);
    for (const f of ban.details) {
      out.push(
        `    ${formatTime(f.at)}  ${f.protocol}  ${f.ip}  ${
          JSON.stringify(f.account)
        }  ${f.reason}`,
      );
    }
  }
  return out;
}

const list: Command = {
  name: "list",
  usage: "fumi ban list [--details] [--all]",
  summary: "List bans with their reasons and expiry (--details: the failures behind each).",
  run: async (io, argv) => {
    const args = parseArgs(argv, { boolean: ["details", "all"], string: ["config"] });
    expectPositional(args, [], list.usage);
    await withStore(io, args, async (store) => {
      const bans = await new Bans(store.sql, { log: silentLogger }).list({
        includeExpired: args.booleans.has("all"),
      });
      if (bans.length === 0) {
        io.out("No bans.");
        return;
      }
      for (const line of banTable(bans, args.booleans.has("details"))) io.out(line);
    });
  },
};

const add: Command = {
  name: "add",
  usage: "fumi ban add CIDR [--for DURATION] [--reason TEXT]",
  summary: "Ban an address or network on every node (without --for: until removed).",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config", "for", "reason"] });
    const [target] = expectPositional(args, ["CIDR"], add.usage);
    const cidr = cidrArgument(target!);
    const duration = args.strings.has("for") ? durationArgument(args.strings.get("for")!) : null;
    await withStore(io, args, async (store) => {
      const ban = await new Bans(store.sql, { log: silentLogger }).add(cidr, {
        expiresAt: duration === null ? null : new Date(Date.now() + duration),
        ...(args.strings.has("reason") ? { reason: args.strings.get("reason")! } : {}),
      });
      await audit(io, store, "ban.add", ban.network, {
        reason: ban.reason,
        expires: ban.expiresAt?.toISOString() ?? null,
      });
      io.out(`Banned ${ban.network} ${until(ban)}: ${ban.reason}.`);
    });
  },
};

const remove: Command = {
  name: "remove",
  usage: "fumi ban remove CIDR",
  summary: "Lift the ban on exactly this address or network, and forgive its failures.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config"] });
    const [target] = expectPositional(args, ["CIDR"], remove.usage);
    const cidr = cidrArgument(target!);
    await withStore(io, args, async (store) => {
      const ban = await new Bans(store.sql, { log: silentLogger }).remove(cidr);
      await audit(io, store, "ban.remove", ban.network);
      io.out(`Removed the ban on ${ban.network}.`);
    });
  },
};

/** `fumi ban`. */
export const banCommand = group("ban", "Manage bans of client addresses.", [list, add, remove]);
