/**
 * The frame a rendered message is shown in: the iframe's `sandbox` value, the frame
 * document's Content Security Policy, and the document itself (for `srcdoc`, or served from
 * its own URL with the same policy as a header).
 *
 * @module
 */

import { escapeHtml } from "./text.ts";

/**
 * The iframe's sandbox: no `allow-scripts` and no `allow-same-origin`, so the frame runs no
 * script and has an opaque origin (no cookies, no storage, no access to the app). Popups are
 * allowed, and escape the sandbox, only so that links (all `target="_blank"`) open as normal
 * pages in a new tab.
 */
export const FRAME_SANDBOX = "allow-popups allow-popups-to-escape-sandbox";

/**
 * The Content Security Policy of a message frame: nothing loads or runs except inline styles
 * and images from data: URLs, from `partsOrigin` (the app's origin, which serves the cid:
 * images the caller's `cidUrl` points at; a sandboxed frame has an opaque origin, so
 * `'self'` would not name it) and, once the user allowed remote content, from https and
 * http. No script source at all, no forms, no base URL.
 */
export function renderCsp(allowRemote: boolean, partsOrigin?: string): string {
  const origin = partsOrigin === undefined ? "" : " " + partsOrigin.replace(/[^!-~]|[;,]/g, "");
  const images = `data:${origin}${allowRemote ? " https: http:" : ""}`;
  return [
    "default-src 'none'",
    `img-src ${images}`,
    "style-src 'unsafe-inline'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

/** Styles of the frame document: readable defaults that a message's own styles may override. */
const FRAME_STYLE = [
  ":root{color-scheme:light dark}",
  "body{margin:0;padding:12px;font:15px/1.5 system-ui,sans-serif;overflow-wrap:break-word}",
  "img{max-width:100%;height:auto}",
  "pre{white-space:pre-wrap}",
  "blockquote{margin:0 0 0 .5em;padding-left:.75em;border-left:3px solid #9ca3af}",
].join("");

/**
 * A whole HTML document around rendered message HTML, carrying {@link renderCsp} as a
 * `<meta>` policy (a srcdoc frame also inherits the app page's policy; both apply).
 *
 * @example
 * ```ts
 * const doc = frameDocument(renderMessage(raw, { allowRemote: false }).html ?? "", false);
 * // <iframe sandbox="${FRAME_SANDBOX}" srcdoc="${escapeHtml(doc)}"></iframe>
 * ```
 */
export function frameDocument(html: string, allowRemote: boolean): string {
  return '<!doctype html><html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(renderCsp(allowRemote))}">` +
    '<meta name="referrer" content="no-referrer">' +
    `<style>${FRAME_STYLE}</style></head><body>${html}</body></html>`;
}
