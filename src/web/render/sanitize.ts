/**
 * The HTML sanitiser for mail: sanitize-html (allow-list based, on htmlparser2, no DOM)
 * configured tightly, plus our own URL rules for links, images and backgrounds. Everything
 * not on the lists below is dropped; the output is re-serialised by sanitize-html, so text
 * never turns back into markup.
 *
 * Inline `style` attributes are kept, but only through a strict property allow-list whose
 * values must match anchored patterns with no `(` other than colour functions, no `\`
 * (no CSS escapes) and no quotes other than in font names: so no `url()`, no
 * `expression()`, no `-moz-binding`, no `position` (no overlays over the app's own chrome).
 * HTML mail is laid out with inline styles; dropping them all would make most of it
 * unreadable, while the allow-list leaves nothing that loads or runs. `<style>` elements
 * are dropped with their content: a whole style sheet cannot be filtered property by
 * property here, and it could reach outside its message through selectors.
 *
 * @module
 */

// @ts-types="@types/sanitize-html"
import sanitizeHtml from "sanitize-html";
import { classifyUrl } from "./url.ts";

/** How a message's HTML is rendered. */
export interface SanitizeOptions {
  /** Load remote images (http, https, protocol-relative src, srcset, background). */
  allowRemote: boolean;
  /** Maps a Content-ID (RFC 2392, without angle brackets) to a URL for the part, or null. */
  cidUrl?: ((cid: string) => string | null) | undefined;
}

/** Sanitised HTML and how many remote resources were kept from loading. */
export interface SanitizedHtml {
  html: string;
  remoteBlocked: number;
}

/** Shown instead of a blocked remote image: a grey box of the image's size (our own SVG). */
export const BLOCKED_IMAGE = "data:image/svg+xml," + encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24">' +
    '<rect width="24" height="24" fill="#e5e7eb"/><path d="M4 18l5-6 3 3 3-4 5 7z" ' +
    'fill="#9ca3af"/></svg>',
);

/** Elements kept: text formatting, lists, tables, images and links. */
const ALLOWED_TAGS = [
  "a",
  "abbr",
  "address",
  "article",
  "aside",
  "b",
  "bdi",
  "bdo",
  "big",
  "blockquote",
  "br",
  "caption",
  "center",
  "cite",
  "code",
  "col",
  "colgroup",
  "dd",
  "del",
  "details",
  "dfn",
  "div",
  "dl",
  "dt",
  "em",
  "figcaption",
  "figure",
  "font",
  "footer",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "header",
  "hr",
  "i",
  "img",
  "ins",
  "kbd",
  "li",
  "main",
  "mark",
  "nav",
  "ol",
  "p",
  "pre",
  "q",
  "rp",
  "rt",
  "ruby",
  "s",
  "samp",
  "section",
  "small",
  "span",
  "strike",
  "strong",
  "sub",
  "summary",
  "sup",
  "table",
  "tbody",
  "td",
  "tfoot",
  "th",
  "thead",
  "time",
  "tr",
  "tt",
  "u",
  "ul",
  "var",
  "wbr",
];
const ALLOWED = new Set(ALLOWED_TAGS);

/**
 * Elements dropped with everything inside them: code, style sheets, embedded documents,
 * form controls and foreign content (SVG and MathML, where HTML parsers disagree most).
 */
const DROPPED_WITH_CONTENT = [
  "script",
  "style",
  "template",
  "noscript",
  "noembed",
  "noframes",
  "xmp",
  "plaintext",
  "iframe",
  "frame",
  "frameset",
  "object",
  "embed",
  "applet",
  "svg",
  "math",
  "textarea",
  "select",
  "option",
  "button",
  "title",
  "head",
];

/** Attributes kept, per element; no event handlers, ids, names, classes or data-*. */
const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  "*": ["dir", "lang", "title", "align", "valign", "style", "width", "height", "bgcolor"],
  a: ["href", "target", "rel"],
  img: ["src", "srcset", "alt", "border", "hspace", "vspace"],
  font: ["color", "face", "size"],
  table: ["border", "cellpadding", "cellspacing", "background", "summary"],
  tr: ["background"],
  td: ["colspan", "rowspan", "background", "nowrap", "scope"],
  th: ["colspan", "rowspan", "background", "nowrap", "scope"],
  col: ["span"],
  colgroup: ["span"],
  ol: ["start", "type", "reversed"],
  ul: ["type"],
  li: ["value"],
  time: ["datetime"],
  details: ["open"],
};

// Building blocks of the style patterns; each pattern below is anchored at both ends.
const NUM = String.raw`-?(?:\d{1,6}|\d{0,6}\.\d{1,6})`;
const LEN = String.raw`(?:${NUM}(?:px|pt|pc|em|rem|ex|ch|%|vw|vh|cm|mm|in)?|auto)`;
const COLOR = String.raw`(?:#[0-9a-f]{3,8}|[a-z]{3,20}|(?:rgb|hsl)a?\([0-9.,%\s/deg]{1,60}\))`;
const BORDER_STYLE = "(?:none|hidden|solid|dashed|dotted|double|groove|ridge|inset|outset)";

