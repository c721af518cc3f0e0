/**
 * cid: images (RFC 2392) as data: URLs made from the message's own parts, so that a
 * multipart/related message shows its pictures without the frame fetching anything: a
 * sandboxed frame has an opaque origin, so a request from it to the app carries no
 * SameSite=Strict session cookie, and its CSP then needs no origin of the app at all.
 *
 * @module
 */

import { type BodyPart, decodeTransfer } from "../../mime/mod.ts";
import { contentId } from "./parts.ts";

/** The largest image inlined, decoded. */
export const MAX_INLINE_IMAGE = 2 * 1024 * 1024;
/** The most image data inlined into one rendering, decoded. */
export const MAX_INLINE_TOTAL = 8 * 1024 * 1024;

/** Raster types only: none of them can carry script (SVG could, and is not inlined). */
const RASTER: Readonly<Record<string, string>> = {
  png: "image/png",
  gif: "image/gif",
  jpeg: "image/jpeg",
  jpg: "image/jpeg",
  pjpeg: "image/jpeg",
  webp: "image/webp",
};

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * A `cidUrl` mapping for {@link renderMessage}: the part with that Content-ID (not inside an
 * attached message) as a data: URL when it is a raster image within the size bounds, else null
 * (the renderer then shows its placeholder).
 */
export function inlineImages(root: BodyPart, raw: Uint8Array): (cid: string) => string | null {
  const byId = new Map<string, BodyPart>();
  const stack: BodyPart[] = [root];
  while (stack.length > 0) {
    const part = stack.pop()!;
    if (part.parts !== undefined) stack.push(...part.parts);
    const id = contentId(part);
    if (id !== null && !byId.has(id)) byId.set(id, part);
  }
  let budget = MAX_INLINE_TOTAL;
  const done = new Map<string, string | null>();
  return (cid) => {
    const cached = done.get(cid);
    if (cached !== undefined) return cached;
    const part = byId.get(cid);
    const type = part?.type === "image" ? RASTER[part.subtype] : undefined;
    let url: string | null = null;
    if (part !== undefined && type !== undefined) {
      const bytes = decodeTransfer(raw.subarray(part.bodyStart, part.end), part.encoding);
      if (bytes.length <= MAX_INLINE_IMAGE && bytes.length <= budget) {
        budget -= bytes.length;
        url = `data:${type};base64,${base64(bytes)}`;
      }
    }
    done.set(cid, url);
    return url;
  };
}
