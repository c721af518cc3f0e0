/**
 * `fumi keys rotate|list|generate`: the master key.
 *
 * With the key in `master.key` (the default), `rotate` does everything: it generates a new key,
 * writes the file with the new key first and the old one after it (so both are readable if it
 * is interrupted), re-wraps every data key, then, only when no data key is wrapped by the old
 * key any more, writes the file with the new key alone; otherwise both stay and the
 * administrator runs `rotate` again.
 *
 * With the key in FUMI_MASTER_KEY or a systemd credential, Fumi cannot write it: the
 * administrator puts the new key first (`NEW,OLD`), runs `fumi keys rotate`, then drops OLD.
 *
 * @module
 */

import { generateMasterKey, parseMasterKeyRing } from "../../crypto/master_key.ts";
import {
  formatKeyId,
  rotateDataKeys,
  rotationComplete,
  type Store,
  writeKeyFile,
} from "../../store/mod.ts";
import { ConfigError } from "../../util/errors.ts";
import { expectPositional, parseArgs } from "../args.ts";
import { type Command, group } from "../command.ts";
import { audit } from "./_audit.ts";
import type { CliIo } from "../io.ts";
import { withStore } from "../context.ts";

const rotate: Command = {
  name: "rotate",
  usage: "fumi keys rotate",
  summary:
    "Introduce a new master key and re-wrap every data key with it (mail is not re-encrypted).",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config"] });
    expectPositional(args, [], rotate.usage);
    await withStore(io, args, async (store) => {
      const source = store.keySource;
      if (source.kind === "file") {
        const fresh = generateMasterKey();
        // The new key reaches the disk before any data key is wrapped with it.
        await writeKeyFile(source.path!, [fresh, ...source.keys]);
        const ring = await parseMasterKeyRing(
          [fresh, ...source.keys].join("\n"),
          source.description,
        );
        await runRotation(io, store, ring);
        // Dropping the old key while a data key still needs it would lose that account's mail.
        if (!(await rotationComplete(store.sql, ring))) {
          io.out(
            `Some data keys are still wrapped with an old key; ${source.path} keeps every key. ` +
              "Run fumi keys rotate again.",
          );
          return;
        }
        await writeKeyFile(source.path!, [fresh]);
        io.out(`${source.path} now holds only the new key; back it up.`);
        return;
      }
      const ring = source.ring;
      if (await rotationComplete(store.sql, ring) && ring.keys.length === 1) {
        throw new ConfigError(
          `${source.description} holds only the current key ${formatKeyId(ring.primary.id)}. ` +
            "To rotate: generate a key (fumi keys generate), set it first and the current key after it (NEW,OLD), run fumi keys rotate, then remove OLD",
        );
      }
      await runRotation(io, store, ring);
      io.out(
        `Every data key is wrapped with ${
          formatKeyId(ring.primary.id)
        }; remove the old key(s) from ${source.description}.`,
      );
    });
  },
};

async function runRotation(
  io: CliIo,
  store: Store,
  ring: Awaited<ReturnType<typeof parseMasterKeyRing>>,
): Promise<void> {
  const report = await rotateDataKeys(store.sql, ring, (done, total) => {
    if (total > 0) io.err(`re-wrapping data keys: ${done}/${total}`);
  });
  await audit(io, store, "keys.rotate", report.primary, {
    rewrapped: report.rewrapped,
    retired: report.retired,
  });
  io.out(`Master key ${report.primary} is primary; re-wrapped ${report.rewrapped} data key(s).`);
  if (report.retired.length) io.out(`Retired master key(s): ${report.retired.join(", ")}.`);
}

const list: Command = {
  name: "list",
  usage: "fumi keys list",
  summary: "Show the master keys the database knows and their state.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config"] });
    expectPositional(args, [], list.usage);
    await withStore(io, args, async (store) => {
      const rows = await store.sql<
        { kek_id: number; state: string; created_at: Date; keys: number }[]
      >`
        select m.kek_id, m.state, m.created_at,
               (select count(*)::int from data_keys d where d.kek_id = m.kek_id) as keys
        from master_keys m order by m.created_at`;
      io.out(`Master key source: ${store.keySource.description}`);
      for (const row of rows) {
        const here = store.keySource.ring.byId(row.kek_id) ? "available" : "not in source";
        io.out(
          `${formatKeyId(row.kek_id)}  ${
            row.state.padEnd(7)
          }  ${row.keys} data key(s)  ${here}  created ${row.created_at.toISOString()}`,
        );
      }
    });
  },
};

const generate: Command = {
  name: "generate",
  usage: "fumi keys generate",
  summary: "Print a new random master key (base64), for FUMI_MASTER_KEY or a systemd credential.",
  run: (io, argv) => {
    expectPositional(parseArgs(argv, {}), [], generate.usage);
    io.out(generateMasterKey());
    return Promise.resolve();
  },
};

/** `fumi keys`. */
export const keysCommand = group("keys", "Manage the master key.", [rotate, list, generate]);
