/**
 * Delivery: what happens to a message between the SMTP session and the store. Recipients are
 * resolved (accounts, subaddresses, aliases, catch-alls, postmaster) and senders checked
 * ({@link Recipients}); the trace and submission header fields are written
 * (`headers.ts`, pure); accepted messages are stored locally and queued for remote
 * recipients ({@link Delivery}).
 *
 * Invariants:
 * - One transaction per message: every local copy and the outbound queue entry commit together,
 *   or nothing is stored (a failure, such as a full mailbox, leaves no partial delivery).
 * - Durable before the caller answers 250: {@link Delivery.accept} returns only after the
 *   commit, so a 250 never stands for a message that a crash could lose (RFC 5321 §6.1).
 * - No backscatter: recipients are resolved at RCPT time by the caller, with
 *   {@link Recipients.resolve}; unknown ones are refused there, so Fumi never accepts a message
 *   it would then have to bounce to a possibly forged sender.
 * - Over quota is temporary (OverQuotaError → 452 4.2.2, RFC 3463): checked at RCPT time with
 *   {@link Recipients.overQuota} and again under lock at delivery.
 * - Each local copy carries its own Return-Path and Delivered-To; the queued copy is the
 *   message as received, with only our Received field added by the caller.
 * - Forwards of mail received as MX (alias and account forwards to remote addresses) are
 *   queued ARC-sealed (RFC 8617) by the hosted domain that forwarded them, over this hop's
 *   Authentication-Results; submitted mail is DKIM-signed instead, local copies never sealed.
 *
 * Security model: senders on submission are checked with {@link Recipients.ownsSender}; a
 * catch-all alias grants no right to send. Text from clients (HELO, user names) reaches header
 * fields only cleaned of line breaks and controls.
 *
 * @module
 */

export {
  type AcceptedMessage,
  type AcceptedRecipient,
  type AcceptResult,
  Delivery,
  type DeliveryDependencies,
  type HopAuthentication,
  type Notify,
  type OriginalRecipient,
} from "./delivery.ts";
export {
  buildDsn,
  type DsnAction,
  type DsnEvent,
  type DsnInput,
  dsnNeeds8Bit,
  type DsnRecipient,
  MAX_RETURNED_SIZE,
  wantsDsn,
} from "./dsn.ts";
export {
  authenticationResults,
  authResultsFromTags,
  deliveredTo,
  FOLD_AT,
  formatDate,
  missingSubmissionHeaders,
  receivedHeader,
  receivedProtocol,
  type ReceivedTrace,
  returnPath,
  SPAM_VERDICT_FIELDS,
  stripForgedAuthResults,
  stripForgedSpamFields,
  type TagField,
  type TraceTls,
} from "./headers.ts";
export {
  type LocalResolution,
  type RecipientResolution,
  Recipients,
  type RecipientStore,
} from "./recipients.ts";
