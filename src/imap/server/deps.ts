/**
 * The narrow world an IMAP session touches besides its connection: sign-in, the account's
 * mailboxes and messages, change announcements and the quota. src/server.ts wires the real
 * ones (wiring.ts); tests may pass fakes.
 *
 * Every method that takes an account id acts only inside that account: a session passes the
 * signed-in account's id and nothing else, so no name can reach another user's mail.
 *
 * @module
 */

import type { LoginContext, SignedIn } from "../../auth/login.ts";
import type { SaslContext, SaslMechanism } from "../../auth/sasl/mod.ts";
import type { StartTlsOptions } from "../../net/connection.ts";
import type { Logger } from "../../ops/log.ts";
import type { Metrics } from "../../ops/metrics.ts";
import type { Store } from "../../store/mod.ts";
import type { UserConnections } from "./user_connections.ts";
import type { MailboxViews } from "./views.ts";

/** What a session needs from the rest of the server. */
export interface ImapDeps {
  /** Password sign-in (LOGIN), with the brute-force delay and bans of every protocol. */
  checkLogin(user: string, password: string, context: LoginContext): Promise<SignedIn | null>;
  /** A SASL exchange for `mechanism`, or null when it is not supported. */
  sasl(mechanism: string, context: SaslContext): SaslMechanism | null;
  readonly mailboxes: Pick<
    Store["mailboxes"],
    "list" | "find" | "create" | "rename" | "remove" | "setSubscribed" | "counts"
  >;
  readonly messages: Pick<
    Store["messages"],
    | "deliver"
    | "list"
    | "read"
    | "readCache"
    | "readMany"
    | "readCaches"
    | "setFlags"
    | "copy"
    | "move"
    | "expunge"
    | "expungedSince"
  >;
  /** The selected mailboxes' views, shared by the sessions of this process. */
  readonly views: MailboxViews;
  /** Signed-in sessions per account and address, bounded; shared by the listeners. */
  readonly userConnections: UserConnections;
  /** The account's storage use and limit in octets (limit 0: unlimited). */
  quota(accountId: number): Promise<{ readonly used: number; readonly limit: number }>;
  /** TLS for STARTTLS; null when the listener offers none (implicit TLS, or no certificate). */
  readonly startTls: StartTlsOptions | null;
  readonly log: Logger;
  /** Counts connections (src/ops/metrics.ts); none when absent. */
  readonly metrics?: Metrics;
}
