/**
 * The composition root: the one place that builds concrete dependencies and wires them.
 * `fumi serve` calls {@link startServer} and stops it on SIGINT/SIGTERM.
 *
 * @module
 */

import { Acme, http01Handler, startRenewal, storedChallenges } from "./acme/mod.ts";
import { Bans } from "./auth/bans.ts";
import { ensureAdministrator, type FirstAdministrator } from "./bootstrap.ts";
import { CidrList, parseCidr, tryParseIp } from "./net/cidr.ts";
import { openResolver, type Resolver } from "./dns/mod.ts";
import type { Config } from "./config/mod.ts";
import { type HttpListener, serveHealth } from "./ops/health.ts";
import { ErrorRecorder, flushErrors } from "./ops/error_events.ts";
import type { Logger } from "./ops/log.ts";
import { processMetrics, Registry, serverMetrics } from "./ops/metrics.ts";
import { serveMetrics } from "./ops/metrics_server.ts";
import { readiness } from "./ops/ready.ts";
import { loadMigrations, pendingMigrations } from "./store/migrate.ts";
import { Login, sqlCredentials, VerificationCache } from "./auth/login.ts";
import { ScramLogin, sqlScramCredentials } from "./auth/scram_login.ts";
import {
  IMAP_DEFAULTS,
  type ImapSettings,
  imapStoreDeps,
  MailboxViews,
  startImapListener,
  UserConnections,
} from "./imap/server/mod.ts";
import { FlowControl } from "./net/flow.ts";
import type { RunningListener } from "./net/listener.ts";
import {
  SMTP_DEFAULTS,
  type SmtpRole,
  type SmtpSettings,
  startSmtpListener,
  storeDeps,
} from "./smtp/server/mod.ts";
import { type OutboundWorker, startOutbound } from "./outbound/mod.ts";
import {
  AuditLog,
  type AuditValue,
  ErrorEvents,
  openStore,
  registerStoreMetrics,
  type Store,
} from "./store/mod.ts";
import { Greylist } from "./store/greylist.ts";
import { reputationChecks, reputationSettings, startGreylistExpiry } from "./reputation/mod.ts";
import { mailauthChecks } from "./mailauth/mod.ts";
import { Delivery, Recipients } from "./delivery/mod.ts";
import { DmarcReceiver, dmarcRecorder, type ReportSchedule, startReports } from "./dmarc/mod.ts";
import { DmarcReports } from "./store/dmarc_reports.ts";
import { ownPolicyText, policyResponse } from "./mtasts/mod.ts";
import { type LiveTls, liveTls } from "./tls_reload.ts";
import { type RunningWebmail, startWebmail } from "./web/mod.ts";
import { ConfigError, FumiError, InvalidInputError } from "./util/errors.ts";

/** A running Fumi. */
export interface RunningServer {
  readonly store: Store;
  readonly firstAdministrator: FirstAdministrator | null;
  /** Failed sign-ins and bans, shared by every protocol. */
  readonly bans: Bans;
  readonly http: readonly HttpListener[];
  /** The metrics listener (`/metrics`, `/healthz`, `/readyz`; src/ops/metrics_server.ts). */
  readonly metrics: readonly HttpListener[];
  /** The metrics it serves. */
  readonly registry: Registry;
  /** The SMTP listeners (MX, submission, submissions) that are enabled. */
  readonly smtp: readonly RunningListener[];
  /** The IMAP listeners (imap, imaps) that are enabled. */
  readonly imap: readonly RunningListener[];
  /** The webmail on the HTTPS listener, when enabled. */
  readonly web: RunningWebmail | null;
  stop(): Promise<void>;
}

