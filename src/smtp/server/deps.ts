/**
 * The narrow world an SMTP session touches besides its connection: recipient lookup, delivery,
 * sign-in and the filter chain. src/server.ts wires the real ones; tests may pass fakes.
 *
 * @module
 */

import type { SaslContext, SaslMechanism } from "../../auth/sasl/mod.ts";
import type { AcceptedMessage, AcceptResult, RecipientResolution } from "../../delivery/mod.ts";
import type { ChainResult, FilterContext } from "../../filter/mod.ts";
import type { StartTlsOptions } from "../../net/connection.ts";
import type { Logger } from "../../ops/log.ts";
import type { Metrics } from "../../ops/metrics.ts";
import type { Reservation, SendingUse } from "../../store/mod.ts";
import type { MailAddress } from "../../util/address.ts";

/** What a session needs from the rest of the server. */
export interface SmtpDeps {
  /** Where mail for an address goes (RCPT time, so unknown users are refused, not bounced). */
  resolveRecipient(address: MailAddress | "postmaster"): Promise<RecipientResolution>;
  /** The accounts among `accountIds` that have no room for `size` more octets. */
  overQuota(accountIds: readonly number[], size: number): Promise<readonly number[]>;
  /** The account's sending limits and its use of them (submission). */
  sendingUse(accountId: number): Promise<SendingUse>;
  /**
   * Outbound spam control before a submitted message is stored: true when the account is on
   * outbound hold, put there now if this message makes a burst (its queued mail is held).
   */
  holdIfBurst(account: { readonly id: number; readonly address: string }): Promise<boolean>;
  /**
   * Counts a message the account submits against its sending limits, unless it would pass one
   * (then nothing is counted); one step across sessions and processes.
   */
  reserveSending(accountId: number, recipients: number): Promise<Reservation>;
  /** Takes back a reservation whose message was not stored. */
  releaseSending(reservation: Extract<Reservation, { kind: "reserved" }>): Promise<void>;
  /** Whether the signed-in account may use `address` as its sender (submission). */
  ownsSender(accountId: number, address: MailAddress | null): Promise<boolean>;
  /** Commits the message for every accepted recipient; resolves only once it is durable. */
  accept(message: AcceptedMessage): Promise<AcceptResult>;
  /** A SASL exchange for `mechanism`, or null when it is not supported. */
  sasl(mechanism: string, context: SaslContext): SaslMechanism | null;
  /** Runs the filter chain for a stage. */
  filter(context: FilterContext): Promise<ChainResult>;
  /** TLS for STARTTLS; null when the listener has no certificate. */
  readonly startTls: StartTlsOptions | null;
  readonly log: Logger;
  /** Counts connections and messages (src/ops/metrics.ts); none when absent. */
  readonly metrics?: Metrics;
}
