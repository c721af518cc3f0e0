/**
 * Builds a session's world from the store: recipients, delivery, SASL and the filter chain.
 * src/server.ts calls it for every SMTP listener; tests call it over a test store.
 *
 * @module
 */

import type { Login } from "../../auth/login.ts";
import { Sasl } from "../../auth/sasl/mod.ts";
import type { ScramLogin } from "../../auth/scram_login.ts";
import { Delivery, type DeliveryDependencies, Recipients } from "../../delivery/mod.ts";
import {
  attachmentPolicy,
  type Check,
  FilterChain,
  headerSyntax,
  recipientLimit,
  sizeCheck,
} from "../../filter/mod.ts";
import type { Logger } from "../../ops/log.ts";
import type { Metrics } from "../../ops/metrics.ts";
import { AuditLog, type Store } from "../../store/mod.ts";
import type { SmtpDeps } from "./deps.ts";
import type { SmtpSettings } from "./settings.ts";

/** What {@link storeDeps} is built from. */
export interface StoreDepsOptions {
  readonly store: Store;
  readonly login: Pick<Login, "checkLogin">;
  readonly scram: ScramLogin;
  readonly settings: SmtpSettings;
  /** Checks after the built-in ones (SPF, DNSBL, content filters: later issues). */
  readonly checks?: readonly Check[];
  readonly log: Logger;
  /** Counts connections, messages and filter verdicts; none when absent. */
  readonly metrics?: Metrics;
  /** Called when a message was queued for remote recipients (wakes the outbound worker). */
  readonly queued?: () => void;
  /** Called after local copies were stored (src/dmarc reads the reports in them). */
  readonly delivered?: DeliveryDependencies["delivered"];
}

/**
 * The built-in checks of every SMTP listener: declared size, recipients, header syntax, and
 * the attachments of submitted mail.
 */
export function builtinChecks(settings: SmtpSettings): Check[] {
  return [
    sizeCheck(settings.maxMessageSize),
    recipientLimit(settings.maxRecipients),
    headerSyntax(),
    attachmentPolicy(settings.attachments),
  ];
}

/** The audit row of an account put on hold by the server itself. */
function systemHold(address: string, reason: string) {
  return {
    actor: "system",
    action: "account.hold",
    target: address,
    details: { reason },
    source: "system",
  };
}

/** A session's world over the store. */
export function storeDeps(options: StoreDepsOptions): Omit<SmtpDeps, "startTls"> {
  const { store, settings, log } = options;
  const recipients = new Recipients(store);
  const delivery = new Delivery({
    store,
    hostname: settings.hostname,
    log,
    ...(options.queued ? { queued: options.queued } : {}),
    ...(options.delivered ? { delivered: options.delivered } : {}),
  });
  const sasl = new Sasl({ login: options.login, scram: options.scram });
  const chain = new FilterChain([...builtinChecks(settings), ...(options.checks ?? [])], {
    log,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  return {
    resolveRecipient: (address) => recipients.resolve(address),
    overQuota: (accountIds, size) => recipients.overQuota(accountIds, size),
    ownsSender: (accountId, address) => recipients.ownsSender(accountId, address),
    sendingUse: (accountId) => store.sending.use(accountId),
    reserveSending: (accountId, count) => store.sending.reserve(accountId, count),
    releaseSending: (reservation) => store.sending.release(reservation),
    holdIfBurst: async (account) => {
      if (await store.queueAdmin.isAccountHeld(account.id)) return true;
      const { floor, factor } = settings.burstHold;
      if (floor === 0 || !(await store.sending.isBurst(account.id, { floor, factor }))) {
        return false;
      }
      const reason = `sudden burst: ${floor} or more messages in an hour, ${factor}× the usual`;
      await store.queueAdmin.holdAccount(account.address, reason);
      await new AuditLog(store.sql).append(systemHold(account.address, reason));
      // The event administrators act on: fumi queue list --held, fumi queue release.
      log.warn("account put on outbound hold", { account: account.address, reason });
      return true;
    },
    accept: (message) => delivery.accept(message),
    sasl: (mechanism, context) => sasl.create(mechanism, context),
    filter: (context) => chain.run(context),
    log,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  };
}