/** Opens the store, bootstraps a fresh install and starts the listeners. */
export async function startServer(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
): Promise<RunningServer> {
  checkNetworks("firewall.allow", config.firewall.allow);
  checkNetworks("firewall.deny", config.firewall.deny);
  checkNetworks("metrics.allow", config.metrics.allow);
  // Error lines are also kept in the database for fumi status (src/ops/error_events.ts).
  const errors = new ErrorRecorder();
  const plainLog = log;
  log = errors.wrap(log);
  const store = await openStore(config, env, log, { exclusive: true });
  const registry = new Registry();
  const metrics = serverMetrics(registry);
  const processGauges = processMetrics(registry);
  registerStoreMetrics(registry, store.sql);
  const errorFlush = flushErrors(errors, async (recorded) => {
    await new ErrorEvents(store.sql).add(recorded.map((e) => ({ ...e, node: config.hostname })));
  }, plainLog);
  const migrations = await loadMigrations();
  const audit = new AuditLog(store.sql);
  let up = false;
  const ready = readiness({
    listenersUp: () => up,
    database: async () => {
      await store.sql`select 1`;
    },
    pendingMigrations: async () => (await pendingMigrations(store.sql, migrations)).length,
  });
  let http: HttpListener[] = [];
  let metricsHttp: HttpListener[] = [];
  const smtp: RunningListener[] = [];
  const imap: RunningListener[] = [];
  let web: RunningWebmail | null = null;
  const tls: LiveTls[] = [];
  let expiry: ReturnType<typeof setInterval> | undefined;
  let renewal: { stop(): Promise<void> } | undefined;
  let greylistExpiry: { stop(): Promise<void> } | undefined;
  let dmarcSchedule: ReportSchedule | undefined;
  let outbound: OutboundWorker | undefined;
  const stopListeners = async () => {
    await Promise.all([
      ...http.map((h) => h.stop()),
      ...metricsHttp.map((h) => h.stop()),
      ...smtp.map((l) => l.close()),
      ...imap.map((l) => l.close()),
      ...(web ? [web.stop()] : []),
    ]);
    await Promise.all(tls.map((t) => t.stop()));
  };
  try {
    const bans = new Bans(store.sql, {
      backoffAfter: config.auth.backoff_after,
      banAfter: config.auth.ban_after,
      windowMs: config.auth.failure_window,
      banDurationMs: config.auth.ban_duration,
      trustAfterSuccessMs: config.auth.trust_after_success,
      allow: config.firewall.allow,
      dryRun: config.auth.dry_run,
      log,
      metrics,
    });
    const expire = () => bans.expire().catch((error) => log.error("cannot expire bans", { error }));
    await expire();
    expiry = setInterval(expire, BAN_EXPIRY_INTERVAL_MS);
    // Listeners first: if one cannot bind, nothing is created, so the first successful start is
    // the one that shows the administrator's generated password.
    if (config.listeners.http.enabled) {
      const { addresses, port } = config.listeners.http;
      const https = config.listeners.https;
      http = listen("http", addresses, port, () =>
        serveHealth(
          addresses,
          port,
          async () => {
            await store.sql`select 1`;
          },
          log,
          {
            routes: http01Handler(storedChallenges(store.sql)),
            // Everything else goes to HTTPS, when there is an HTTPS listener to go to.
            ...(https.enabled ? { httpsPort: https.port } : {}),
            ready,
          },
        ));
    }
    if (config.listeners.metrics.enabled) {
      const { addresses, port } = config.listeners.metrics;
      const allow = new CidrList(config.metrics.allow);
      const token = await metricsToken(config, env);
      metricsHttp = listen("metrics", addresses, port, () =>
        serveMetrics(addresses, port, {
          registry,
          ready,
          healthy: async () => {
            await store.sql`select 1`;
          },
          allowed: (ip) => {
            const address = tryParseIp(ip);
            return address !== null && allow.contains(address);
          },
          token,
          log: log.child({ listener: "metrics" }),
        }));
    }
    // A fresh install serves TLS from the start with a self-signed certificate for its name.
    const selfSigned = await store.certificates.ensureSelfSigned(config.hostname);
    if (selfSigned.created) {
      log.warn("created a self-signed certificate; import a real one with fumi cert import", {
        certificate: selfSigned.certificate.name,
      });
      await audit.append(systemAudit("cert.self-signed", selfSigned.certificate.name));
    }
    const login = new Login({
      bans,
      credentials: sqlCredentials(store.sql),
      log,
      metrics,
      cache: new VerificationCache(),
    });
    // The same stand-in salts for unknown accounts on every node and after restarts, so that
    // comparing two answers does not reveal which accounts exist.
    const scram = new ScramLogin({
      bans,
      credentials: sqlScramCredentials(store.sql),
      log,
      metrics,
      secret: await store.secrets.get("scram-stand-in"),
    });
    // The queue's worker, woken by every message queued in this process (others poll).
    outbound = await startOutbound(
      config,
      store,
      log.child({ component: "outbound" }),
      env.FUMI_SMARTHOST_PASSWORD ?? null,
      metrics,
    );
    const queued = () => outbound?.wake();
    // Inbound reputation (DNS lists, FCrDNS, HELO, greylisting): the MX only, never submission.
    // One resolver (and one cache) for reputation, mail authentication and DMARC reports.
    let sharedResolver: Resolver | undefined;
    const dnsResolver = async () => sharedResolver ??= await openResolver(config.dns);
    const reputation = reputationSettings(config);
    const mxChecks = reputation.enabled
      ? reputationChecks(reputation, {
        resolver: await dnsResolver(),
        log: log.child({ component: "reputation" }),
        hostname: config.hostname,
        greylist: new Greylist(store.sql),
      })
      : [];
    // Expired greylisting state goes on a timer, never inside an RCPT command.
    if (reputation.enabled && reputation.greylisting.enabled) {
      greylistExpiry = startGreylistExpiry(
        new Greylist(store.sql),
        log.child({ component: "reputation" }),
      );
    }
    // Mail authentication (SPF, DKIM, DMARC, ARC): the MX only; off by default in --dev,
    // which must stay offline. Its Authentication-Results field is the one the MX writes.
    // DMARC aggregate reports (src/dmarc): evaluations recorded by the checks below and sent
    // once a day when [dmarc] send_reports; reports about our domains read after delivery.
    const dmarcReports = new DmarcReports(store.sql);
    const dmarcLog = log.child({ component: "dmarc" });
    const dmarcReceiver = new DmarcReceiver({
      reports: dmarcReports,
      domains: store.domains,
      log: dmarcLog,
    });
    const authEnabled = config.mailauth.enabled ?? !config.dev;
    const authResolver = authEnabled || config.dmarc.send_reports ? await dnsResolver() : null;
    const authChecks = authEnabled && authResolver !== null
      ? mailauthChecks({
        hostname: config.hostname,
        resolver: authResolver,
        ...(config.dmarc.send_reports
          ? {
            onResults: dmarcRecorder({
              reports: dmarcReports,
              resolver: authResolver,
              log: dmarcLog,
            }),
          }
          : {}),
        timeoutMs: config.mailauth.timeout,
        trustedArcSealers: config.mailauth.trusted_arc_sealers.map((d) => d.toLowerCase()),
        log: log.child({ component: "mailauth" }),
      })
      : [];
    for (const [name, mode, role] of SMTP_LISTENERS) {
      const listener = config.listeners[name];
      if (!listener.enabled) continue;
      const live = await liveTls(store.certificates, name, log);
      tls.push(live);
      const settings = smtpSettings(config, role);
      smtp.push(
        await startSmtpListener({
          name,
          addresses: listener.addresses,
          port: listener.port,
          mode,
          tls: live.contexts,
          flow: flowControl(config, bans, log),
          settings,
          deps: storeDeps({
            store,
            login,
            scram,
            settings,
            queued,
            ...(role === "mx"
              ? { checks: [...authChecks, ...mxChecks], delivered: dmarcReceiver.delivered }
              : {}),
            log: log.child({ listener: name }),
            metrics,
          }),
        }),
      );
    }
    // IDLE in this process hears other processes' deliveries through LISTEN (closed by
    // store.close); the embedded database serves one process, whose own changes it announces.
    if (store.database.kind !== "embedded") await store.changes.listen(store.sql, log);
    // One view per selected mailbox, and one count of signed-in sessions per account and
    // address, for the sessions of both IMAP listeners.
    const views = new MailboxViews(store);
    const userConnections = new UserConnections(config.imap.max_connections_per_user_ip);
    for (const [name, mode] of IMAP_LISTENERS) {
      const listener = config.listeners[name];
      if (!listener.enabled) continue;
      const live = await liveTls(store.certificates, name, log);
      tls.push(live);
      imap.push(
        await startImapListener({
          name,
          addresses: listener.addresses,
          port: listener.port,
          mode,
          tls: live.contexts,
          flow: flowControl(config, bans, log),
          settings: imapSettings(config),
          deps: imapStoreDeps({
            store,
            login,
            scram,
            views,
            userConnections,
            log: log.child({ listener: name }),
            metrics,
          }),
        }),
      );
    }
    // The webmail (src/web/) on the HTTPS listener, with the same sign-in and bans.
    if (config.listeners.https.enabled) {
      const { addresses, port } = config.listeners.https;
      const live = await liveTls(store.certificates, "https", log);
      tls.push(live);
      try {
        web = await startWebmail({
          addresses,
          port,
          tls: live.contexts,
          flow: flowControl(config, bans, log),
          store,
          login,
          hostname: config.hostname,
          log: log.child({ listener: "https" }),
          // RFC 8461 §3.3: our policy at https://mta-sts.<hosted domain>/.well-known/mta-sts.txt.
          ...(config.mta_sts.mode === "none" ? {} : {
            before: (request: Request) =>
              policyResponse(
                request,
                async (domain) => (await store.domains.find(domain).catch(() => null)) !== null,
                ownPolicyText(config),
              ),
          }),
        });
      } catch (error) {
        listen("https", addresses, port, () => {
          throw error;
        });
      }
    }
    // ACME certificates renew at two thirds of their lifetime, one node at a time.
    const acme = new Acme({
      sql: store.sql,
      vault: store.vault,
      certificates: store.certificates,
      log: log.child({ component: "acme" }),
    });
    renewal = startRenewal({
      acme,
      log,
      // Each renewal by the server is in the audit log (fumi cert issue records its own).
      onRun: (report) => {
        for (const name of report.renewed) {
          audit.append(systemAudit("cert.renew", name, { by: "acme" })).catch((error) =>
            log.error("cannot record a renewal in the audit log", { error })
          );
        }
      },
    });
    // DMARC aggregate reports, each (domain, day) claimed in the database by one node.
    if (config.dmarc.send_reports && authResolver !== null) {
      dmarcSchedule = startReports({
        reports: dmarcReports,
        delivery: new Delivery({ store, hostname: config.hostname, log: dmarcLog, queued }),
        recipients: new Recipients(store),
        resolver: authResolver,
        hostname: config.hostname,
        reportAddress: config.dmarc.report_address,
        log: dmarcLog,
      });
    }
    // Last: nothing after it may fail, or the generated password would be lost.
    const firstAdministrator = await ensureAdministrator(store, config, env);
    up = true;
    const stop = async () => {
      up = false;
      clearInterval(expiry);
      await renewal?.stop();
      await greylistExpiry?.stop();
      await dmarcSchedule?.stop();
      await stopListeners();
      await dmarcReceiver.idle();
      await outbound?.stop();
      processGauges.stop();
      await errorFlush.stop();
      await store.close();
    };
    return {
      store,
      firstAdministrator,
      bans,
      http,
      metrics: metricsHttp,
      registry,
      smtp,
      imap,
      web,
      stop,
    };
  } catch (error) {
    clearInterval(expiry);
    await renewal?.stop();
    await greylistExpiry?.stop();
    await dmarcSchedule?.stop();
    await stopListeners();
    await outbound?.stop();
    processGauges.stop();
    await errorFlush.stop();
    await store.close();
    throw error;
  }
}

