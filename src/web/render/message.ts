/**
 * A stored message as the webmail shows it: display headers, the text, the sanitised HTML,
 * the attachment list, and a snippet for message lists.
 *
 * @module
 */

import {
  addressDisplay,
  type AddressItem,
  type BodyPart,
  decodeCharset,
  decodeEncodedWords,
  decodeTransfer,
  getField,
  getParam,
  type HeaderBlock,
  isGroupEnd,
  isGroupStart,
  isUtf8,
  latin1,
  parseAddressList,
  parseDate,
  parseHeader,
  parseStructure,
} from "../../mime/mod.ts";
import { inlineImages } from "./inline.ts";
import { type Attachment, messageParts } from "./parts.ts";
import { sanitizeMessageHtml, type SanitizeOptions } from "./sanitize.ts";
import { displaySafe, htmlToText, textToHtml, unflow } from "./text.ts";

/** The header fields a reader shows, decoded and display-safe (no controls, no bidi tricks). */
export interface DisplayHeaders {
  /** From: `Name <address>` for each, joined by ", "; "" when absent. */
  from: string;
  /** To, in the same form. */
  to: string;
  /** Cc, in the same form. */
  cc: string;
  /** The Date field as written (one line), or null when absent. */
  date: string | null;
  /** The Date field in milliseconds since the epoch, or null when absent or unparsable. */
  dateMs: number | null;
  /** The Subject with RFC 2047 words decoded; "" when absent. */
  subject: string;
}

/** A message rendered for reading. */
export interface RenderedMessage {
  headers: DisplayHeaders;
  /** The plain text body (transfer encoding and charset decoded), or null when there is none. */
  text: string | null;
  /** Sanitised HTML: the HTML body, or the text body as HTML; null when the message has neither. */
  html: string | null;
  /** Every part that is not the text or HTML body. */
  attachments: Attachment[];
  /** How many remote resources the sanitiser kept from loading (0 when `allowRemote`). */
  remoteBlocked: number;
  /**
   * True when a body part was too large to sanitise ({@link MAX_SANITISED_BYTES}): `html` is
   * then the text part as HTML, or null.
   */
  tooLarge: boolean;
}

/**
 * The largest body part (encoded octets) given to the sanitiser. Sanitising is synchronous
 * and takes about a second per 4 MiB, during which the process serves nobody: a larger HTML
 * part is not shown (the text part is, when it is small enough), nor is a larger text part
 * turned into HTML.
 */
export const MAX_SANITISED_BYTES = 2 * 1024 * 1024;

/** Options of {@link renderMessage}. */
export interface RenderOptions {
  /** Load remote images (the user allowed them for this message or sender). */
  allowRemote: boolean;
  /**
   * Maps a Content-ID (without angle brackets) to the URL serving that part, or null. By
   * default the message's own raster images are inlined as data: URLs ({@link inlineImages}).
   */
  cidUrl?: (cid: string) => string | null;
}

/** One address as a reader sees it: `Name <mailbox@host>`, or the address alone. */
function addressText(item: AddressItem): string {
  const address = item.mailbox === null
    ? ""
    : item.host === null || item.host === ""
    ? item.mailbox
    : `${item.mailbox}@${item.host}`;
  const shown = addressDisplay(item);
  return shown === address || address === "" ? shown : `${shown} <${address}>`;
}

function addressField(block: HeaderBlock, name: string): string {
  const value = getField(block, name);
  if (value === null) return "";
  const list = parseAddressList(value).filter((a) => !isGroupStart(a) && !isGroupEnd(a));
  return displaySafe(list.map(addressText).filter((s) => s !== "").join(", "));
}

/** The display header fields of a message's header section. */
export function displayHeaders(block: HeaderBlock): DisplayHeaders {
  const subject = getField(block, "subject");
  const date = getField(block, "date");
  return {
    from: addressField(block, "from"),
    to: addressField(block, "to"),
    cc: addressField(block, "cc"),
    date: date === null ? null : displaySafe(date).trim(),
    dateMs: date === null ? null : parseDate(date),
    subject: subject === null ? "" : displaySafe(decodeEncodedWords(subject)).trim(),
  };
}

