/**
 * Cross-site request forgery defence, for every POST, PUT, PATCH and DELETE:
 * 1. the browser's own word: `Sec-Fetch-Site` when sent must be `same-origin`, and `Origin`
 *    when sent must be this site's (`https://` + Host) — both are set by browsers and cannot be
 *    forged by a page; a request with neither is left to the token. Our pages are served with
 *    `Referrer-Policy: no-referrer`, under which browsers send `Origin: null` with their own
 *    form posts (Fetch, "serializing a request origin"): `null` is accepted only with
 *    `Sec-Fetch-Site: same-origin`;
 * 2. for a signed-in session, its token ({@link checkCsrfToken}), from the `_csrf` form field or
 *    the `X-CSRF-Token` header, compared in constant time;
 * 3. where there is no session and so no token (the sign-in form, POST /login), the browser's
 *    word is required: a request with neither header is refused ({@link requireFetchMetadata}),
 *    so an old browser cannot be made to sign in to an attacker's account (login CSRF).
 * The session cookie is also SameSite=Strict; these checks do not rely on it.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { type WebEnv, WebError } from "../context.ts";
import { sameToken } from "../sessions.ts";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/** True for methods that change nothing. */
export function isSafeMethod(method: string): boolean {
  return SAFE.has(method.toUpperCase());
}

/** Refuses a state-changing request that the browser says comes from another site. */
export const sameOrigin: MiddlewareHandler<WebEnv> = async (c, next) => {
  if (!isSafeMethod(c.req.method)) {
    const site = c.req.header("sec-fetch-site");
    if (site !== undefined && site !== "same-origin") {
      throw new WebError(403, "Refused: the request came from another site");
    }
    const origin = c.req.header("origin");
    const opaque = origin === "null" && site === "same-origin";
    if (origin !== undefined && !opaque && origin !== `https://${c.req.header("host") ?? ""}`) {
      throw new WebError(403, "Refused: the request came from another site");
    }
  }
  await next();
};

/**
 * Refuses a state-changing request that carries neither `Sec-Fetch-Site` nor `Origin`: for
 * routes with no session token to check (every browser of the last years sends `Origin` with a
 * form's POST; {@link sameOrigin} has checked whichever came).
 */
export const requireFetchMetadata: MiddlewareHandler<WebEnv> = async (c, next) => {
  if (
    !isSafeMethod(c.req.method) && c.req.header("sec-fetch-site") === undefined &&
    c.req.header("origin") === undefined
  ) {
    throw new WebError(403, "Refused: the browser did not say where the form came from");
  }
  await next();
};

/** Checks the session's CSRF token on a state-changing request; throws 403 when wrong. */
export async function checkCsrfToken(c: Context<WebEnv>, expected: string): Promise<void> {
  if (isSafeMethod(c.req.method)) return;
  let token = c.req.header("x-csrf-token");
  if (token === undefined) {
    const type = c.req.header("content-type") ?? "";
    if (
      type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")
    ) {
      const value = (await c.req.parseBody())["_csrf"];
      if (typeof value === "string") token = value;
    }
  }
  if (token === undefined || !sameToken(token, expected)) {
    throw new WebError(403, "Refused: the form is stale or came from elsewhere; reload the page");
  }
}