/** The SMTP listeners: name, TLS mode, role (RFC 6409, RFC 8314 §3.3). */
const SMTP_LISTENERS = [
  ["smtp", "starttls", "mx"],
  ["submission", "starttls", "submission"],
  ["submissions", "tls", "submission"],
] as const;

/** The IMAP listeners: name, TLS mode (RFC 8314 §3.3). */
const IMAP_LISTENERS = [
  ["imap", "starttls"],
  ["imaps", "tls"],
] as const;

/** The IMAP listeners' settings from the configuration. */
export function imapSettings(config: Config): ImapSettings {
  return {
    ...IMAP_DEFAULTS,
    hostname: config.hostname,
    maxMessageSize: config.limits.max_message_size,
  };
}

/** An SMTP listener's settings from the configuration. */
export function smtpSettings(config: Config, role: SmtpRole): SmtpSettings {
  return {
    hostname: config.hostname,
    role,
    maxMessageSize: config.limits.max_message_size,
    maxHeaderSize: config.limits.max_header_size,
    attachments: {
      maxSize: config.limits.max_attachment_size,
      maxCount: config.limits.max_attachments,
    },
    maxRecipients: config.limits.max_recipients,
    maxRecipientsPerSession: config.smtp.max_recipients_per_session,
    maxMessagesPerSession: config.smtp.max_messages_per_session,
    maxErrors: config.smtp.max_errors,
    maxJunkCommands: SMTP_DEFAULTS.maxJunkCommands,
    maxCommandLength: SMTP_DEFAULTS.maxCommandLength,
    idleTimeoutMs: config.smtp.idle_timeout,
    dataTimeoutMs: config.smtp.data_timeout,
    dataTotalMs: SMTP_DEFAULTS.dataTotalMs,
    greetPauseMs: config.smtp.greet_pause,
    receivedAuthUser: config.smtp.received_auth_user,
    burstHold: { floor: config.smtp.burst_hold_after, factor: config.smtp.burst_factor },
  };
}

