/**
 * Message rendering for the webmail: display headers, the text body, the HTML body sanitised
 * (or the text body as safe HTML with clickable links), the attachment list, remote content
 * blocking, and snippets for message lists.
 *
 * Invariants:
 *
 * - Pure: bytes in, values out. No `Deno.*`, no `node:*`, no network, no store, no clock.
 *   MIME structure, headers, encoded words, charsets and transfer encodings come from
 *   src/mime; HTML parsing and serialisation from sanitize-html and htmlparser2.
 * - Every string returned is untrusted text made display-safe (controls and bidi overrides
 *   removed) except `html`, which is sanitised markup; callers still escape the text fields
 *   (hono/jsx does) and never put `html` into the app's own pages.
 * - Remote content never loads unless `allowRemote`: http, https and protocol-relative image
 *   sources, `srcset` and `background` are replaced (a grey placeholder for `<img>`) and
 *   counted in `remoteBlocked`; CSS `url()` never survives the style allow-list, allowed or not.
 *
 * Security model — three layers, each enough against script on its own, so that a bug in one
 * is not yet an exploit (defence in depth):
 *
 * 1. **The sanitiser** (sanitize.ts): an allow-list of formatting, table, image and link
 *    elements and of attributes per element; script, style sheets, frames, objects, forms,
 *    SVG, MathML, `<meta>`, `<base>`, `<link>` are dropped (the dangerous ones with their
 *    content); no event handler attributes; URLs are read as browsers read them and only
 *    http/https/mailto links (with `target="_blank" rel="noopener noreferrer"` and a `title`
 *    showing the real target), raster `data:image/*` and mapped `cid:` images are kept;
 *    inline styles only through a strict property and value allow-list (no `url()`, no
 *    `expression()`, no escapes).
 * 2. **The sandbox**: the output is shown only in an `<iframe sandbox="{@link FRAME_SANDBOX}">`
 *    — no `allow-scripts`, no `allow-same-origin` — so even markup that slipped through
 *    cannot run script, read cookies or reach the app's origin.
 * 3. **The CSP** of the frame ({@link renderCsp}): `default-src 'none'; img-src data:
 *    [origin] [https: http:]; style-src 'unsafe-inline'` (plus `base-uri` and `form-action`
 *    'none'), sent as a header when the frame has its own URL and carried in
 *    {@link frameDocument} for `srcdoc`: no script source exists, and nothing remote loads
 *    unless the user allowed it.
 *
 * Attachments are for download only (Content-Disposition: attachment, X-Content-Type-Options:
 * nosniff, served by the web app); their names are display-safe and without a path.
 *
 * @example
 * ```ts
 * import { FRAME_SANDBOX, frameDocument, renderMessage } from "./mod.ts";
 *
 * // cid: images are inlined as data: URLs by default (inline.ts); pass `cidUrl` to serve
 * // them from the app instead (then name the app's origin as `partsOrigin` of the CSP).
 * const shown = renderMessage(raw, { allowRemote: false });
 * const doc = frameDocument(shown.html ?? "", false);
 * // <iframe sandbox={FRAME_SANDBOX} srcdoc={doc}> and a "Show images" button when
 * // shown.remoteBlocked > 0
 * ```
 *
 * @module
 */

export {
  type DisplayHeaders,
  displayHeaders,
  MAX_SANITISED_BYTES,
  partText,
  type RenderedMessage,
  renderMessage,
  type RenderOptions,
  snippet,
  SNIPPET_LENGTH,
} from "./message.ts";
export { type Attachment, type MessageParts, messageParts } from "./parts.ts";
export { BLOCKED_IMAGE, sanitizeMessageHtml, type SanitizeOptions } from "./sanitize.ts";
export { displaySafe, escapeHtml, htmlToText, textToHtml } from "./text.ts";
export { FRAME_SANDBOX, frameDocument, renderCsp } from "./frame.ts";
export { inlineImages, MAX_INLINE_IMAGE, MAX_INLINE_TOTAL } from "./inline.ts";
export { type ClassifiedUrl, classifyUrl, type UrlKind } from "./url.ts";
