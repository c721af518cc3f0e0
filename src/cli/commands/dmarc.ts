/**
 * `fumi dmarc reports [DOMAIN] [--days N]`: who sends as our domains, from the DMARC aggregate
 * reports other receivers sent us (RFC 7489 §7.2, read by src/dmarc/receive.ts): per domain,
 * reporter and source IP, the messages and how many passed DMARC, DKIM and SPF.
 *
 * @module
 */

import { DmarcReports, type SenderSummary } from "../../store/dmarc_reports.ts";
import { UsageError } from "../../util/errors.ts";
import { parseArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { withStore } from "../context.ts";

const USAGE = "fumi dmarc reports [DOMAIN] [--days N]";
const DEFAULT_DAYS = 30;

/** `fumi dmarc`. */
export const dmarcCommand: Command = {
  name: "dmarc",
  usage: USAGE,
  summary: "Show the DMARC aggregate reports received for our domains: who sends as them.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config", "days"] });
    const [sub, domain, extra] = args.positional;
    if (sub !== "reports") {
      throw new UsageError(
        sub === undefined
          ? `Missing subcommand; usage: ${USAGE}`
          : `Unknown subcommand "${sub}"; usage: ${USAGE}`,
      );
    }
    if (extra !== undefined) {
      throw new UsageError(`Unexpected argument "${extra}"; usage: ${USAGE}`);
    }
    if (domain !== undefined && !/^[A-Za-z0-9.-]+$/.test(domain)) {
      throw new UsageError(`Invalid domain "${domain}"`);
    }
    const days = daysArgument(args.strings.get("days"));
    const since = new Date(Date.now() - days * 86_400_000);
    await withStore(io, args, async (store) => {
      const rows = await new DmarcReports(store.sql).summary(domain ?? null, since);
      if (rows.length === 0) {
        io.out(
          `No DMARC reports received${domain ? ` for ${domain}` : ""} in the last ${days} days.`,
        );
        return;
      }
      for (const line of reportsTable(rows)) io.out(line);
    });
  },
};

/** The summary as an aligned table: pass and fail counts per DMARC, DKIM and SPF. */
export function reportsTable(rows: readonly SenderSummary[]): string[] {
  const cells = [["DOMAIN", "REPORTER", "SOURCE IP", "MESSAGES", "DMARC", "DKIM", "SPF"]];
  const passFail = (pass: number, count: number) => `${pass} pass, ${count - pass} fail`;
  for (const r of rows) {
    cells.push([
      r.domain,
      r.orgName,
      r.sourceIp,
      String(r.count),
      passFail(r.dmarcPass, r.count),
      passFail(r.dkimPass, r.count),
      passFail(r.spfPass, r.count),
    ]);
  }
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
}

function daysArgument(text: string | undefined): number {
  if (text === undefined) return DEFAULT_DAYS;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 3650) {
    throw new UsageError(`Invalid --days "${text}": use a whole number from 1 to 3650`);
  }
  return n;
}
