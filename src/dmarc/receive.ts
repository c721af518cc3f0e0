/**
 * Receiving aggregate reports about our domains (RFC 7489 §7.2): after a message received on
 * the MX is stored in a local mailbox, its report files are read (parse.ts) and each report
 * about a domain we host is stored, once per (reporter, report ID).
 *
 * The work runs after delivery, in the background: a malformed, hostile or slow report never
 * fails or delays the message, which is in the mailbox already either way.
 *
 * @module
 */

import type { AcceptedMessage } from "../delivery/mod.ts";
import { organizationalDomain } from "../mailauth/mod.ts";
import type { Logger } from "../ops/log.ts";
import type { DmarcReports } from "../store/dmarc_reports.ts";
import type { Store } from "../store/mod.ts";
import { reportsInMessage } from "./parse.ts";

/** What {@link DmarcReceiver} needs. */
export interface ReceiverDeps {
  readonly reports: Pick<DmarcReports, "store">;
  readonly domains: Pick<Store["domains"], "find">;
  readonly log: Logger;
  /** The clock; `new Date()` by default. */
  readonly now?: () => Date;
}

/** The most messages read at the same time; more are left unread (and logged). */
const MAX_PENDING = 8;

/** Reads reports out of delivered messages; `delivered` is Delivery's hook. */
export class DmarcReceiver {
  readonly #deps: ReceiverDeps;
  readonly #pending = new Set<Promise<void>>();

  constructor(deps: ReceiverDeps) {
    this.#deps = deps;
  }

  /** Delivery's `delivered` hook: starts reading, returns at once, never throws. */
  readonly delivered = (message: AcceptedMessage): void => {
    if (message.account !== null) return; // reports come from other receivers, on the MX
    if (this.#pending.size >= MAX_PENDING) {
      this.#deps.log.warn("DMARC report reading skipped: too many at once");
      return;
    }
    const work = this.#read(message.raw).catch((error) =>
      this.#deps.log.warn("cannot read a DMARC report", { error })
    ).finally(() => this.#pending.delete(work));
    this.#pending.add(work);
  };

  /** Resolves when every report being read is done (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async #read(raw: Uint8Array): Promise<void> {
    const now = this.#deps.now?.() ?? new Date();
    for (const report of await reportsInMessage(raw)) {
      // Only reports about our own domains (or subdomains of them) are kept.
      const hosted = await this.#deps.domains.find(report.domain) ??
        await this.#deps.domains.find(organizationalDomain(report.domain));
      if (hosted === null) {
        this.#deps.log.info("DMARC report about a domain not hosted here ignored", {
          domain: report.domain,
          reporter: report.orgName,
        });
        continue;
      }
      const stored = await this.#deps.reports.store(report, now);
      this.#deps.log.info(stored ? "DMARC report stored" : "DMARC report already stored", {
        domain: report.domain,
        reporter: report.orgName,
        reportId: report.reportId,
        records: report.rows.length,
      });
    }
  }
}
