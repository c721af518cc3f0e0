/**
 * Response headers of every answer (Hono's secureHeaders): HSTS, a strict CSP without inline
 * script or style, no framing, nosniff, no referrer. The message body route, the one place
 * user content is served, gets its own policy ({@link messageBodyCsp}): nothing may load but
 * inline styles and data: images (remote images only when allowed), it may be framed only by
 * our own pages, and the CSP `sandbox` directive makes it an opaque origin without scripts or
 * forms even if it were opened outside its sandboxed frame.
 *
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { secureHeaders } from "hono/secure-headers";

type SecureHeadersOptions = NonNullable<Parameters<typeof secureHeaders>[0]>;
import type { WebEnv } from "../context.ts";
import { FRAME_SANDBOX, renderCsp } from "../render/mod.ts";

/** The pages' Content-Security-Policy directives. */
export const PAGE_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

const common: SecureHeadersOptions = {
  // Two years, the value the HSTS preload list asks for.
  strictTransportSecurity: "max-age=63072000; includeSubDomains",
  referrerPolicy: "no-referrer",
  xContentTypeOptions: true,
  crossOriginOpenerPolicy: "same-origin",
  crossOriginResourcePolicy: "same-origin",
  permissionsPolicy: { camera: [], microphone: [], geolocation: [] },
};

const pages = secureHeaders({
  ...common,
  contentSecurityPolicy: PAGE_CSP,
  xFrameOptions: "DENY",
});

// The body route sets its own policy (src/web/routes/mail.tsx, {@link messageBodyCsp}).
const message = secureHeaders({ ...common, xFrameOptions: "SAMEORIGIN" });

/**
 * The message body's Content-Security-Policy: src/web/render's frame policy (nothing but
 * inline styles and data: images, remote images once allowed), framed only by our pages, and
 * the `sandbox` directive with the frame's own sandbox flags (no scripts, an opaque origin).
 */
export function messageBodyCsp(remoteImages: boolean): string {
  return `${renderCsp(remoteImages)}; frame-ancestors 'self'; sandbox ${FRAME_SANDBOX}`;
}

/** The path of the message body route, which alone gets {@link messageHeaders}' policy. */
export const MESSAGE_BODY_PATH = "/mail/body";
/** The attachment download route, which sets its own policy (src/web/attachment.ts). */
export const ATTACHMENT_PATH = "/mail/part";

/** The policy of an answer of the body or attachment route that set none (an error page). */
export const FALLBACK_CSP = "default-src 'none'; frame-ancestors 'self'; sandbox";

/** The headers middleware: the pages' policy, or the message body's. */
export const securityHeaders: MiddlewareHandler<WebEnv> = async (c, next) => {
  const own = c.req.path === MESSAGE_BODY_PATH || c.req.path === ATTACHMENT_PATH;
  await (own ? message(c, next) : pages(c, next));
  // Those routes set their policy on what they serve; any other answer of theirs (an error
  // page) gets the strictest, so nothing under those paths is ever an unconstrained page.
  if (own && !c.res.headers.has("content-security-policy")) {
    c.res.headers.set("content-security-policy", FALLBACK_CSP);
  }
  // HSTS binds a host name on every port (RFC 6797 §8.3): on `localhost` (--dev) it would
  // force the developer's other local sites to HTTPS. IP literals ignore it anyway (§8.1).
  if (isLoopbackName(c.req.header("host") ?? "")) c.res.headers.delete("strict-transport-security");
};

/** True for `localhost`, `*.localhost` (RFC 6761 §6.3) and IP literals, with any port. */
export function isLoopbackName(host: string): boolean {
  const name = host.startsWith("[") ? host : host.replace(/:\d+$/, "");
  return /^(?:.+\.)?localhost\.?$/i.test(name) || /^[\d.]+$/.test(name) || name.startsWith("[");
}
