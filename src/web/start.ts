/**
 * Starting the webmail: the app over the HTTPS listener, and the periodic removal of ended
 * sessions. src/server.ts calls {@link startWebmail} when `[listeners.https]` is enabled.
 *
 * @module
 */

import type { Login } from "../auth/login.ts";
import type { FlowControl } from "../net/flow.ts";
import type { TlsContexts } from "../net/tls_contexts.ts";
import type { Logger } from "../ops/log.ts";
import type { Store } from "../store/mod.ts";
import { createWebApp, webHandler } from "./app.tsx";
import { type RunningWebListener, startWebListener } from "./listener.ts";
import { type MessageRenderer, sanitisedRenderer } from "./message_view.ts";
import { WebSessions } from "./sessions.ts";

/** How often ended sessions are deleted. */
const PURGE_EVERY_MS = 3600_000;

/** What {@link startWebmail} needs. */
export interface WebmailOptions {
  readonly addresses: readonly string[];
  readonly port: number;
  readonly tls: TlsContexts;
  readonly flow: FlowControl;
  readonly store: Store;
  readonly login: Login;
  readonly hostname: string;
  readonly log: Logger;
  /** The message renderer; src/web/render's sanitiser by default. */
  readonly render?: MessageRenderer;
  /** The static/ folder; the repository's by default. */
  readonly staticDir?: URL;
  /** Session timeouts; 30 min idle and 12 h absolute by default. */
  readonly sessions?: { idleMs?: number; absoluteMs?: number };
  /**
   * Answered before the app, for requests that are not the webmail's (the MTA-STS policy at
   * mta-sts.<domain>: src/mtasts/publish.ts); null leaves the request to the app.
   */
  readonly before?: (request: Request) => Promise<Response | null>;
}

/** A running webmail. */
export interface RunningWebmail {
  readonly listener: RunningWebListener;
  readonly sessions: WebSessions;
  stop(): Promise<void>;
}

/** Starts the webmail on the HTTPS listener. */
export async function startWebmail(options: WebmailOptions): Promise<RunningWebmail> {
  const sessions = new WebSessions(options.store.sql, options.sessions ?? {});
  const app = await createWebApp({
    store: options.store,
    login: options.login,
    sessions,
    render: options.render ?? sanitisedRenderer,
    log: options.log,
    hostname: options.hostname,
    staticDir: options.staticDir ?? new URL("../../static/", import.meta.url),
  });
  const listener = await startWebListener({
    addresses: options.addresses,
    port: options.port,
    tls: options.tls,
    flow: options.flow,
    handler: options.before === undefined ? webHandler(app) : beforeApp(options.before, app),
    log: options.log,
  });
  options.log.info("listening", {
    endpoints: listener.endpoints.map((e) => `${e.address}:${e.port}`).join(" "),
  });
  const purge = setInterval(() => {
    sessions.purge().catch((error) => options.log.error("cannot purge web sessions", { error }));
  }, PURGE_EVERY_MS);
  return {
    listener,
    sessions,
    stop: async () => {
      clearInterval(purge);
      await listener.stop();
    },
  };
}

/** The app's handler, after `before` (which answers what is not the app's, or null). */
function beforeApp(
  before: (request: Request) => Promise<Response | null>,
  app: Parameters<typeof webHandler>[0],
): ReturnType<typeof webHandler> {
  const handler = webHandler(app);
  return async (request, client) => (await before(request)) ?? await handler(request, client);
}
