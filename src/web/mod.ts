/**
 * The webmail: a Hono app served over HTTPS (src/web/listener.ts), server-rendered with
 * hono/jsx, with small client modules from static/.
 *
 * Security model and invariants:
 * - Every response carries HSTS, nosniff, Referrer-Policy no-referrer and a CSP without inline
 *   script or style (`default-src 'self'; script-src 'self'; object-src 'none'; base-uri
 *   'none'; form-action 'self'; frame-ancestors 'none'`); pages are never framed.
 * - Message content is never served as one of our pages: HTML parts, sanitised
 *   (src/web/render/ when wired, else not shown at all), come from `/mail/body` under their own
 *   CSP (`default-src 'none'`, inline styles, data: images, remote images only when allowed,
 *   the `sandbox` directive) inside an `<iframe sandbox>` without allow-scripts or
 *   allow-same-origin. Text is escaped by hono/jsx like every value.
 * - Sessions live in the database (src/web/sessions.ts): the cookie `__Host-fumi` (Secure,
 *   HttpOnly, SameSite=Strict, Path=/) carries a 256-bit id stored only as its SHA-256;
 *   idle and absolute timeouts; revocable one by one or all at once. Every answer under a
 *   session is `Cache-Control: no-store`; signing out sends `Clear-Site-Data: "cache"`. A
 *   page's own background refresh (`X-Fumi-Background: 1`) does not count as use. An event
 *   stream ends with its session (at once when revoked here, else at its next ping); at most
 *   five per session.
 * - Sign-in goes through src/auth/login.ts: brute-force delays, counting and bans shared with
 *   IMAP and SMTP, the same answer for an unknown address and a wrong password; with the
 *   second factor on, the password is only a first step and a TOTP code completes it: five
 *   codes per password-only session (each claimed before it is checked), ten wrong codes an
 *   hour per account whatever the client.
 * - Every POST, PUT, PATCH and DELETE passes the same-origin check (Sec-Fetch-Site, Origin)
 *   and, when signed in, the session's CSRF token (src/web/middleware/csrf.ts); POST /login,
 *   with no token to check, needs one of those two headers.
 * - A body part over 2 MiB is never given to the sanitiser (it would hold the process).
 * - Every input is validated with zod before use, with sentences the user can act on.
 * - Changes go through the store's methods, as IMAP's do (modseq, change announcements).
 * - One error handler turns errors into pages; nothing internal reaches a client.
 * - Requests are bounded: header size (16 KiB) and time (the TLS handshake and each request's
 *   header fields within 20 s), body size (64 KiB, before the app runs) and time, idle connections (75 s);
 *   connections pass the listener's flow control (per-address limits, bans).
 *
 * @module
 */

export { createWebApp, webHandler } from "./app.tsx";
export type { WebDeps, WebEnv } from "./context.ts";
export { WebError } from "./context.ts";
export { type RunningWebListener, startWebListener, WEB_DEFAULTS } from "./listener.ts";
export {
  type AttachmentInfo,
  type MessageRenderer,
  type RenderedMessage,
  type RenderOptions,
  sanitisedRenderer,
} from "./message_view.ts";
export {
  type IssuedSession,
  type ListedSession,
  type WebSession,
  WebSessions,
} from "./sessions.ts";
export { type RunningWebmail, startWebmail, type WebmailOptions } from "./start.ts";
