/**
 * `fumi domain add|list|limits|remove`. Adding a domain also makes its DKIM keys.
 *
 * @module
 */

import { expectPositional, parseArgs } from "../args.ts";
import { type Command, group } from "../command.ts";
import { withStore } from "../context.ts";
import { FumiError } from "../../util/errors.ts";
import { dkimRecordLine } from "./dkim.ts";
import { LIMIT_FLAGS, LIMIT_OPTIONS, limitArguments } from "./_limits.ts";

const flags = { string: ["config"] } as const;

const add: Command = {
  name: "add",
  usage: "fumi domain add NAME",
  summary: "Host a domain, make its DKIM keys, and print the DNS records to publish.",
  run: async (io, argv) => {
    const args = parseArgs(argv, flags);
    const [name] = expectPositional(args, ["NAME"], add.usage);
    await withStore(io, args, async (store, config) => {
      const domain = await store.domains.add(name!);
      // Every domain signs its mail from the start (src/store/dkim_keys.ts).
      const dkim = await store.dkimKeys.rotate(domain.name).catch((error: unknown) => {
        throw new FumiError(
          `Added domain ${domain.name}, but could not make its DKIM keys (${
            error instanceof Error ? error.message : String(error)
          }); make them with: fumi dkim rotate ${domain.name}`,
        );
      });
      io.out(
        `Added domain ${domain.unicodeName}${
          domain.unicodeName !== domain.name ? ` (${domain.name})` : ""
        }.`,
      );
      io.out("");
      io.out("Publish these DNS records (replace the address with your server's):");
      for (const line of dnsRecords(domain.name, config.hostname)) io.out(`  ${line}`);
      for (const key of dkim.created) io.out(`  ${dkimRecordLine(key)}  ; RFC 6376, RFC 8463`);
      if (!config.hostname.includes(".")) {
        io.out(`  (the host name "${config.hostname}" is not fully qualified: set FUMI_HOSTNAME)`);
      }
      io.out("");
      io.out(`Show the DKIM records again with: fumi dkim show ${domain.name}`);
      io.out("MTA-STS and TLS-RPT records are added to this list as those features arrive.");
    });
  },
};

const list: Command = {
  name: "list",
  usage: "fumi domain list",
  summary: "List hosted domains.",
  run: async (io, argv) => {
    const args = parseArgs(argv, flags);
    expectPositional(args, [], list.usage);
    await withStore(io, args, async (store) => {
      for (const domain of await store.domains.list()) {
        io.out(
          domain.unicodeName === domain.name
            ? domain.name
            : `${domain.name} (${domain.unicodeName})`,
        );
      }
    });
  },
};

const remove: Command = {
  name: "remove",
  usage: "fumi domain remove NAME",
  summary: "Stop hosting a domain (refused while it has accounts).",
  run: async (io, argv) => {
    const args = parseArgs(argv, flags);
    const [name] = expectPositional(args, ["NAME"], remove.usage);
    await withStore(io, args, async (store) => {
      await store.domains.remove(name!);
      io.out(`Removed domain ${name}.`);
    });
  },
};

/** The records a domain needs so that other servers deliver to Fumi and trust its mail. */
export function dnsRecords(domain: string, hostname: string): string[] {
  const rows: [string, string, string, string][] = [
    [`${hostname}.`, "A", "192.0.2.1", "the server's IPv4 address (and AAAA for IPv6)"],
    [`${domain}.`, "MX", `10 ${hostname}.`, "RFC 5321 §5.1"],
    [`${domain}.`, "TXT", '"v=spf1 mx -all"', "RFC 7208"],
    [
      `_dmarc.${domain}.`,
      "TXT",
      `"v=DMARC1; p=reject; rua=mailto:postmaster@${domain}"`,
      "RFC 7489",
    ],
  ];
  const width = (i: number) => Math.max(...rows.map((r) => r[i]!.length));
  return rows.map(([name, type, value, note]) =>
    `${name.padEnd(width(0))}  ${type.padEnd(width(1))}  ${value.padEnd(width(2))}  ; ${note}`
  );
}

/** `fumi domain`. */
const limits: Command = {
  name: "limits",
  usage: `fumi domain limits NAME ${LIMIT_OPTIONS}`,
  summary: "Show or set the sending limits of a domain's accounts that have none of their own.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config", ...LIMIT_FLAGS] });
    const [name] = expectPositional(args, ["NAME"], limits.usage);
    const changes = limitArguments(args);
    await withStore(io, args, async (store, config) => {
      const domain = await store.domains.get(name!);
      if (Object.keys(changes).length > 0) {
        await store.sending.setDomainLimits(domain.name, changes);
      }
      const own = (await store.sending.domainLimits(domain.name))!;
      const show = (limit: number | null, configured: number, per: string) =>
        limit === null
          ? `${configured === 0 ? "no limit" : `${configured} per ${per}`} (the configuration's)`
          : limit === 0
          ? "no limit"
          : `${limit} per ${per}`;
      io.out(`${domain.name}:`);
      io.out(
        `  messages:   ${show(own.messagesPerHour, config.smtp.max_messages_per_hour, "hour")}`,
      );
      io.out(
        `  recipients: ${show(own.recipientsPerDay, config.smtp.max_recipients_per_day, "day")}`,
      );
    });
  },
};

/** `fumi domain`. */
export const domainCommand = group("domain", "Manage hosted domains.", [add, list, limits, remove]);
