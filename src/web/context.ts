/**
 * The types every part of the web app shares: what the listener passes in (`Bindings`), what
 * middleware sets (`Variables`), and the one error type that carries its response.
 *
 * @module
 */

import type { Login } from "../auth/login.ts";
import type { Logger } from "../ops/log.ts";
import type { Store } from "../store/mod.ts";
import type { MessageRenderer } from "./message_view.ts";
import type { WebSession, WebSessions } from "./sessions.ts";

/** The Hono environment of the web app. */
export interface WebEnv {
  Bindings: {
    /** The client's address, from the socket. */
    readonly ip: string;
  };
  Variables: {
    /** The signed-in session (set by src/web/middleware/session.ts). */
    session: WebSession;
  };
}

/** What the web app is built from. */
export interface WebDeps {
  readonly store: Store;
  readonly login: Login;
  readonly sessions: WebSessions;
  /** Turns a message into what the reading pane shows (src/web/render/ or text only). */
  readonly render: MessageRenderer;
  readonly log: Logger;
  /** The server's host name (page titles). */
  readonly hostname: string;
  /** The folder of static assets (static/). */
  readonly staticDir: URL;
  /** Time source, for tests. */
  readonly now?: () => number;
  /** Time between an event stream's pings (src/web/routes/events.ts PING_MS), for tests. */
  readonly eventPingMs?: number;
}

/** An error with the status and the sentence the client sees; anything else is a 500. */
export class WebError extends Error {
  constructor(readonly status: 400 | 403 | 404 | 405 | 409 | 413 | 429, message: string) {
    super(message);
    this.name = "WebError";
  }
}
