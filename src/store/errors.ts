/**
 * Errors of the store that protocols map to their own replies (see the error map of each
 * protocol server).
 *
 * @module
 */

import { FumiError } from "../util/errors.ts";

/**
 * Delivery would exceed an account's quota. Temporary, as RFC 3463 §3.3 ("4.2.2 mailbox full")
 * expects: the owner may make room.
 */
export class OverQuotaError extends FumiError {
  constructor(readonly address: string) {
    super(`Mailbox of ${address} is full`, { temporary: true });
  }
}
