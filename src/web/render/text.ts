/**
 * Plain text and HTML as each other: a text part shown as safe HTML with its links made
 * clickable (RFC 3676 format=flowed lines joined), and the readable text of an HTML part for
 * snippets and replies.
 *
 * @module
 */

import { Parser } from "htmlparser2";
import { classifyUrl } from "./url.ts";

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Removes what makes display text deceive or break a line: C0 and C1 controls (tab and line
 * breaks kept when `multiline`) and the Unicode bidirectional embedding, override and isolate
 * controls (U+202A–U+202E, U+2066–U+2069), with which a name or file name can show its
 * characters in another order than they are (`invoice\u202Efdp.exe`).
 */
export function displaySafe(text: string, multiline = false): string {
  const cleaned = text.replace(/[\u202a-\u202e\u2066-\u2069\u200e\u200f\ufeff]/g, "");
  return multiline
    // deno-lint-ignore no-control-regex
    ? cleaned.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g, "")
    // deno-lint-ignore no-control-regex
    : cleaned.replace(/[\x00-\x1f\x7f-\x9f]+/g, " ");
}

/** RFC 3676 parameters of a text/plain part. */
export interface Flowed {
  /** RFC 3676 §4.2: delsp=yes, the space before a soft line break is not part of the text. */
  delSp: boolean;
}

/**
 * Joins the lines of a format=flowed text (RFC 3676 §4): a line ending in a space continues
 * on the next line of the same quote depth; space-stuffing (§4.4) is removed; the signature
 * separator `-- ` (§4.3) is never flowed.
 */
export function unflow(text: string, options: Flowed): string {
  const out: string[] = [];
  let current: string | null = null;
  let currentDepth = -1;
  for (const line of text.split(/\r?\n/)) {
    let depth = 0;
    while (line[depth] === ">") depth++; // RFC 3676 §4.5: quote depth
    let content = line.slice(depth);
    if (content.startsWith(" ")) content = content.slice(1); // §4.4 space-stuffing
    const soft = content.endsWith(" ") && content !== "-- ";
    if (current !== null && depth === currentDepth) current += content;
    else {
      if (current !== null) out.push(quotePrefix(currentDepth) + current);
      current = content;
      currentDepth = depth;
    }
    if (soft) {
      if (options.delSp) current = current.slice(0, -1); // §4.2 delsp=yes
      continue;
    }
    out.push(quotePrefix(currentDepth) + current);
    current = null;
  }
  if (current !== null) out.push(quotePrefix(currentDepth) + current);
  return out.join("\n");
}

function quotePrefix(depth: number): string {
  return depth > 0 ? ">".repeat(depth) + " " : "";
}

/** URLs and addresses in plain text; trailing punctuation is trimmed off afterwards. */
const LINKABLE =
  /\b(?:https?:\/\/|www\.)[^\s<>"'`]+|\b[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})+\b/gi;
const TRAILING = /[.,;:!?'")\]}>]+$/;

/** The link for a piece of text found by {@link LINKABLE}, or null when it makes no safe URL. */
function linkFor(found: string): { text: string; href: string } | null {
  let text = found.replace(TRAILING, "");
  // Keep a closing parenthesis that closes one inside the URL (Wikipedia-style links).
  const rest = found.slice(text.length);
  if (rest.startsWith(")") && text.includes("(")) text += ")";
  const candidate = /^www\./i.test(text)
    ? "https://" + text
    : text.includes("://")
    ? text
    : "mailto:" + text;
  const url = classifyUrl(candidate);
  return url.kind === "web" || url.kind === "mailto" ? { text, href: url.href } : null;
}

/**
 * Plain text as HTML: escaped, line breaks and spacing kept (`white-space: pre-wrap`), and
 * http, https, `www.` and e-mail addresses turned into links. The caller still passes the
 * result through the sanitiser, which adds the link attributes.
 *
 * @example
 * ```ts
 * textToHtml("See <https://example.com/a>.");
 * // '<div style="white-space: pre-wrap; overflow-wrap: break-word">See &#60;<a href="https://example.com/a">https://example.com/a</a>&#62;.</div>'
 * ```
 */
export function textToHtml(text: string): string {
  let html = "";
  let last = 0;
  for (const match of text.matchAll(LINKABLE)) {
    const link = linkFor(match[0]);
    if (link === null) continue;
    html += escapeHtml(text.slice(last, match.index));
    html += `<a href="${escapeHtml(link.href)}">${escapeHtml(link.text)}</a>`;
    last = match.index + link.text.length;
  }
  html += escapeHtml(text.slice(last));
  return `<div style="white-space: pre-wrap; overflow-wrap: break-word">${html}</div>`;
}

/** Elements whose content is not text a reader sees. */
const HIDDEN = new Set([
  "script",
  "style",
  "head",
  "title",
  "template",
  "noscript",
  "svg",
  "math",
  "iframe",
  "object",
  "textarea",
  "select",
]);
/** Elements that start a new line of text. */
const BLOCK = new Set([
  "p",
  "div",
  "br",
  "tr",
  "li",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "table",
  "blockquote",
  "pre",
  "hr",
  "section",
  "article",
  "header",
  "footer",
  "dt",
  "dd",
]);

/**
 * The text a reader sees in an HTML document, with character references decoded, a line
 * break between block elements, and runs of white space (and of line breaks) collapsed. For snippets and for
 * quoting in replies, not for display as HTML (the result is text and needs escaping).
 */
export function htmlToText(html: string): string {
  const chunks: string[] = [];
  let hidden = 0;
  const parser = new Parser({
    onopentag(name) {
      if (HIDDEN.has(name)) hidden++;
      else if (BLOCK.has(name)) chunks.push("\n");
    },
    onclosetag(name) {
      if (HIDDEN.has(name)) hidden = Math.max(0, hidden - 1);
      else if (BLOCK.has(name)) chunks.push("\n");
    },
    ontext(text) {
      if (hidden === 0) chunks.push(text);
    },
  }, { decodeEntities: true, lowerCaseTags: true });
  parser.write(html);
  parser.end();
  return chunks.join("")
    .replace(/[ \t\f\v\u00a0\r]+/g, " ")
    .replace(/ *\n[ \n]*/g, "\n")
    .trim();
}
