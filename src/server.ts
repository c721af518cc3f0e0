/**
 * The composition root: the one place that builds concrete dependencies and wires them.
 * `fumi serve` calls {@link startServer} and stops it on SIGINT/SIGTERM.
 *
 * @module
 */

import { Acme, http01Handler, startRenewal, storedChallenges } from "./acme/mod.ts";
import { Bans } from "./auth/bans.ts";
import { ensureAdministrator, type FirstAdministrator } from "./bootstrap.ts";
import { parseCidr } from "./net/cidr.ts";
import type { Config } from "./config/mod.ts";
import { type HttpListener, serveHealth } from "./ops/health.ts";
import type { Logger } from "./ops/log.ts";
import { openStore, type Store } from "./store/mod.ts";
import { ConfigError, FumiError, InvalidInputError } from "./util/errors.ts";

/** A running Fumi. */
export interface RunningServer {
  readonly store: Store;
  readonly firstAdministrator: FirstAdministrator | null;
  /** Failed sign-ins and bans, shared by every protocol. */
  readonly bans: Bans;
  readonly http: readonly HttpListener[];
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
  const store = await openStore(config, env, log, { exclusive: true });
  let http: HttpListener[] = [];
  let expiry: ReturnType<typeof setInterval> | undefined;
  let renewal: { stop(): Promise<void> } | undefined;
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
    });
    const expire = () => bans.expire().catch((error) => log.error("cannot expire bans", { error }));
    await expire();
    expiry = setInterval(expire, BAN_EXPIRY_INTERVAL_MS);
    // Listeners first: if one cannot bind, nothing is created, so the first successful start is
    // the one that shows the administrator's generated password.
    if (config.listeners.http.enabled) {
      const { addresses, port } = config.listeners.http;
      http = listen("http", addresses, port, () =>
        serveHealth(
          addresses,
          port,
          async () => {
            await store.sql`select 1`;
          },
          log,
          { routes: http01Handler(storedChallenges(store.sql)) },
        ));
    }
    // A fresh install serves TLS from the start with a self-signed certificate for its name.
    const selfSigned = await store.certificates.ensureSelfSigned(config.hostname);
    if (selfSigned.created) {
      log.warn("created a self-signed certificate; import a real one with fumi cert import", {
        certificate: selfSigned.certificate.name,
      });
    }
    // ACME certificates renew at two thirds of their lifetime, one node at a time.
    const acme = new Acme({
      sql: store.sql,
      vault: store.vault,
      certificates: store.certificates,
      log: log.child({ component: "acme" }),
    });
    renewal = startRenewal({ acme, log });
    // Last: nothing after it may fail, or the generated password would be lost.
    const firstAdministrator = await ensureAdministrator(store, config, env);
    const stop = async () => {
      clearInterval(expiry);
      await renewal?.stop();
      await Promise.all(http.map((h) => h.stop()));
      await store.close();
    };
    return { store, firstAdministrator, bans, http, stop };
  } catch (error) {
    clearInterval(expiry);
    await renewal?.stop();
    await Promise.all(http.map((h) => h.stop()));
    await store.close();
    throw error;
  }
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