/**
 * A text part's content as a string: the transfer encoding removed (RFC 2045 §6), then the
 * charset decoded (RFC 2046 §4.1.2). US-ASCII labelled content that is valid UTF-8 is read as
 * UTF-8 (a common mislabel); an unknown charset is read as UTF-8 when valid, else Latin-1.
 * `limit` bounds the encoded octets read (for snippets).
 */
export function partText(raw: Uint8Array, part: BodyPart, limit = Infinity): string {
  const end = Math.min(part.end, part.bodyStart + limit);
  const bytes = decodeTransfer(raw.subarray(part.bodyStart, end), part.encoding);
  const charset = (getParam(part.params, "charset") ?? "us-ascii").trim().toLowerCase();
  if ((charset === "us-ascii" || charset === "ascii") && isUtf8(bytes)) {
    return new TextDecoder().decode(bytes);
  }
  return decodeCharset(bytes, charset) ??
    (isUtf8(bytes) ? new TextDecoder().decode(bytes) : latin1(bytes));
}

/** The text of a text/plain part, with RFC 3676 format=flowed lines joined. */
function plainText(raw: Uint8Array, part: BodyPart, limit = Infinity): string {
  const text = partText(raw, part, limit);
  if (getParam(part.params, "format")?.toLowerCase() !== "flowed") return text;
  return unflow(text, { delSp: getParam(part.params, "delsp")?.toLowerCase() === "yes" });
}

/**
 * Renders a stored message for the webmail. The result's `html` is safe to show only as
 * mod.ts describes: in a sandboxed frame under {@link renderCsp}.
 *
 * @example
 * ```ts
 * const raw = new TextEncoder().encode("Subject: Hi\r\n\r\nSee https://example.com\r\n");
 * renderMessage(raw, { allowRemote: false }).html;
 * // '<div style="white-space:pre-wrap;overflow-wrap:break-word">See <a href="https://example.com/" …>…</a>\n</div>'
 * ```
 */
export function renderMessage(raw: Uint8Array, options: RenderOptions): RenderedMessage {
  const root = parseStructure(raw);
  const parts = messageParts(root, raw);
  const text = parts.text === null ? null : plainText(raw, parts.text.part);
  const sanitize: SanitizeOptions = {
    allowRemote: options.allowRemote,
    cidUrl: options.cidUrl ?? inlineImages(root, raw),
  };
  let html: string | null = null;
  let remoteBlocked = 0;
  const small = (part: BodyPart) => part.end - part.bodyStart <= MAX_SANITISED_BYTES;
  const htmlTooLarge = parts.html !== null && !small(parts.html.part);
  const textTooLarge = parts.text !== null && !small(parts.text.part);
  if (parts.html !== null && !htmlTooLarge) {
    const sanitized = sanitizeMessageHtml(partText(raw, parts.html.part), sanitize);
    html = sanitized.html;
    remoteBlocked = sanitized.remoteBlocked;
  } else if (text !== null && !textTooLarge) {
    html = sanitizeMessageHtml(textToHtml(text), sanitize).html;
  }
  return {
    headers: displayHeaders(parseHeader(raw)),
    text,
    html,
    attachments: parts.attachments,
    remoteBlocked,
    tooLarge: htmlTooLarge || textTooLarge,
  };
}

/** The longest snippet, in characters. */
export const SNIPPET_LENGTH = 140;
/** Encoded octets of a body read for a snippet: a message list never decodes whole bodies. */
const SNIPPET_READ = 16 * 1024;

/**
 * The first readable text of a message, on one line, at most {@link SNIPPET_LENGTH}
 * characters (an ellipsis marks a cut): the text body, else the HTML body's text. Quoted
 * lines (`>`) are left out, so a reply shows what is new.
 */
export function snippet(raw: Uint8Array): string {
  const parts = messageParts(parseStructure(raw), raw);
  let text = "";
  if (parts.text !== null) text = plainText(raw, parts.text.part, SNIPPET_READ);
  else if (parts.html !== null) text = htmlToText(partText(raw, parts.html.part, SNIPPET_READ));
  const lines = text.split(/\r?\n/).filter((line) => !line.trimStart().startsWith(">"));
  const flat = displaySafe(lines.join(" ")).replace(/\s+/g, " ").trim();
  const chars = Array.from(flat); // code points: never half a surrogate pair
  if (chars.length <= SNIPPET_LENGTH) return flat;
  return chars.slice(0, SNIPPET_LENGTH - 1).join("").trimEnd() + "…";
}
