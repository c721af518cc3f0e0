/**
 * The outbound worker as `fumi serve` runs it: the resolver from `[dns]`, the schedule and
 * limits from `[queue]`, MTA-STS policies (unless `[queue] mta_sts = false`) looked up with
 * the same resolver, DANE (unless `[queue] dane = false`) trusting that resolver's AD bit,
 * reports delivered through the store like any other mail.
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import { Delivery, Recipients } from "../delivery/mod.ts";
import { openResolver } from "../dns/mod.ts";
import { httpsPolicyFetcher, MtaStsPolicies } from "../mtasts/mod.ts";
import { connectTo } from "../net/connection.ts";
import type { Logger } from "../ops/log.ts";
import type { Metrics } from "../ops/metrics.ts";
import { AuditLog, type Store } from "../store/mod.ts";
import { refusalWatch } from "./refusal_watch.ts";
import { delayReporter, failureReporter } from "./report.ts";
import type { Smarthost } from "./smarthost.ts";
import { OutboundWorker } from "./worker.ts";

/** How long a TCP connection to a mail host may take (RFC 5321 §4.5.3.2 leaves it open). */
const CONNECT_TIMEOUT_MS = 30_000;

/** Starts the worker; stop it with its `stop()`. */
export async function startOutbound(
  config: Config,
  store: Store,
  log: Logger,
  /** FUMI_SMARTHOST_PASSWORD, kept out of the config file. */
  smarthostPassword: string | null = null,
  /** Counts delivery attempts; none by default. */
  metrics?: Metrics,
): Promise<OutboundWorker> {
  const resolver = await openResolver(config.dns);
  const reportDeps = {
    hostname: config.hostname,
    recipients: new Recipients(store),
    delivery: new Delivery({ store, hostname: config.hostname, log }),
    log,
  };
  const mtaSts = config.queue.mta_sts
    ? new MtaStsPolicies({ resolver, fetch: httpsPolicyFetcher({ resolver }) })
    : null;
  const reports = failureReporter(reportDeps);
  const refusals = refusalWatch({
    store,
    holdAfter: config.smtp.refused_hold_after,
    log,
    audit: new AuditLog(store.sql),
  });
  const worker = new OutboundWorker({
    work: store.queueWork,
    resolver,
    ...(mtaSts ? { mtaSts } : {}),
    dane: config.queue.dane,
    connect: (address, port) => connectTo(address, port, CONNECT_TIMEOUT_MS),
    heloName: config.hostname,
    port: config.queue.remote_port,
    schedule: {
      retryFirst: config.queue.retry_first,
      retryMax: config.queue.retry_max,
      giveUpAfter: config.queue.give_up_after,
    },
    smarthost: smarthostOf(config.queue, smarthostPassword),
    connections: config.queue.connections,
    connectionsPerDomain: config.queue.connections_per_domain,
    onFailed: async (entry, failed) => {
      await reports(entry, failed);
      await refusals(entry, failed);
    },
    onDelayed: delayReporter(reportDeps),
    delayWarningAfter: config.queue.delay_warning_after,
    log,
    ...(metrics ? { metrics } : {}),
  });
  worker.start();
  return worker;
}

/** `[queue] smarthost` as the worker takes it, or null. */
function smarthostOf(queue: Config["queue"], password: string | null): Smarthost | null {
  if (queue.smarthost === undefined) return null;
  const at = queue.smarthost.lastIndexOf(":");
  const port = Number(queue.smarthost.slice(at + 1));
  return {
    host: queue.smarthost.slice(0, at).replace(/^\[(.*)\]$/, "$1"),
    port,
    implicitTls: queue.smarthost_implicit_tls ?? port === 465,
    user: queue.smarthost_user ?? null,
    password,
  };
}
