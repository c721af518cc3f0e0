/**
 * Accepting a message: local copies and the outbound queue, in one transaction.
 *
 * Each local account gets one copy, into INBOX (or its Junk mailbox when a filter quarantined
 * the message), starting with its own Return-Path and Delivered-To (RFC 5321 §4.4). Remote
 * recipients, given by the client or reached through alias forwards, are queued with the
 * message as received (no Return-Path or Delivered-To: those belong to final delivery); forwards
 * of mail received as MX go ARC-sealed (RFC 8617) by the hosted domain that forwarded them, a
 * queue entry per such domain. The copies and the queue entries commit together or not at all,
 * before the caller answers 250.
 *
 * @module
 */

import type { Logger } from "../ops/log.ts";
import type {
  Delivered,
  DeliveryOptions,
  DeliveryTarget,
  NewQueueRecipient,
  PreparedQueueEntry,
  Store,
} from "../store/mod.ts";
import { formatAddress, type MailAddress } from "../util/address.ts";
import { InvalidInputError, NotFoundError } from "../util/errors.ts";
import {
  arcSeal,
  authorDomain,
  type ChainStatus,
  DkimSignError,
  signMessage,
} from "../dkim/mod.ts";
import { deliveredTo, returnPath } from "./headers.ts";
import type { LocalResolution } from "./recipients.ts";
import { tlsRequirement } from "./require_tls.ts";

/** RFC 3461 §4.1 NOTIFY of a recipient: "NEVER", the events to report, or null (not given). */
export type Notify = readonly ("SUCCESS" | "FAILURE" | "DELAY")[] | "NEVER" | null;

/** RFC 3461 §4.2 ORCPT: the address type and the original address (decoded from xtext). */
export interface OriginalRecipient {
  readonly type: string;
  readonly address: string;
}

/** One accepted recipient, as resolved at RCPT time. */
export interface AcceptedRecipient {
  readonly address: MailAddress | "postmaster";
  readonly resolution: LocalResolution | { readonly kind: "remote" };
  readonly notify: Notify;
  readonly orcpt: OriginalRecipient | null;
}

/** A message the SMTP session accepted, ready to be stored. */
export interface AcceptedMessage {
  /** The message as received, with any trace fields the caller added (Received). */
  readonly raw: Uint8Array;
  /** The reverse-path; null for `<>`. */
  readonly sender: MailAddress | null;
  readonly recipients: readonly AcceptedRecipient[];
  /** The filter's quarantine reason: local copies go to Junk. Null: INBOX. */
  readonly quarantine: string | null;
  /** The authenticated submitter, or null for mail received as MX. */
  readonly account: { readonly id: number; readonly address: string } | null;
  /** RFC 3461 §4.4 ENVID. */
  readonly envid: string | null;
  /** RFC 3461 §4.3 RET. */
  readonly ret: "FULL" | "HDRS" | null;
  /** RFC 8689 §4.1: MAIL FROM carried REQUIRETLS. Default false. */
  readonly requireTls?: boolean;
  /** What this hop's mail authentication found (MX); forwards are ARC-sealed with it. */
  readonly authentication?: HopAuthentication | null;
  /** Sign with the From domain's DKIM keys though no account submitted it (Fumi's own mail). */
  readonly sign?: boolean;
}

/**
 * This hop's authentication of a message received as MX (src/mailauth `sealingResults` of our
 * Authentication-Results field): what an ARC seal of a forward records, not verified again.
 */
export interface HopAuthentication {
  /** Our Authentication-Results payload: authserv-id and resinfos (RFC 8601 §2.2). */
  readonly authResults: string;
  /** RFC 8617 §4.4 validation status of the ARC chain the message arrived with. */
  readonly chain: ChainStatus;
}

/** What was stored, for the log line and the 250 reply. */
export interface AcceptResult {
  /** One entry per local copy. */
  readonly delivered: readonly Delivered[];
  /**
   * The outbound queue entry, or null when every recipient was local. Forwards sealed by
   * different domains are entries of their own; this is the first.
   */
  readonly queueId: number | null;
}

