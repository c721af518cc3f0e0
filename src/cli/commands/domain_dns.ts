/**
 * `fumi domain dns NAME` prints the records a hosted domain must publish; `fumi domain check
 * NAME` looks them up (through the `[dns]` name servers) and says which are missing or wrong,
 * exiting 1 when any record mail depends on is.
 *
 * @module
 */

import type { Config } from "../../config/mod.ts";
import { openResolver } from "../../dns/mod.ts";
import { ownPolicyText, policyId } from "../../mtasts/mod.ts";
import {
  checkRecords,
  type ExpectedRecord,
  expectedRecords,
  zoneLines,
} from "../../records/mod.ts";
import type { Store } from "../../store/mod.ts";
import { FumiError } from "../../util/errors.ts";
import { expectPositional, parseArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { withStore } from "../context.ts";
import type { CliIo } from "../io.ts";

const flags = { string: ["config"] } as const;

/** The records `domain` (hosted here) must publish, with its published DKIM keys. */
export async function domainRecords(
  store: Store,
  config: Config,
  domain: string,
): Promise<ExpectedRecord[]> {
  const keys = await store.dkimKeys.published(domain);
  return expectedRecords({
    domain,
    hostname: config.hostname,
    dkim: keys,
    mtaStsId: await mtaStsId(config),
  });
}

/** The id of the MTA-STS policy this server serves (the same for every hosted domain). */
export async function mtaStsId(config: Config): Promise<string | null> {
  if (config.mta_sts.mode === "none") return null;
  return await policyId(ownPolicyText(config));
}

/** Prints the records to publish as zone-file lines, with what to do about the address. */
export function printRecords(io: CliIo, records: readonly ExpectedRecord[], hostname: string) {
  io.out("Publish these DNS records (replace the address with your server's):");
  for (const line of zoneLines(records)) io.out(`  ${line}`);
  if (!hostname.includes(".")) {
    io.out(`  (the host name "${hostname}" is not fully qualified: set FUMI_HOSTNAME)`);
  }
}

export const dns: Command = {
  name: "dns",
  usage: "fumi domain dns NAME",
  summary: "Print the DNS records a hosted domain must publish.",
  run: async (io, argv) => {
    const args = parseArgs(argv, flags);
    const [name] = expectPositional(args, ["NAME"], dns.usage);
    await withStore(io, args, async (store, config) => {
      const domain = await store.domains.get(name!);
      printRecords(io, await domainRecords(store, config, domain.name), config.hostname);
    });
  },
};

const MARK = {
  ok: "ok",
  missing: "MISSING",
  wrong: "WRONG",
  warning: "warning",
  unknown: "unknown",
};

export const check: Command = {
  name: "check",
  usage: "fumi domain check NAME",
  summary: "Look up a hosted domain's DNS records and say which are missing or wrong.",
  run: async (io, argv) => {
    const args = parseArgs(argv, flags);
    const [name] = expectPositional(args, ["NAME"], check.usage);
    const findings = await withStore(io, args, async (store, config) => {
      const domain = await store.domains.get(name!);
      const records = await domainRecords(store, config, domain.name);
      return await checkRecords(await openResolver(config.dns), records, config.hostname);
    });
    const width = Math.max(...findings.map((f) => `${f.record.type} ${f.record.name}`.length));
    for (const { record, status, detail } of findings) {
      const what = `${record.type} ${record.name}`.padEnd(width);
      io.out(`${MARK[status].padEnd(7)}  ${what}${detail === "" ? "" : `  ${detail}`}`);
      if (status === "missing" || status === "wrong") {
        io.out(`${" ".repeat(9)}want: ${record.value}`);
      }
    }
    const bad = findings.filter((f) => f.status === "missing" || f.status === "wrong");
    const unknown = findings.filter((f) => f.status === "unknown");
    if (bad.length > 0) {
      throw new FumiError(
        `${bad.length} record${bad.length === 1 ? " is" : "s are"} missing or wrong; ` +
          `see: fumi domain dns ${name}`,
      );
    }
    if (unknown.length > 0) {
      throw new FumiError(`${unknown.length} lookups failed; check [dns] and try again`);
    }
    io.out("All records needed for mail are published.");
  },
};
