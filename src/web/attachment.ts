/**
 * Attachments as downloads: finding a part by its IMAP section number, and the
 * Content-Disposition that makes a browser save it rather than show it.
 *
 * A download is always `application/octet-stream`, `attachment`, `nosniff`, under a CSP with
 * `sandbox` and nothing allowed: whatever a sender puts in a part, the browser never renders it
 * from our origin (an HTML or SVG attachment opened in place would run as us).
 *
 * @module
 */

import type { BodyPart } from "../mime/mod.ts";

/** The leaf with IMAP section number `partId` (RFC 9051 §6.4.5), or null. */
export function partAt(root: BodyPart, partId: string): BodyPart | null {
  let part = root;
  for (const [depth, text] of partId.split(".").entries()) {
    const n = Number(text);
    if (part.parts) {
      const child = part.parts[n - 1];
      if (child === undefined) return null;
      part = child;
    } else if (!(depth === 0 && n === 1)) {
      // A single-part message's body is section 1; nothing lies below a leaf.
      return null;
    }
  }
  return part.parts ? null : part;
}

/**
 * `attachment` with the file name twice: an ASCII fallback (`filename`, quotes and controls
 * replaced) and the exact name in UTF-8 (`filename*`, RFC 6266 §4.3, RFC 8187 §3.2).
 */
export function contentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, "_") || "attachment";
  const exact = encodeURIComponent(filename).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}
