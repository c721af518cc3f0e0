/**
 * The web app in process over a test store, for `app.request()` tests: alice@example.org,
 * sign-in with the brute-force defence (delays recorded, not slept), a session clock the test
 * moves, and a tiny cookie jar per browser.
 *
 * @module
 */

import { Bans } from "../auth/bans.ts";
import { Login, sqlCredentials } from "../auth/login.ts";
import { type Logger, silentLogger } from "../ops/log.ts";
import type { Store } from "../store/mod.ts";
import { GOOD_PASSWORD, withStore } from "../../tests/store.ts";
import { createWebApp } from "./app.tsx";
import { type MessageRenderer, sanitisedRenderer } from "./message_view.ts";
import { WebSessions } from "./sessions.ts";

/** The origin the tests' requests come from. */
export const ORIGIN = "https://mail.example.org";

/** A browser: its cookies, sent back with each request. */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly app: WebApp, readonly ip = "192.0.2.10") {}

  /** Sends a request like a same-origin page would (unless the headers say otherwise). */
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has("host")) headers.set("host", new URL(ORIGIN).host);
    if (!headers.has("accept")) headers.set("accept", "text/html");
    const method = (init.method ?? "GET").toUpperCase();
    // A test that gives Origin itself gives Sec-Fetch-Site too, or none.
    if (method !== "GET" && !headers.has("origin")) {
      headers.set("origin", ORIGIN);
      if (!headers.has("sec-fetch-site")) headers.set("sec-fetch-site", "same-origin");
    }
    if (this.cookies.size > 0) {
      headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    const response = await this.app.request(
      `${ORIGIN}${path}`,
      { ...init, headers, redirect: "manual" },
      { ip: this.ip },
    );
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";").map((s) => s.trim());
      const [name, value] = [
        pair!.slice(0, pair!.indexOf("=")),
        pair!.slice(pair!.indexOf("=") + 1),
      ];
      const expired = attributes.some((a) => /^max-age=0$/i.test(a));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** POSTs a form. */
  post(path: string, fields: Record<string, string>, headers: HeadersInit = {}): Promise<Response> {
    return this.request(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(fields).toString(),
    });
  }

  /** Signs in with a password (an account without a second factor); throws if refused. */
  async signIn(address = "alice@example.org", password = GOOD_PASSWORD): Promise<void> {
    const response = await this.post("/login", { address, password });
    await response.body?.cancel();
    if (response.headers.get("location") !== "/mail") {
      throw new Error(`Sign-in refused: ${response.status}`);
    }
  }

  /** The CSRF token on a signed-in page. */
  async csrfToken(): Promise<string> {
    const page = await (await this.request("/mail")).text();
    const match = /name="_csrf" value="([^"]+)"/.exec(page);
    if (!match) throw new Error("No CSRF token on the page");
    return match[1]!;
  }
}

/** The web app. */
export type WebApp = Awaited<ReturnType<typeof createWebApp>>;

/** The app and its world. */
export interface WebWorld {
  readonly store: Store;
  readonly app: WebApp;
  readonly sessions: WebSessions;
  readonly alice: { id: number; address: string };
  /** Delays the brute-force defence asked for. */
  readonly delays: number[];
  /** Moves the sessions' clock forward. */
  advance(ms: number): void;
  browser(ip?: string): Browser;
}

/** The web app over a store and a Login, as src/web/start.ts builds it. */
export async function webAppOver(store: Store, login: Login): Promise<WebApp> {
  return await createWebApp({
    store,
    login,
    sessions: new WebSessions(store.sql),
    render: sanitisedRenderer,
    log: silentLogger,
    hostname: "mail.example.org",
    staticDir: new URL("../../static/", import.meta.url),
  });
}

/** Runs `fn` with a fresh app. */
export async function withWeb(
  fn: (world: WebWorld) => Promise<void>,
  options: { render?: MessageRenderer; eventPingMs?: number; log?: Logger } = {},
): Promise<void> {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const delays: number[] = [];
    const bans = new Bans(store.sql, { log: silentLogger });
    const login = new Login({
      bans,
      credentials: sqlCredentials(store.sql),
      log: silentLogger,
      sleep: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
    });
    let offset = 0;
    const sessions = new WebSessions(store.sql, {}, () => Date.now() + offset);
    const app = await createWebApp({
      store,
      login,
      sessions,
      render: options.render ?? sanitisedRenderer,
      ...(options.eventPingMs === undefined ? {} : { eventPingMs: options.eventPingMs }),
      log: options.log ?? silentLogger,
      hostname: "mail.example.org",
      staticDir: new URL("../../static/", import.meta.url),
    });
    const world: WebWorld = {
      store,
      app,
      sessions,
      alice: { id: alice.id, address: alice.address },
      delays,
      advance: (ms) => {
        offset += ms;
      },
      browser: (ip) => new Browser(app, ip),
    };
    await fn(world);
  });
}
