/**
 * The session cookie and the middleware that requires a signed-in session.
 *
 * The cookie is `__Host-fumi` (RFC 6265bis §4.1.3.2: Secure, Path=/, no Domain, so no other
 * host can set or read it), HttpOnly, SameSite=Strict, with no Max-Age: it ends with the
 * browser, and the server ends it earlier (idle and absolute timeouts, src/web/sessions.ts).
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { WebEnv } from "../context.ts";
import type { SessionStage, WebSession, WebSessions } from "../sessions.ts";
import { checkCsrfToken } from "./csrf.ts";

/** The cookie's name without its `__Host-` prefix. */
export const COOKIE = "fumi";

/** Sets the session cookie. */
export function setSessionCookie(c: Context<WebEnv>, token: string): void {
  setCookie(c, COOKIE, token, {
    prefix: "host",
    secure: true,
    httpOnly: true,
    sameSite: "Strict",
    path: "/",
  });
}

/** Clears the session cookie. */
export function clearSessionCookie(c: Context<WebEnv>): void {
  deleteCookie(c, COOKIE, { prefix: "host", secure: true, path: "/" });
}

/** Sent (value `1`) by static/webmail.js on the fetches it makes by itself, not for its user. */
export const BACKGROUND_HEADER = "x-fumi-background";

/**
 * The session the request's cookie opens, at any stage, or null. A background request
 * ({@link BACKGROUND_HEADER}) does not count as the session's use.
 */
export async function currentSession(
  c: Context<WebEnv>,
  sessions: WebSessions,
): Promise<WebSession | null> {
  const token = getCookie(c, COOKIE, "host");
  if (token === undefined) return null;
  return await sessions.open(token, { touch: c.req.header(BACKGROUND_HEADER) !== "1" });
}

/**
 * Requires a session at `stage`: pages without one go to the sign-in form; other requests get
 * 401. A state-changing request must carry the session's CSRF token. Every answer given under
 * a session is `Cache-Control: no-store`.
 */
export function requireSession(
  sessions: WebSessions,
  stage: SessionStage = "full",
): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const session = await currentSession(c, sessions);
    if (session === null || session.stage !== stage) {
      if (c.req.method === "GET" && c.req.header("accept")?.includes("text/html")) {
        return c.redirect("/login", 303);
      }
      return c.text("Sign in first\n", 401);
    }
    await checkCsrfToken(c, session.csrfToken);
    c.set("session", session);
    await next();
    // A signed-in answer is the account's mail: no cache (the browser's, a proxy's) keeps it
    // for the next user of the machine (RFC 9111 §5.2.2.5).
    c.res.headers.set("cache-control", "no-store");
  };
}
