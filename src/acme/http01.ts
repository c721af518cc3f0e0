/**
 * The HTTP-01 responder (RFC 8555 §8.3): answers
 * `GET /.well-known/acme-challenge/TOKEN` with the key authorization stored for TOKEN, from
 * the database, so whichever node the CA reaches answers. The HTTP listener mounts it
 * (`serveHealth(…, { routes: http01Handler(storedChallenges(sql)) })`).
 *
 * Bounds: only tokens of the base64url alphabet and a sane length reach the database; any other
 * path under the prefix is a 404 without a query; only GET and HEAD are served.
 *
 * @module
 */

import type { Sql } from "../store/db.ts";
import { findChallenge } from "./state.ts";

/** The path prefix of HTTP-01 (RFC 8555 §8.3). */
export const CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

const TOKEN = /^[A-Za-z0-9_-]{22,256}$/;

/** Looks up a token's key authorization (null: unknown). */
export type ChallengeLookup = (token: string) => Promise<string | null>;

/** The lookup of the tokens stored by any node (table `acme_challenges`). */
export function storedChallenges(sql: Sql): ChallengeLookup {
  return (token) => findChallenge(sql, token);
}

/**
 * A request handler that answers challenge requests and returns null for any other path, so
 * the listener can go on with its own routes.
 */
export function http01Handler(
  lookup: ChallengeLookup,
): (request: Request) => Promise<Response | null> {
  return async (request) => {
    const { pathname } = new URL(request.url);
    if (!pathname.startsWith(CHALLENGE_PREFIX)) return null;
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const token = pathname.slice(CHALLENGE_PREFIX.length);
    const keyAuthorization = TOKEN.test(token) ? await lookup(token) : null;
    if (keyAuthorization === null) return new Response("Not found\n", { status: 404 });
    // RFC 8555 §8.3: the body is the key authorization; the RFC's example uses octet-stream.
    return new Response(request.method === "HEAD" ? null : keyAuthorization, {
      headers: { "content-type": "application/octet-stream", "cache-control": "no-store" },
    });
  };
}
