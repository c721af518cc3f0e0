/**
 * `fumi queue list|show|retry|hold|release|remove`: the outbound queue, for administrators
 * (src/store/queue_admin.ts).
 *
 * `list` reads like Postfix's mailq: queue id, size, arrival time and sender, then each
 * recipient with its state and, when an attempt failed, what the remote server said. An id
 * followed by `!` is on hold; by `*`, a worker is sending it now.
 *
 * Held messages are not sent until released; an account's outbound hold (`fumi user hold`)
 * holds everything it queues. Commands take effect at once on every node: workers read the
 * queue's tables on each claim.
 *
 * @module
 */

import type { AdminQueueDetail, AdminQueueMessage, AdminQueueRecipient } from "../../store/mod.ts";
import { UsageError } from "../../util/errors.ts";
import { formatSize } from "../../util/size.ts";
import { expectPositional, parseArgs } from "../args.ts";
import { type Command, group } from "../command.ts";
import { audit } from "./_audit.ts";
import { withStore } from "../context.ts";

/** A queue id argument: a positive integer. */
export function queueIdArgument(text: string): number {
  if (!/^[1-9]\d{0,15}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`Invalid queue id "${text}"; use the number fumi queue list shows`);
  }
  return Number(text);
}

function formatTime(date: Date): string {
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

function sender(text: string): string {
  return text === "" ? "<>" : text;
}

/** The mark after an id: `!` held, `*` being sent, else nothing (as Postfix's mailq). */
function mark(message: AdminQueueMessage, now: Date): string {
  if (message.heldAt !== null) return "!";
  const sending = message.recipients.some((r) =>
    r.status === "queued" && r.leasedUntil !== null && r.leasedUntil > now
  );
  return sending ? "*" : "";
}

function attempts(n: number): string {
  return n === 1 ? "1 attempt" : `${n} attempts`;
}

/** One line on a recipient's state: "queued, 2 attempts, next 2026-… UTC". */
function recipientState(r: AdminQueueRecipient, now: Date): string {
  const parts: string[] = [r.status];
  if (r.attempts > 0) parts.push(attempts(r.attempts));
  if (r.status === "queued") {
    if (r.leasedUntil !== null && r.leasedUntil > now) parts.push("being sent");
    else parts.push(`next ${formatTime(r.nextAttemptAt)}`);
  } else if (r.finishedAt !== null) {
    parts.push(formatTime(r.finishedAt));
  }
  return parts.join(", ");
}

/** Why a recipient is still queued or failed, as mailq shows it: "(host said: reply)". */
function reason(r: AdminQueueRecipient): string | null {
  if (r.lastError === null || r.status === "delivered") return null;
  const text = r.lastError.replace(/\s+/g, " ").trim();
  return r.remoteHost === null ? `(${text})` : `(${r.remoteHost} said: ${text})`;
}

/** Formats messages as a mailq-like listing; `now` decides which are being sent. */
export function queueListing(messages: readonly AdminQueueMessage[], now: Date): string[] {
  const rows = messages.map((m) => [
    `${m.id}${mark(m, now)}`,
    formatSize(m.size),
    formatTime(m.createdAt),
    sender(m.sender),
  ]);
  const header = ["ID", "SIZE", "ARRIVED", "SENDER"];
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const indent = " ".repeat(widths[0]! + 2);
  const out = [line(header)];
  for (const [i, m] of messages.entries()) {
    out.push(line(rows[i]!));
    if (m.heldAt !== null) out.push(`${indent}(held: ${m.heldReason ?? "no reason given"})`);
    const width = Math.max(...m.recipients.map((r) => r.address.length));
    for (const r of m.recipients) {
      out.push(`${indent}${r.address.padEnd(width)}  ${recipientState(r, now)}`);
      const why = reason(r);
      if (why !== null) out.push(`${indent}  ${why}`);
    }
  }
  const total = messages.reduce((sum, m) => sum + m.size, 0);
  const held = messages.filter((m) => m.heldAt !== null).length;
  const count = messages.length === 1 ? "1 message" : `${messages.length} messages`;
  out.push(`-- ${formatSize(total)} in ${count}${held > 0 ? `, ${held} held` : ""}.`);
  return out;
}

/** Formats one message in full, for `fumi queue show`. */
export function queueDetail(message: AdminQueueDetail, now: Date): string[] {
  const out = [`Message ${message.id}`];
  const field = (name: string, value: string) => out.push(`  ${`${name}:`.padEnd(10)} ${value}`);
  field("Sender", sender(message.sender));
  field("Account", message.account ?? (message.accountId === null ? "none" : "removed"));
  field("Arrived", formatTime(message.createdAt));
  field("Size", formatSize(message.size));
  if (message.envid !== null) field("ENVID", message.envid);
  if (message.ret !== null) field("RET", message.ret);
  // RFC 8689: the sender's TLS requirement, when it made one.
  if (message.requireTls === true) field("TLS", "REQUIRETLS: verified TLS to every hop, or none");
  if (message.requireTls === false) field("TLS", "TLS-Required: No (MTA-STS and DANE waived)");
  field(
    "Held",
    message.heldAt === null
      ? "no"
      : `since ${formatTime(message.heldAt)}: ${message.heldReason ?? "no reason given"}`,
  );
  out.push("Recipients:");
  for (const r of message.recipients) {
    out.push(`  ${r.address}`);
    out.push(`    ${recipientState(r, now)}`);
    if (r.lastAttemptAt !== null) {
      const at = r.remoteHost === null ? "" : ` at ${r.remoteHost}`;
      out.push(`    last attempt ${formatTime(r.lastAttemptAt)}${at}`);
    }
    if (r.lastError !== null) {
      const label = r.status === "delivered" ? "reply" : "last error";
      out.push(`    ${label}: ${r.lastError.replace(/\s+/g, " ").trim()}`);
    }
    const dsn = [
      r.notify === null ? null : `NOTIFY=${r.notify}`,
      r.orcpt === null ? null : `ORCPT=${r.orcpt}`,
    ].filter((x) => x !== null);
    if (dsn.length > 0) out.push(`    ${dsn.join(" ")}`);
    if (r.failureNotifiedAt !== null) {
      out.push(`    sender told of the failure ${formatTime(r.failureNotifiedAt)}`);
    }
    if (r.delayNotifiedAt !== null) {
      out.push(`    sender told of the delay ${formatTime(r.delayNotifiedAt)}`);
    }
  }
  if (message.headers !== null) {
    out.push("Headers:");
    for (const l of message.headers.replace(/\r?\n$/, "").split(/\r?\n/)) out.push(`  ${l}`);
  }
  return out;
}

function recipientsOf(message: AdminQueueMessage): string {
  const n = message.recipients.length;
  return `${n === 1 ? "1 recipient" : `${n} recipients`} (${
    message.recipients.map((r) => r.address).join(", ")
  })`;
}

const list: Command = {
  name: "list",
  usage: "fumi queue list [--held] [--failed] [--sender TEXT] [--recipient TEXT]",
  summary: "List queued messages with their recipients and why they wait (like mailq).",
  run: async (io, argv) => {
    const args = parseArgs(argv, {
      boolean: ["held", "failed"],
      string: ["config", "sender", "recipient"],
    });
    expectPositional(args, [], list.usage);
    await withStore(io, args, async (store) => {
      const messages = await store.queueAdmin.list({
        ...(args.booleans.has("held") ? { held: true } : {}),
        ...(args.booleans.has("failed") ? { status: "failed" as const } : {}),
        ...(args.strings.has("sender") ? { sender: args.strings.get("sender")! } : {}),
        ...(args.strings.has("recipient") ? { recipient: args.strings.get("recipient")! } : {}),
      });
      if (messages.length === 0) {
        const filtered = args.booleans.size > 0 || args.strings.has("sender") ||
          args.strings.has("recipient");
        io.out(filtered ? "No queued message matches." : "The queue is empty.");
        return;
      }
      for (const line of queueListing(messages, new Date())) io.out(line);
    });
  },
};

const show: Command = {
  name: "show",
  usage: "fumi queue show ID [--headers]",
  summary: "Show a queued message's envelope and each recipient's state (--headers: its header).",
  run: async (io, argv) => {
    const args = parseArgs(argv, { boolean: ["headers"], string: ["config"] });
    const [text] = expectPositional(args, ["ID"], show.usage);
    const id = queueIdArgument(text!);
    await withStore(io, args, async (store) => {
      const message = await store.queueAdmin.show(id, { headers: args.booleans.has("headers") });
      for (const line of queueDetail(message, new Date())) io.out(line);
    });
  },
};

/** Takes either one ID or the flag `flag`, not both and not neither. */
function idOr(
  args: { positional: readonly string[]; booleans: ReadonlySet<string> },
  flag: boolean,
  flagName: string,
  usage: string,
): number | null {
  if (args.positional.length > 1) {
    throw new UsageError(`Unexpected argument "${args.positional[1]}"; usage: ${usage}`);
  }
  const [text] = args.positional;
  if (text !== undefined && flag) throw new UsageError(`Give ID or ${flagName}, not both`);
  if (text === undefined && !flag) {
    throw new UsageError(`Missing ID or ${flagName}; usage: ${usage}`);
  }
  return text === undefined ? null : queueIdArgument(text);
}

const retry: Command = {
  name: "retry",
  usage: "fumi queue retry ID|--all",
  summary: "Try a message's waiting recipients (or every waiting recipient) now.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { boolean: ["all"], string: ["config"] });
    const id = idOr(args, args.booleans.has("all"), "--all", retry.usage);
    await withStore(io, args, async (store) => {
      if (id === null) {
        const n = await store.queueAdmin.retry("all");
        await audit(io, store, "queue.retry", "all", { recipients: n });
        io.out(`${n === 1 ? "1 recipient is" : `${n} recipients are`} due now.`);
        return;
      }
      const n = await store.queueAdmin.retry(id);
      await audit(io, store, "queue.retry", String(id), { recipients: n });
      const message = await store.queueAdmin.show(id);
      io.out(
        n === 0
          ? `Message ${id} has no recipient waiting.`
          : `Message ${id}: ${n === 1 ? "1 recipient is" : `${n} recipients are`} due now.`,
      );
      if (message.heldAt !== null) {
        io.out(`Message ${id} is on hold: it is sent once released (fumi queue release ${id}).`);
      }
    });
  },
};