/** What {@link Delivery} needs. */
export interface DeliveryDependencies {
  readonly store: Pick<Store, "messages" | "mailboxes" | "queue"> & {
    /** The From domain's active DKIM keys (store/dkim_keys.ts); absent: nothing is signed. */
    readonly dkimKeys?: Pick<Store["dkimKeys"], "signingKeys">;
  };
  /** Our host name: `postmaster@<hostname>` is the Delivered-To of the bare `<Postmaster>`. */
  readonly hostname: string;
  readonly log: Logger;
  /** Called after a commit that queued a message (wakes the outbound worker). */
  readonly queued?: () => void;
  /**
   * Called after a commit that stored local copies (src/dmarc reads reports in them). It must
   * return at once and never throw: the message is delivered whatever it does.
   */
  readonly delivered?: (message: AcceptedMessage, result: AcceptResult) => void;
}

const encoder = new TextEncoder();

/** Stores accepted messages. */
export class Delivery {
  readonly #store: DeliveryDependencies["store"];
  readonly #hostname: string;
  readonly #log: Logger;
  readonly #queued: () => void;
  readonly #delivered: DeliveryDependencies["delivered"];

  constructor(dependencies: DeliveryDependencies) {
    this.#queued = dependencies.queued ?? (() => {});
    this.#delivered = dependencies.delivered;
    this.#store = dependencies.store;
    this.#hostname = dependencies.hostname;
    this.#log = dependencies.log;
  }

