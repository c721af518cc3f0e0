/**
 * `fumi domain add|list|dns|check|limits|remove`. Adding a domain also makes its DKIM keys and
 * prints the records to publish (domain_dns.ts).
 *
 * @module
 */

import { expectPositional, parseArgs } from "../args.ts";
import { type Command, group } from "../command.ts";
import { audit } from "./_audit.ts";
import { withStore } from "../context.ts";
import { FumiError } from "../../util/errors.ts";
import { check, dns, mtaStsId, printRecords } from "./domain_dns.ts";
import { expectedRecords } from "../../records/mod.ts";
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
      await audit(io, store, "domain.add", domain.name);
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
      const records = expectedRecords({
        domain: domain.name,
        hostname: config.hostname,
        dkim: dkim.created,
        mtaStsId: await mtaStsId(config),
      });
      printRecords(io, records, config.hostname);
      io.out("");
      io.out(`Show them again with: fumi domain dns ${domain.name}`);
      io.out(`Show the DKIM records again with: fumi dkim show ${domain.name}`);
      io.out(`Once published, check them with: fumi domain check ${domain.name}`);
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
      await audit(io, store, "domain.remove", name!);
      io.out(`Removed domain ${name}.`);
    });
  },
};

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
        await audit(io, store, "domain.limits", domain.name, { ...changes });
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
export const domainCommand = group("domain", "Manage hosted domains.", [
  add,
  list,
  dns,
  check,
  limits,
  remove,
]);
