/**
 * Builds an IMAP session's world from the store: sign-in, SASL, mailboxes, messages, change
 * announcements and quota. src/server.ts calls it for the IMAP listeners; tests call it over a
 * test store.
 *
 * @module
 */

import type { Login } from "../../auth/login.ts";
import { Sasl } from "../../auth/sasl/mod.ts";
import type { ScramLogin } from "../../auth/scram_login.ts";
import type { Logger } from "../../ops/log.ts";
import type { Metrics } from "../../ops/metrics.ts";
import type { Store } from "../../store/mod.ts";
import type { ImapDeps } from "./deps.ts";
import { DEFAULT_CONNECTIONS_PER_USER_IP, UserConnections } from "./user_connections.ts";
import { MailboxViews } from "./views.ts";

/** What {@link imapStoreDeps} is built from. */
export interface ImapStoreDepsOptions {
  readonly store: Store;
  readonly login: Pick<Login, "checkLogin">;
  readonly scram: ScramLogin;
  readonly log: Logger;
  /** Counts connections; none when absent. */
  readonly metrics?: Metrics;
  /** Shared by every listener of the process; a new set by default. */
  readonly views?: MailboxViews;
  /** Shared by every listener of the process; a new count with the default limit by default. */
  readonly userConnections?: UserConnections;
}

/** A session's world over the store. */
export function imapStoreDeps(options: ImapStoreDepsOptions): Omit<ImapDeps, "startTls"> {
  const { store, log } = options;
  const sasl = new Sasl({ login: options.login, scram: options.scram });
  const views = options.views ?? new MailboxViews(store);
  return {
    checkLogin: (user, password, context) => options.login.checkLogin(user, password, context),
    sasl: (mechanism, context) => sasl.create(mechanism, context),
    mailboxes: store.mailboxes,
    messages: store.messages,
    views,
    userConnections: options.userConnections ??
      new UserConnections(DEFAULT_CONNECTIONS_PER_USER_IP),
    quota: async (accountId) => {
      const account = await store.accounts.getById(accountId);
      return { used: account.usedBytes, limit: account.quotaBytes };
    },
    log,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  };
}
