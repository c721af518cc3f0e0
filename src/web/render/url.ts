/**
 * What a URL written in a message is, read the way a browser reads it (WHATWG URL Standard
 * §4.4: leading and trailing C0 controls and spaces stripped, tabs and line breaks removed
 * anywhere), so that `&#106;ava&#x09;script:` cannot look harmless here and run there.
 *
 * @module
 */

/** What a URL in a message may become in the rendered output. */
export type UrlKind =
  /** http or https (a protocol-relative `//host` counts as https): remote content. */
  | "web"
  /** mailto: (RFC 6068), for links only. */
  | "mailto"
  /** cid: (RFC 2392), a part of the same message. */
  | "cid"
  /** A data: URL of a raster image type that cannot carry script. */
  | "image-data"
  /** Anything else: javascript:, vbscript:, other data:, relative URLs, unparsable text. */
  | "unsafe";

/** A classified URL: its kind and its canonical form (the Content-ID for `cid`). */
export interface ClassifiedUrl {
  kind: UrlKind;
  /** The URL as the URL parser serialises it; for `cid`, the decoded Content-ID. */
  href: string;
}

/**
 * Raster image types a data: URL may carry into an `<img>`: none of them can hold script,
 * and a few KiB of inline logo is common in mail. SVG is left out (it is a document format
 * with script and external references), so is everything that is not an image.
 */
const SAFE_DATA_IMAGE = /^data:image\/(?:png|gif|jpeg|jpg|webp)(?:;[a-z0-9=._+-]*)*,/i;

/** WHATWG URL §4.4 basic URL parser, first steps: what a browser drops before parsing. */
function clean(value: string): string {
  // deno-lint-ignore no-control-regex
  return value.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, "").replace(/[\t\n\r]/g, "");
}

/**
 * Classifies a URL from a message's HTML (attribute values already entity-decoded).
 *
 * @example
 * ```ts
 * classifyUrl(" java\tscript:alert(1)").kind; // "unsafe"
 * classifyUrl("//tracker.example/p.gif"); // { kind: "web", href: "https://tracker.example/p.gif" }
 * ```
 */
export function classifyUrl(value: string): ClassifiedUrl {
  let text = clean(value);
  const unsafe: ClassifiedUrl = { kind: "unsafe", href: "" };
  if (text.startsWith("//") || text.startsWith("\\\\")) text = "https:" + text;
  if (/^cid:/i.test(text)) { // RFC 2392 §2: the Content-ID, %-encoded, without angle brackets
    try {
      return { kind: "cid", href: decodeURIComponent(text.slice(4)) };
    } catch {
      return { kind: "cid", href: text.slice(4) }; // a stray "%": compare as written
    }
  }
  if (/^data:/i.test(text)) {
    return SAFE_DATA_IMAGE.test(text) ? { kind: "image-data", href: text } : unsafe;
  }
  let url: URL;
  try {
    url = new URL(text); // absolute URLs only: a relative one would resolve against our origin
  } catch {
    return unsafe;
  }
  if (url.protocol === "http:" || url.protocol === "https:") {
    return { kind: "web", href: url.href };
  }
  if (url.protocol === "mailto:") return { kind: "mailto", href: url.href };
  return unsafe;
}