function exact(source: string): RegExp {
  return new RegExp(`^(?:${source})$`, "i");
}

function words(...values: string[]): RegExp {
  return exact(values.join("|"));
}

const LENGTH = exact(LEN);
const LENGTHS = exact(`${LEN}(?:\\s+${LEN}){0,3}`);
const COLOUR = exact(COLOR);
const BORDER = exact(
  `(?:${LEN}|${BORDER_STYLE}|${COLOR})(?:\\s+(?:${LEN}|${BORDER_STYLE}|${COLOR})){0,2}`,
);

/** Inline style properties kept and the values each may take (sanitize-html parses with postcss). */
const ALLOWED_STYLES: Record<string, RegExp[]> = {
  color: [COLOUR],
  "background-color": [COLOUR],
  background: [COLOUR], // a colour only: no url()
  "font-family": [/^[a-z0-9 ,'"_-]{1,200}$/i],
  "font-size": [
    LENGTH,
    words(
      "xx-small",
      "x-small",
      "small",
      "medium",
      "large",
      "x-large",
      "xx-large",
      "smaller",
      "larger",
    ),
  ],
  "font-weight": [words("normal", "bold", "bolder", "lighter", "[1-9]00")],
  "font-style": [words("normal", "italic", "oblique")],
  "font-variant": [words("normal", "small-caps")],
  "text-align": [words("left", "right", "center", "justify", "start", "end")],
  "text-decoration": [words("none", "underline", "overline", "line-through")],
  "text-transform": [words("none", "uppercase", "lowercase", "capitalize")],
  "text-indent": [LENGTH],
  "letter-spacing": [LENGTH, words("normal")],
  "line-height": [LENGTH, words("normal")],
  "vertical-align": [
    LENGTH,
    words("baseline", "top", "middle", "bottom", "text-top", "text-bottom", "sub", "super"),
  ],
  "white-space": [words("normal", "nowrap", "pre", "pre-wrap", "pre-line", "break-spaces")],
  "word-wrap": [words("normal", "break-word", "anywhere")],
  "overflow-wrap": [words("normal", "break-word", "anywhere")],
  "word-break": [words("normal", "break-all", "keep-all", "break-word")],
  display: [
    words(
      "none",
      "block",
      "inline",
      "inline-block",
      "table",
      "table-row",
      "table-cell",
      "list-item",
    ),
  ],
  direction: [words("ltr", "rtl")],
  float: [words("left", "right", "none")],
  clear: [words("left", "right", "both", "none")],
  "list-style-type": [/^[a-z-]{1,30}$/i],
  "table-layout": [words("auto", "fixed")],
  "border-collapse": [words("collapse", "separate")],
  "border-spacing": [LENGTHS],
  "border-radius": [LENGTHS],
  border: [BORDER],
  "border-top": [BORDER],
  "border-right": [BORDER],
  "border-bottom": [BORDER],
  "border-left": [BORDER],
  "border-color": [exact(`${COLOR}(?:\\s+${COLOR}){0,3}`)],
  "border-style": [exact(`${BORDER_STYLE}(?:\\s+${BORDER_STYLE}){0,3}`)],
  "border-width": [LENGTHS],
  width: [LENGTH],
  height: [LENGTH],
  "min-width": [LENGTH],
  "max-width": [LENGTH],
  "min-height": [LENGTH],
  "max-height": [LENGTH],
};
for (const side of ["", "-top", "-right", "-bottom", "-left"]) {
  ALLOWED_STYLES[`margin${side}`] = [side === "" ? LENGTHS : LENGTH];
  ALLOWED_STYLES[`padding${side}`] = [side === "" ? LENGTHS : LENGTH];
}

/** A `url(` with a remote target in a style attribute: a background image, never loaded. */
const CSS_REMOTE_URL = /url\s*\(\s*['"]?\s*(?:https?:|\/\/)/i;

type Attributes = Record<string, string>;

/** The per-call state of one sanitisation: the options and the count of blocked resources. */
class Rewriter {
  blocked = 0;
  constructor(private readonly options: SanitizeOptions) {}

  /** Rewrites one element's attributes (sanitize-html's `transformTags["*"]`). */
  transform(tagName: string, attribs: Attributes): { tagName: string; attribs: Attributes } {
    if (!ALLOWED.has(tagName)) return { tagName, attribs }; // dropped whole; nothing to count
    const out: Attributes = { ...attribs };
    const style = out.style;
    if (style !== undefined && CSS_REMOTE_URL.test(style) && !this.options.allowRemote) {
      this.blocked++; // the declaration is dropped by the style allow-list in any case
    }
    if (out.background !== undefined) this.background(out);
    if (tagName === "a") this.link(out);
    if (tagName === "img") this.image(out);
    // One attribute order whatever the input's, so that sanitising is idempotent.
    const sorted = Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { tagName, attribs: Object.fromEntries(sorted) };
  }

  /** Links: http, https and mailto only, opened in a new context without opener or referrer. */
  private link(out: Attributes): void {
    const target = out.href === undefined ? null : classifyUrl(out.href);
    delete out.href;
    delete out.target;
    delete out.rel;
    if (target === null || (target.kind !== "web" && target.kind !== "mailto")) return;
    out.href = target.href;
    out.title = target.href; // the real target, whatever the link's text says
    out.target = "_blank";
    out.rel = "noopener noreferrer";
  }

  /** `<img src srcset>`: remote ones blocked unless allowed, cid: mapped, safe data: kept. */
  private image(out: Attributes): void {
    const srcset = out.srcset;
    delete out.srcset;
    if (srcset !== undefined && /(?:https?:|\/\/)/i.test(srcset)) {
      if (this.options.allowRemote) {
        const kept = webSrcset(srcset);
        if (kept !== "") out.srcset = kept;
      } else this.blocked++;
    }
    const source = out.src === undefined ? null : classifyUrl(out.src);
    delete out.src;
    if (source === null) {
      if (srcset !== undefined && out.srcset === undefined) out.src = BLOCKED_IMAGE;
      return;
    }
    if (source.kind === "web") {
      if (this.options.allowRemote) out.src = source.href;
      else {
        this.blocked++;
        out.src = BLOCKED_IMAGE;
        out.title = "Remote image blocked";
      }
    } else if (source.kind === "cid") {
      const mapped = this.options.cidUrl?.(source.href) ?? null;
      out.src = mapped ?? BLOCKED_IMAGE;
    } else if (source.kind === "image-data") out.src = source.href;
    else out.src = BLOCKED_IMAGE;
  }

  /** The `background` attribute of tables and cells: a remote image like any other. */
  private background(out: Attributes): void {
    const source = classifyUrl(out.background ?? "");
    delete out.background;
    if (source.kind === "web") {
      if (this.options.allowRemote) out.background = source.href;
      else this.blocked++;
    } else if (source.kind === "cid") {
      const mapped = this.options.cidUrl?.(source.href) ?? null;
      if (mapped !== null) out.background = mapped;
    } else if (source.kind === "image-data") out.background = source.href;
  }
}

/**
 * The candidates of a `srcset` (HTML Living Standard §4.8.4.2.1) whose URL is a web URL
 * (absolute http or https, src/web/render/url.ts), rebuilt as `URL descriptor`: a relative URL
 * (which would load from our own origin), any other scheme, a URL with a comma (ambiguous) and
 * a malformed descriptor are left out. The result is well-formed, so sanitize-html's parser
 * never logs about it (it would write the message's text to our stderr). "" when none is left.
 */
export function webSrcset(srcset: string): string {
  const kept: string[] = [];
  for (const candidate of srcset.split(/,(?=\s)|,$/)) {
    const match = /^\s*(\S+?)(?:\s+(\d+w|\d+(?:\.\d+)?x))?\s*$/.exec(candidate);
    if (match === null) continue;
    const target = classifyUrl(match[1]!);
    if (target.kind !== "web" || target.href.includes(",")) continue;
    kept.push(match[2] === undefined ? target.href : `${target.href} ${match[2]}`);
  }
  return kept.join(", ");
}

/**
 * Sanitises a message's HTML for display in a sandboxed frame (see mod.ts for the whole
 * security model).
 *
 * @example
 * ```ts
 * sanitizeMessageHtml('<img src="https://t.example/p.gif" onerror="alert(1)">', { allowRemote: false });
 * // { html: '<img src="data:image/svg+xml,…" title="Remote image blocked" />', remoteBlocked: 1 }
 * ```
 */
export function sanitizeMessageHtml(html: string, options: SanitizeOptions): SanitizedHtml {
  const rewriter = new Rewriter(options);
  const out = sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: ALLOWED_ATTRIBUTES,
    allowedStyles: { "*": ALLOWED_STYLES },
    parseStyleAttributes: true,
    allowedSchemes: ["http", "https", "mailto"],
    allowedSchemesByTag: Object.fromEntries(
      ["img", "table", "tr", "td", "th"].map((tag) => [tag, ["http", "https", "data"]]),
    ),
    allowedSchemesAppliedToAttributes: ["href", "src", "cite", "background"],
    allowProtocolRelative: false,
    allowVulnerableTags: false,
    disallowedTagsMode: "discard",
    nonTextTags: DROPPED_WITH_CONTENT,
    enforceHtmlBoundary: false,
    nestingLimit: 200,
    parser: { lowerCaseTags: true, lowerCaseAttributeNames: true, decodeEntities: true },
    transformTags: { "*": (tagName, attribs) => rewriter.transform(tagName, attribs) },
  });
  return { html: out, remoteBlocked: rewriter.blocked };
}