  /**
   * Stores the message for its local recipients and queues it for its remote ones, in one
   * transaction. Throws OverQuotaError (temporary: 452 4.2.2) when a local copy does not fit;
   * then nothing is stored and nothing is queued.
   */
  async accept(accepted: AcceptedMessage): Promise<AcceptResult> {
    if (accepted.recipients.length === 0) {
      throw new InvalidInputError("A message needs at least one recipient");
    }
    const message = accepted.account === null && accepted.sign !== true
      ? accepted
      : { ...accepted, raw: await this.#sign(accepted.raw) };
    // Each account once, with the recipient that led to it first; each remote address once.
    const local = new Map<number, string>();
    const remote = new Map<string, NewQueueRecipient>();
    /** Forwarded addresses and the hosted domain whose address forwarded each. */
    const forwardedBy = new Map<string, string>();
    for (const recipient of message.recipients) {
      if (recipient.resolution.kind === "remote") {
        // "postmaster" is always local; a repeated address is queued once (the first wins).
        if (recipient.address === "postmaster" || remote.has(recipient.address.canonical)) continue;
        remote.set(recipient.address.canonical, {
          address: formatAddress(recipient.address), // the local part's case is the remote's
          notify: notifyText(recipient.notify),
          orcpt: recipient.orcpt && `${recipient.orcpt.type};${recipient.orcpt.address}`,
        });
        continue;
      }
      const rcpt = recipient.address === "postmaster"
        ? `postmaster@${this.#hostname}`
        : formatAddress(recipient.address);
      for (const accountId of recipient.resolution.accountIds) {
        if (!local.has(accountId)) local.set(accountId, rcpt);
      }
      for (const forward of recipient.resolution.remote) {
        if (remote.has(forward)) continue;
        if (recipient.address !== "postmaster") forwardedBy.set(forward, recipient.address.domain);
        remote.set(forward, {
          address: forward,
          notify: notifyText(recipient.notify),
          // RFC 3461 §4.2: the original recipient goes along when the message is relayed;
          // RFC 6533 §3 "utf-8" is the address type of one that is not ASCII.
          orcpt: recipient.orcpt
            ? `${recipient.orcpt.type};${recipient.orcpt.address}`
            : `${/^[\x20-\x7e]*$/.test(rcpt) ? "rfc822" : "utf-8"};${rcpt}`,
        });
      }
    }

    const targets = await this.#targets([...local.keys()], message.quarantine !== null);
    // RFC 8617 §5.1: forwards of mail received as MX go ARC-sealed by the domain that forwarded
    // them, a queue entry per domain; submitted mail (DKIM-signed) and the rest go as they are.
    const batches = new Map<string | null, NewQueueRecipient[]>();
    for (const [address, queued] of remote) {
      const by = message.account === null ? forwardedBy.get(address) ?? null : null;
      batches.set(by, [...(batches.get(by) ?? []), queued]);
    }
    const prepared: PreparedQueueEntry[] = [];
    for (const [by, recipients] of batches) {
      prepared.push(
        await this.#store.queue.prepare({
          accountId: message.account?.id ?? null,
          sender: message.sender === null ? "" : formatAddress(message.sender),
          envid: message.envid,
          ret: message.ret,
          // RFC 8689 §4.1: the requirement goes with the message to every hop, forwards too.
          requireTls: tlsRequirement(message.requireTls ?? false, message.raw),
          message: by === null ? message.raw : await this.#seal(message, by),
          recipients,
        }),
      );
    }
    const trace = returnPath(message.sender);
    let queueId: number | null = null;
    const options: DeliveryOptions = {
      // RFC 5321 §4.4: final delivery adds Return-Path; Delivered-To names this account's RCPT.
      prefixFor: (accountId) => encoder.encode(trace + deliveredTo(local.get(accountId)!)),
      ...(prepared.length === 0 ? {} : {
        within: async (tx) => {
          for (const entry of prepared) {
            const id = await this.#store.queue.insert(tx, entry);
            queueId ??= id;
          }
        },
      }),
    };
    const delivered = await this.#store.messages.deliver(message.raw, targets, options);
    this.#log.debug("message stored", {
      size: message.raw.length,
      accounts: [...local.keys()],
      copies: delivered.map((d) => d.messageId),
      queueId,
      remoteRecipients: remote.size,
      quarantine: message.quarantine,
    });
    if (queueId !== null) this.#queued();
    const result = { delivered, queueId };
    if (delivered.length > 0 && this.#delivered !== undefined) {
      try {
        this.#delivered(message, result);
      } catch (error) {
        this.#log.warn("delivery hook failed", { error });
      }
    }
    return result;
  }

  /**
   * Signs a submitted message with its From domain's DKIM keys (RFC 6376, RFC 8463), before
   * any copy is stored or queued, so local and remote recipients get the same bytes. A From
   * domain not hosted here, or without keys, leaves the message unsigned (the submission's
   * sender checks decide whether such a From may be used at all).
   */
  async #sign(raw: Uint8Array): Promise<Uint8Array> {
    const keys = this.#store.dkimKeys;
    if (keys === undefined) return raw;
    let domain: string;
    try {
      domain = authorDomain(raw);
    } catch (error) {
      if (error instanceof DkimSignError) return raw; // no single From: nothing to sign for
      throw error;
    }
    const signing = await keys.signingKeys(domain).catch((error) => {
      if (error instanceof NotFoundError) return [];
      throw error;
    });
    if (signing.length === 0) return raw;
    return await signMessage(raw, signing, { now: Date.now() });
  }

  /**
   * ARC-seals a forward (RFC 8617 §5.1) with the active RSA DKIM key of `domain`, the hosted
   * domain whose address forwarded it, over this hop's results as the mail-authentication
   * check found them. Without results or a key, or when RFC 8617 allows no further set, the
   * forward goes unsealed and a debug line says why.
   */
  async #seal(message: AcceptedMessage, domain: string): Promise<Uint8Array> {
    const unsealed = (reason: string) => {
      this.#log.debug("forward not ARC-sealed", { domain, reason });
      return message.raw;
    };
    const results = message.authentication;
    if (!results) return unsealed("no authentication results for this hop");
    const keys = await this.#store.dkimKeys?.signingKeys(domain).catch((error) => {
      if (error instanceof NotFoundError) return [];
      throw error;
    });
    // RSA-SHA256 only: what ARC verifiers check (src/dkim/arc.ts).
    const key = keys?.find((k) => k.algorithm === "rsa-sha256");
    if (key === undefined) return unsealed(`${domain} has no active DKIM RSA key`);
    const sealed = await arcSeal(message.raw, { ...results, key, now: Date.now() });
    if (!sealed.sealed) return unsealed(sealed.reason);
    this.#log.debug("forward ARC-sealed", { domain, instance: sealed.instance, cv: sealed.cv });
    return sealed.message;
  }

  /** INBOX, or for quarantined mail the account's \Junk mailbox (INBOX when it has none). */
  async #targets(accountIds: readonly number[], quarantine: boolean): Promise<DeliveryTarget[]> {
    if (!quarantine) return accountIds.map((accountId) => ({ accountId }));
    return await Promise.all(accountIds.map(async (accountId) => {
      const junk = (await this.#store.mailboxes.list(accountId)).find((m) =>
        m.specialUse === "\\Junk"
      );
      return { accountId, mailbox: junk?.name ?? "INBOX" };
    }));
  }
}

function notifyText(notify: Notify): string | null {
  return notify === null ? null : notify === "NEVER" ? "NEVER" : notify.join(",");
}
