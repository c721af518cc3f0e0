/**
 * What `fumi import-mbox` and `fumi import-maildir` share: storing each message through the
 * store's normal delivery path (sealed, envelope and structure cached, UID and modseq taken,
 * quota charged, as IMAP APPEND does), creating mailboxes on the way, and a summary of what
 * was imported and what was skipped, and why.
 *
 * @module
 */

import { normalizeFlags } from "../../store/messages.ts";
import { OverQuotaError, type Store } from "../../store/mod.ts";
import { formatSize } from "../../util/size.ts";
import type { CliIo } from "../io.ts";
import { progressPrinter } from "./_progress.ts";

/** Imports messages into one account. */
export class Importer {
  imported = 0;
  readonly #skipped = new Map<string, number>();
  readonly #mailboxes = new Set<string>();
  readonly #show: (what: string, count: number) => void;

  constructor(
    private readonly store: Store,
    private readonly accountId: number,
    private readonly maxMessageSize: number,
    io: CliIo,
  ) {
    this.#show = progressPrinter(io, "imported into");
  }

  /** Counts a message that was not stored, with the reason. */
  skip(reason: string): void {
    this.#skipped.set(reason, (this.#skipped.get(reason) ?? 0) + 1);
  }

  /** True (and counted as skipped) when a message of `size` octets is over the limit. */
  tooLarge(size: number): boolean {
    if (size <= this.maxMessageSize) return false;
    this.skip(`larger than the maximum message size (${formatSize(this.maxMessageSize)})`);
    return true;
  }

  /** Stores one message; flags that are not valid IMAP flags are left out. */
  async add(
    raw: Uint8Array,
    mailbox: string,
    flags: readonly string[],
    internalDate: Date,
  ): Promise<void> {
    if (raw.length === 0) return this.skip("empty");
    if (this.tooLarge(raw.length)) return;
    const name = await this.#mailbox(mailbox);
    const valid = flags.filter((flag) => {
      try {
        return normalizeFlags([flag]).length === 1;
      } catch {
        return false;
      }
    });
    try {
      await this.store.messages.deliver(raw, [{
        accountId: this.accountId,
        mailbox: name,
        flags: valid,
      }], {
        internalDate,
      });
    } catch (error) {
      if (error instanceof OverQuotaError) return this.skip("over quota");
      throw error;
    }
    this.imported++;
    this.#show(name, this.imported);
  }

  /** Finds or creates a mailbox and its parents; returns its canonical name. */
  async #mailbox(name: string): Promise<string> {
    if (this.#mailboxes.has(name)) return name;
    const parts = name.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const path = parts.slice(0, i).join("/");
      if (!(await this.store.mailboxes.find(this.accountId, path))) {
        await this.store.mailboxes.create(this.accountId, path);
      }
    }
    const canonical = (await this.store.mailboxes.get(this.accountId, name)).name;
    this.#mailboxes.add(name);
    return canonical;
  }

  /** `Imported 3 messages into a@b; skipped 1: 1 over quota.` */
  summary(address: string): string {
    const skipped = [...this.#skipped.values()].reduce((a, b) => a + b, 0);
    const reasons = [...this.#skipped].map(([reason, n]) => `${n} ${reason}`).join(", ");
    return `Imported ${this.imported} message(s) into ${address}; skipped ${skipped}${
      skipped ? `: ${reasons}` : ""
    }.`;
  }
}
