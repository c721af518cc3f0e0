/**
 * `fumi import-maildir ACCOUNT PATH`: a Maildir (as Dovecot, Courier or maildrop keep one)
 * into an account, folders, flags and keywords included (the naming rules:
 * src/mime/maildir.ts).
 *
 * - PATH's own cur/ and new/ are INBOX. Folders are Maildir++ directories (`.A.B` → "A/B") or,
 *   as Dovecot's LAYOUT=fs keeps them, nested directories holding cur/ or new/. Folder names
 *   are decoded from modified UTF-7 when they are valid modified UTF-7.
 * - Messages are taken in the order of Dovecot's `dovecot-uidlist` when the folder has one
 *   (so UIDs keep their order), else by delivery time in the name; tmp/ is never read.
 * - INTERNALDATE is the file's modification time (Dovecot keeps the received date there), else
 *   the time in the name. A file whose size differs from its `,S=` part is skipped as damaged.
 * - Each message is stored as IMAP APPEND stores one (_import.ts), LFs made CRLFs.
 *
 * @module
 */

import { decodeMailboxName } from "../../imap/proto/mutf7.ts";
import {
  maildirFlags,
  maildirPlusPlusFolder,
  parseDovecotKeywords,
  parseMaildirName,
  toCrlf,
} from "../../mime/maildir.ts";
import { InvalidInputError } from "../../util/errors.ts";
import { expectPositional, parseArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { withStore } from "../context.ts";
import { Importer } from "./_import.ts";

/** A folder of the Maildir: its directory and its mailbox name. */
interface Folder {
  readonly dir: string;
  readonly mailbox: string;
}

/** `fumi import-maildir`. */
export const importMaildirCommand: Command = {
  name: "import-maildir",
  usage: "fumi import-maildir ACCOUNT PATH",
  summary:
    "Import a Maildir (Maildir++ or Dovecot LAYOUT=fs folders) into an account, flags included.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config"] });
    const [address, source] = expectPositional(
      args,
      ["ACCOUNT", "PATH"],
      importMaildirCommand.usage,
    );
    const root = source!.startsWith("/") ? source! : `${io.cwd}/${source}`;
    const folders = await findFolders(root);
    if (folders.length === 0) {
      throw new InvalidInputError(`${source} is not a Maildir (no cur/ or new/ folder in it)`);
    }
    await withStore(io, args, async (store, config) => {
      const account = await store.accounts.get(address!);
      const importer = new Importer(store, account.id, config.limits.max_message_size, io);
      for (const folder of folders) await importFolder(importer, folder);
      io.out(importer.summary(account.address));
    });
  },
};

/** INBOX (when PATH holds cur/ or new/) and every folder below it. */
async function findFolders(root: string): Promise<Folder[]> {
  const folders: Folder[] = [];
  if (await isMaildir(root)) folders.push({ dir: root, mailbox: "INBOX" });
  const walk = async (dir: string, parents: string[]) => {
    const names: string[] = [];
    for await (const entry of Deno.readDir(dir)) if (entry.isDirectory) names.push(entry.name);
    names.sort();
    for (const name of names) {
      if (name === "cur" || name === "new" || name === "tmp") continue;
      const plus = parents.length === 0 ? maildirPlusPlusFolder(name) : null;
      if (plus) {
        if (await isMaildir(`${dir}/${name}`)) {
          folders.push({ dir: `${dir}/${name}`, mailbox: plus.map(decodeName).join("/") });
        }
        continue;
      }
      if (name.startsWith(".")) continue;
      // Dovecot's LAYOUT=fs: folders nest as directories.
      const path = [...parents, decodeName(name)];
      if (await isMaildir(`${dir}/${name}`)) {
        folders.push({ dir: `${dir}/${name}`, mailbox: path.join("/") });
      }
      await walk(`${dir}/${name}`, path);
    }
  };
  await walk(root, []);
  return folders;
}

function decodeName(segment: string): string {
  const decoded = decodeMailboxName(segment);
  return decoded ?? segment;
}

async function isMaildir(dir: string): Promise<boolean> {
  for (const sub of ["cur", "new"]) {
    try {
      if ((await Deno.stat(`${dir}/${sub}`)).isDirectory) return true;
    } catch {
      // absent
    }
  }
  return false;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

async function importFolder(importer: Importer, folder: Folder): Promise<void> {
  const keywords = parseDovecotKeywords(await readText(`${folder.dir}/dovecot-keywords`) ?? "");
  // dovecot-uidlist: a header line, then `UID [fields] :BASENAME` per message.
  const uids = new Map<string, number>();
  for (const line of (await readText(`${folder.dir}/dovecot-uidlist`) ?? "").split("\n")) {
    const match = /^(\d+)(?: [^:]*)?:(.+)$/.exec(line);
    if (match) uids.set(match[2]!, Number(match[1]));
  }
  const files: { path: string; name: string; order: number }[] = [];
  for (const sub of ["cur", "new"]) {
    try {
      for await (const entry of Deno.readDir(`${folder.dir}/${sub}`)) {
        if (!entry.isFile || entry.name.startsWith(".")) continue;
        const base = entry.name.replace(/[:;!]2,.*$/, "");
        const time = parseMaildirName(entry.name).time?.getTime() ?? Number.MAX_SAFE_INTEGER;
        files.push({
          path: `${folder.dir}/${sub}/${entry.name}`,
          name: entry.name,
          order: uids.get(base) ?? time,
        });
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  // Messages in the uidlist keep its order; others follow by time (UIDs are far below times).
  files.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  for (const file of files) {
    const name = parseMaildirName(file.name);
    const info = await Deno.stat(file.path);
    if (name.size !== null && name.size !== info.size) {
      importer.skip("size differs from the S= in its name (damaged?)");
      continue;
    }
    if (importer.tooLarge(info.size)) continue;
    const raw = toCrlf(await Deno.readFile(file.path));
    const date = info.mtime ?? name.time ?? new Date();
    await importer.add(raw, folder.mailbox, maildirFlags(name.flags, keywords), date);
  }
}