/** One listener's flow control from the firewall settings, with bans from the table. */
function flowControl(config: Config, bans: Bans, log: Logger): FlowControl {
  const { firewall } = config;
  return new FlowControl({
    maxPerIp: firewall.max_connections_per_ip,
    maxTotal: firewall.max_connections,
    connectionBurst: firewall.connection_burst,
    connectionRate: firewall.connection_rate,
    allow: firewall.allow,
    deny: firewall.deny,
    isBanned: (ip) => bans.isBanned(ip),
    log,
  });
}

/** An audit row of a change the server made on its own (actor and source "system"). */
function systemAudit(
  action: string,
  target: string,
  details: Readonly<Record<string, AuditValue>> = {},
) {
  return { actor: "system", source: "system", action, target, details };
}

/**
 * The bearer token of /metrics: FUMI_METRICS_TOKEN, else the first line of `[metrics]
 * token_file`; null for none (the address check alone).
 */
async function metricsToken(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string | null> {
  const fromEnv = env.FUMI_METRICS_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const file = config.metrics.token_file;
  if (file === undefined) return null;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    throw new ConfigError(`metrics.token_file: cannot read ${file}: ${(error as Error).message}`);
  }
  const token = text.split("\n", 1)[0]!.trim();
  if (token === "") throw new ConfigError(`metrics.token_file: ${file} is empty`);
  return token;
}

/** How often expired bans and old failures are removed. */
const BAN_EXPIRY_INTERVAL_MS = 10 * 60_000;

function checkNetworks(key: string, networks: readonly string[]): void {
  for (const network of networks) {
    try {
      parseCidr(network);
    } catch (error) {
      if (error instanceof InvalidInputError) throw new ConfigError(`${key}: ${error.message}`);
      throw error;
    }
  }
}

function listen<T>(name: string, addresses: readonly string[], port: number, start: () => T): T {
  try {
    return start();
  } catch (error) {
    const why = error instanceof Deno.errors.AddrInUse
      ? "the port is in use (is another Fumi running?)"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)"
      : (error as Error).message;
    throw new FumiError(
      `Cannot listen for ${name} on ${addresses.join(", ")} port ${port}: ${why}`,
    );
  }
}