const hold: Command = {
  name: "hold",
  usage: "fumi queue hold ID [--reason TEXT]",
  summary: "Keep a message from being sent until it is released.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config", "reason"] });
    const [text] = expectPositional(args, ["ID"], hold.usage);
    const id = queueIdArgument(text!);
    await withStore(io, args, async (store) => {
      const { message, changed } = await store.queueAdmin.hold(
        id,
        args.strings.get("reason") ?? null,
      );
      if (changed) {
        await audit(io, store, "queue.hold", String(id), { reason: message.heldReason });
      }
      io.out(
        `${changed ? "Held" : "Already held:"} message ${id} from ${sender(message.sender)}: ${
          message.heldReason ?? "no reason given"
        }.`,
      );
    });
  },
};

const release: Command = {
  name: "release",
  usage: "fumi queue release ID|--account ADDRESS",
  summary: "Let a held message (or every held message of an account) be sent now.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config", "account"] });
    const account = args.strings.get("account");
    const id = idOr(args, account !== undefined, "--account", release.usage);
    await withStore(io, args, async (store) => {
      if (id !== null) {
        const { changed } = await store.queueAdmin.release(id);
        if (changed) await audit(io, store, "queue.release", String(id));
        io.out(changed ? `Released message ${id}.` : `Message ${id} was not on hold.`);
        return;
      }
      const owner = await store.accounts.get(account!);
      const ids = await store.queueAdmin.releaseAccount(owner.address);
      await audit(io, store, "queue.release", owner.address, { ids });
      io.out(
        ids.length === 0
          ? `${owner.address} has no held messages.`
          : `Released ${
            ids.length === 1 ? "1 message" : `${ids.length} messages`
          } of ${owner.address}: ${ids.join(", ")}.`,
      );
      if (await store.queueAdmin.isAccountHeld(owner.id)) {
        io.out(
          `${owner.address} is still on hold: what it sends now is held (fumi user unhold ${owner.address}).`,
        );
      }
    });
  },
};

const remove: Command = {
  name: "remove",
  usage: "fumi queue remove ID",
  summary: "Delete a queued message; it is not sent and no one is told.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { string: ["config"] });
    const [text] = expectPositional(args, ["ID"], remove.usage);
    const id = queueIdArgument(text!);
    await withStore(io, args, async (store) => {
      const message = await store.queueAdmin.remove(id);
      await audit(io, store, "queue.remove", String(id), {
        sender: message.sender,
        recipients: message.recipients.map((r) => r.address),
      });
      io.out(`Removed message ${id} from ${sender(message.sender)} to ${recipientsOf(message)}.`);
    });
  },
};

/** `fumi queue`. */
export const queueCommand = group("queue", "Manage the outbound mail queue.", [
  list,
  show,
  retry,
  hold,
  release,
  remove,
]);
