/**
 * `fumi export-mbox ACCOUNT [--mailbox NAME] [FILE|-]` and
 * `fumi import-mbox ACCOUNT PATH [--mailbox NAME]`: an account's mail as mboxrd (the format,
 * flags in Status/X-Status/X-Keywords as Dovecot writes them: src/mime/mbox.ts).
 *
 * Export without --mailbox writes every mailbox into the one file, each message marked with
 * `X-Fumi-Mailbox`, so that import puts it back where it was; with --mailbox, that mailbox
 * alone, unmarked, as any mail client would read it. Messages are read a bounded batch at a
 * time. The file is created new, mode 0600: it holds mail in clear.
 *
 * Import stores each message as IMAP APPEND would (see _import.ts), into --mailbox, else the
 * mailbox the message names, else INBOX; INTERNALDATE is the From_ line's date.
 *
 * @module
 */

import { MboxReader, writeMboxrd } from "../../mime/mbox.ts";
import type { Mailbox, Store } from "../../store/mod.ts";
import { ConflictError, InvalidInputError, UsageError } from "../../util/errors.ts";
import { parseArgs, type ParsedArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { withStore } from "../context.ts";
import { Importer } from "./_import.ts";

/** Decrypted octets read at once while exporting. */
const EXPORT_BATCH_OCTETS = 32 * 1024 * 1024;

function positional(args: ParsedArgs, min: number, max: number, usage: string): string[] {
  const p = args.positional;
  if (p.length < min) throw new UsageError(`Missing argument; usage: ${usage}`);
  if (p.length > max) throw new UsageError(`Unexpected argument "${p[max]}"; usage: ${usage}`);
  return [...p];
}

/** `fumi export-mbox`. */
export const exportMboxCommand: Command = {
  name: "export-mbox",
  usage: "fumi export-mbox ACCOUNT [--mailbox NAME] [FILE|-]",
  summary: "Write an account's mail (or one mailbox) as an mboxrd file, flags included.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config", "mailbox"] });
    const [address, target = "-"] = positional(args, 1, 2, exportMboxCommand.usage);
    const toStdout = target === "-";
    await withStore(io, args, async (store) => {
      const account = await store.accounts.get(address!);
      const only = args.strings.get("mailbox");
      const mailboxes = only === undefined
        ? await store.mailboxes.list(account.id)
        : [await store.mailboxes.get(account.id, only)];
      const path = target.startsWith("/") ? target : `${io.cwd}/${target}`;
      let file: Deno.FsFile | null = null;
      if (!toStdout) {
        try {
          file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
        } catch (error) {
          if (error instanceof Deno.errors.AlreadyExists) {
            throw new ConflictError(`${target} exists already; it is not overwritten`);
          }
          throw error;
        }
      }
      const writer = (file?.writable ?? Deno.stdout.writable).getWriter();
      let count = 0;
      try {
        for (const mailbox of mailboxes) {
          count += await exportMailbox(store, account.id, mailbox, only === undefined, writer);
        }
      } finally {
        if (file) await writer.close();
        else writer.releaseLock();
      }
      const line =
        `Exported ${count} message(s) from ${mailboxes.length} mailbox(es) of ${account.address}${
          toStdout ? "" : ` to ${target}`
        }.`;
      if (toStdout) io.err(line);
      else io.out(line);
    });
  },
};

async function exportMailbox(
  store: Store,
  accountId: number,
  mailbox: Mailbox,
  mark: boolean,
  writer: WritableStreamDefaultWriter<Uint8Array>,
): Promise<number> {
  const messages = await store.messages.list(mailbox.id);
  let at = 0;
  while (at < messages.length) {
    let octets = 0;
    let end = at;
    while (
      end < messages.length && (end === at || octets + messages[end]!.size <= EXPORT_BATCH_OCTETS)
    ) {
      octets += messages[end]!.size;
      end++;
    }
    const batch = messages.slice(at, end);
    const bytes = await store.messages.readMany(accountId, batch.map((m) => m.messageId));
    for (const info of batch) {
      const raw = bytes.get(info.messageId);
      if (raw === undefined) continue; // expunged meanwhile
      await writer.write(writeMboxrd(raw, {
        sender: returnPath(raw),
        date: info.internalDate,
        flags: info.flags,
        mailbox: mark ? mailbox.name : null,
      }));
    }
    at = end;
  }
  return messages.length;
}

/** The address of the message's Return-Path field (RFC 5321 §4.4), or "MAILER-DAEMON". */
function returnPath(raw: Uint8Array): string {
  const head = new TextDecoder("latin1").decode(raw.subarray(0, Math.min(raw.length, 8192)));
  const end = head.search(/\r?\n\r?\n/);
  const match = /^return-path:[ \t]*<([^<>\s]*)>/im.exec(end === -1 ? head : head.slice(0, end));
  return match?.[1] || "MAILER-DAEMON";
}

/** `fumi import-mbox`. */
export const importMboxCommand: Command = {
  name: "import-mbox",
  usage: "fumi import-mbox ACCOUNT PATH [--mailbox NAME]",
  summary: "Import an mbox file (mboxrd or mboxo) into an account, flags included.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config", "mailbox"] });
    const [address, source] = positional(args, 2, 2, importMboxCommand.usage);
    await withStore(io, args, async (store, config) => {
      const account = await store.accounts.get(address!);
      const max = config.limits.max_message_size;
      const importer = new Importer(store, account.id, max, io);
      const reader = new MboxReader(max);
      const only = args.strings.get("mailbox");
      const file = await Deno.open(source!.startsWith("/") ? source! : `${io.cwd}/${source}`);
      let seen = 0;
      const storeAll = async (messages: ReturnType<MboxReader["push"]>) => {
        for (const message of messages) {
          seen++;
          if (message.tooLarge) {
            importer.tooLarge(message.size);
            continue;
          }
          await importer.add(
            message.raw,
            only ?? message.mailbox ?? "INBOX",
            message.flags,
            message.date ?? new Date(),
          );
        }
      };
      for await (const chunk of file.readable) await storeAll(reader.push(chunk));
      await storeAll(reader.end());
      if (seen === 0 && reader.junkLines > 0) {
        throw new InvalidInputError(`${source} is not an mbox file (no "From " line starts it)`);
      }
      io.out(importer.summary(account.address));
    });
  },
};
