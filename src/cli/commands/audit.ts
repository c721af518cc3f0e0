/**
 * `fumi audit [--limit N]` shows the newest rows of the audit log (src/store/audit.ts);
 * `fumi audit verify` walks its hash chain and names the first edited or deleted row (exit 1).
 *
 * @module
 */

import { AuditLog, type AuditRecord } from "../../store/mod.ts";
import { FumiError, UsageError } from "../../util/errors.ts";
import { expectPositional, parseArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { withStore } from "../context.ts";

const USAGE = "fumi audit [--limit N] | fumi audit verify";
const DEFAULT_LIMIT = 50;

/** `fumi audit`. */
export const auditCommand: Command = {
  name: "audit",
  usage: USAGE,
  summary: "Show the audit log of administrative and security changes; verify its hash chain.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config", "limit"] });
    if (args.positional[0] === "verify") {
      expectPositional(args, ["verify"], "fumi audit verify");
      await withStore(io, args, async (store) => {
        const result = await new AuditLog(store.sql).verify();
        if (!result.ok) {
          throw new FumiError(
            `The audit log was tampered with: ${result.text} (${result.rows} row(s) before it check out)`,
          );
        }
        io.out(`The audit log checks out: ${result.rows} row(s), hash chain intact.`);
        if (result.head !== null) {
          // Deleting the newest rows leaves no gap; comparing the head with a copy kept
          // elsewhere shows it.
          io.out(`Newest row ${result.head.seq}: ${result.head.hash}`);
        }
      });
      return;
    }
    expectPositional(args, [], USAGE);
    const limit = limitArgument(args.strings.get("limit"));
    await withStore(io, args, async (store) => {
      const rows = await new AuditLog(store.sql).list({ limit });
      for (const line of auditTable(rows.reverse())) io.out(line);
    });
  },
};

/** Rows as an aligned table, oldest first; details as compact JSON. */
export function auditTable(rows: readonly AuditRecord[]): string[] {
  const cells = [["SEQ", "TIME", "ACTOR", "SOURCE", "ACTION", "TARGET", "DETAILS"]];
  for (const r of rows) {
    cells.push([
      String(r.seq),
      r.at.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z"),
      r.actor,
      r.source,
      r.action,
      r.target,
      Object.keys(r.details).length === 0 ? "" : JSON.stringify(r.details),
    ]);
  }
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

function limitArgument(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 100_000) {
    throw new UsageError(`Invalid --limit "${text}": use a whole number from 1 to 100000`);
  }
  return n;
}
