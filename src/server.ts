/**
 * The composition root: the one place that builds concrete dependencies and wires them.
 * `fumi serve` calls {@link startServer} and stops it on SIGINT/SIGTERM.
 *
 * @module
 */

import { ensureAdministrator, type FirstAdministrator } from "./bootstrap.ts";
import type { Config } from "./config/mod.ts";
import { type HttpListener, serveHealth } from "./ops/health.ts";
import type { Logger } from "./ops/log.ts";
import { openStore, type Store } from "./store/mod.ts";
import { FumiError } from "./util/errors.ts";

/** A running Fumi. */
export interface RunningServer {
  readonly store: Store;
  readonly firstAdministrator: FirstAdministrator | null;
  readonly http: readonly HttpListener[];
  stop(): Promise<void>;
}

/** Opens the store, bootstraps a fresh install and starts the listeners. */
export async function startServer(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
): Promise<RunningServer> {
  const store = await openStore(config, env, log, { exclusive: true });
  let http: HttpListener[] = [];
  try {
    // Listeners first: if one cannot bind, nothing is created, so the first successful start is
    // the one that shows the administrator's generated password.
    if (config.listeners.http.enabled) {
      const { addresses, port } = config.listeners.http;
      http = listen("http", addresses, port, () =>
        serveHealth(addresses, port, async () => {
          await store.sql`select 1`;
        }, log));
    }
    // A fresh install serves TLS from the start with a self-signed certificate for its name.
    const selfSigned = await store.certificates.ensureSelfSigned(config.hostname);
    if (selfSigned.created) {
      log.warn("created a self-signed certificate; import a real one with fumi cert import", {
        certificate: selfSigned.certificate.name,
      });
    }
    // Last: nothing after it may fail, or the generated password would be lost.
    const firstAdministrator = await ensureAdministrator(store, config, env);
    const stop = async () => {
      await Promise.all(http.map((h) => h.stop()));
      await store.close();
    };
    return { store, firstAdministrator, http, stop };
  } catch (error) {
    await Promise.all(http.map((h) => h.stop()));
    await store.close();
    throw error;
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
