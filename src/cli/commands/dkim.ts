/**
 * `fumi dkim show|rotate|remove`: a domain's DKIM keys (src/store/dkim_keys.ts) and the DNS
 * records that publish them (RFC 6376 §3.6.2.1).
 *
 * @module
 */

import { dkimRecordName, dkimRecordText, zoneStrings } from "../../dkim/record.ts";
import type { DkimKey } from "../../store/mod.ts";
import { expectPositional, parseArgs } from "../args.ts";
import { type Command, group } from "../command.ts";
import { audit } from "./_audit.ts";
import { withStore } from "../context.ts";

const flags = { string: ["config"] } as const;

function date(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** One zone-file line per key: `<selector>._domainkey.<domain>.  TXT  "v=DKIM1; …" "…"`. */
export function dkimRecordLine(key: DkimKey): string {
  return `${dkimRecordName(key.selector, key.domain)}.  TXT  ${
    zoneStrings(dkimRecordText(key.algorithm, key.publicKey))
  }`;
}

/** What a key is for, as a zone-file comment. */
function describe(key: DkimKey): string {
  return key.state === "active"
    ? `; ${key.selector}: ${key.algorithm}, active since ${date(key.createdAt)} (signs mail)`
    : `; ${key.selector}: ${key.algorithm}, retired ${
      date(key.retiredAt ?? key.createdAt)
    } (no longer signs; remove with: fumi dkim remove ${key.domain} ${key.selector})`;
}

const show: Command = {
  name: "show",
  usage: "fumi dkim show DOMAIN",
  summary: "Print the DKIM TXT records to publish for a domain (active and retired keys).",
  run: async (io, argv) => {
    const args = parseArgs(argv, flags);
    const [name] = expectPositional(args, ["DOMAIN"], show.usage);
    await withStore(io, args, async (store) => {
      const domain = await store.domains.get(name!);
      const keys = await store.dkimKeys.published(domain.name);
      if (keys.length === 0) {
        io.out(
          `${domain.name} has no DKIM keys; make them with: fumi dkim rotate ${domain.name}`,
        );
        return;
      }
      io.out(`Publish these DKIM records for ${domain.name} (TXT, RFC 6376 §3.6.2.1):`);
      for (const key of keys) {
        io.out("");
        io.out(describe(key));
        io.out(dkimRecordLine(key));
      }
    });
  },
};

const rotate: Command = {
  name: "rotate",
  usage: "fumi dkim rotate DOMAIN",
  summary: "Make new DKIM keys for a domain; the old ones stop signing but stay published.",
  run: async (io, argv) => {
    const args = parseArgs(argv, flags);
    const [name] = expectPositional(args, ["DOMAIN"], rotate.usage);
    await withStore(io, args, async (store) => {
      const domain = await store.domains.get(name!);
      const { created, retired } = await store.dkimKeys.rotate(domain.name);
      await audit(io, store, "dkim.rotate", domain.name, {
        created: created.map((k) => k.selector),
        retired: retired.map((k) => k.selector),
      });
      io.out(
        `New DKIM keys for ${domain.name}: ${
          created.map((k) => k.selector).join(", ")
        }. Mail is signed with them from now on: publish these records now.`,
      );
      io.out("");
      for (const key of created) io.out(dkimRecordLine(key));
      if (retired.length > 0) {
        io.out("");
        io.out(
          `Retired: ${
            retired.map((k) => k.selector).join(", ")
          }. They no longer sign but stay published, so that mail already signed with them`,
        );
        io.out(
          `still verifies; after a few days remove each with: fumi dkim remove ${domain.name} SELECTOR`,
        );
      }
    });
  },
};

const remove: Command = {
  name: "remove",
  usage: "fumi dkim remove DOMAIN SELECTOR",
  summary: "Stop publishing a retired DKIM key and delete it (active keys: rotate first).",
  run: async (io, argv) => {
    const args = parseArgs(argv, flags);
    const [name, selector] = expectPositional(args, ["DOMAIN", "SELECTOR"], remove.usage);
    await withStore(io, args, async (store) => {
      const domain = await store.domains.get(name!);
      const key = await store.dkimKeys.remove(domain.name, selector!);
      await audit(io, store, "dkim.remove", key.domain, { selector: key.selector });
      const record = dkimRecordName(key.selector, key.domain);
      io.out(`Removed DKIM selector ${key.selector} of ${key.domain}.`);
      io.out(
        `Delete the TXT record ${record}. from DNS, or publish it as ${
          zoneStrings(dkimRecordText(key.algorithm, null))
        } to revoke it (RFC 6376 §3.6.1).`,
      );
    });
  },
};

/** `fumi dkim`. */
export const dkimCommand = group("dkim", "Manage domains' DKIM signing keys.", [
  show,
  rotate,
  remove,
]);
