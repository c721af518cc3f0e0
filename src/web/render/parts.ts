/**
 * Which parts of a MIME tree are the message's text and HTML, and which are attachments,
 * as mail readers choose them: the richest alternative last (RFC 2046 §5.1.4), the root of a
 * multipart/related first (RFC 2387 §3.2), the first inline text in a multipart/mixed.
 *
 * @module
 */

import {
  type BodyPart,
  decodedSize,
  decodeEncodedWords,
  getField,
  getParam,
  parseHeader,
} from "../../mime/mod.ts";
import { displaySafe } from "./text.ts";

/** A part listed for download. */
export interface Attachment {
  /** The IMAP section number of the part (RFC 9051 §6.4.5): "1", "2.1", … */
  partId: string;
  /** The decoded file name, display-safe and without a path; null when the part names none. */
  filename: string | null;
  /** `type/subtype`, lowercased. */
  contentType: string;
  /** Decoded size in octets. */
  size: number;
  /** "attachment" when the sender asked for it (RFC 2183 §2.2), else "inline". */
  disposition: "attachment" | "inline";
  /** The Content-ID without angle brackets (what `cid:` URLs name, RFC 2392), or null. */
  contentId: string | null;
}

/** A body part chosen for display, with its section number. */
export interface ChosenPart {
  part: BodyPart;
  partId: string;
}

/** The text and HTML bodies of a message and the rest of its parts. */
export interface MessageParts {
  text: ChosenPart | null;
  html: ChosenPart | null;
  attachments: Attachment[];
}

/** The Content-ID a `cid:` URL names: the msg-id without its angle brackets (RFC 2392 §2). */
export function contentId(part: BodyPart): string | null {
  if (part.id === null) return null;
  const id = part.id.trim().replace(/^<|>$/g, "").trim();
  return id === "" ? null : id;
}

/** The last path segment, so `../../etc/passwd` or `C:\x\y.exe` cannot name a directory. */
function baseName(name: string): string {
  const parts = name.split(/[/\\]/);
  return parts[parts.length - 1]!.trim();
}

/**
 * The part's file name: the Content-Disposition `filename` (RFC 2183 §2.3, RFC 2231
 * continuations and charsets already combined by src/mime), else the Content-Type `name`;
 * RFC 2047 words inside it decoded too (not standard there, but what many senders write).
 */
function fileName(part: BodyPart, raw: Uint8Array): string | null {
  const value =
    (part.disposition === null ? null : getParam(part.disposition.params, "filename")) ??
      getParam(part.params, "name");
  if (value !== null) {
    const name = baseName(displaySafe(decodeEncodedWords(value)));
    if (name !== "" && name !== "." && name !== "..") return name;
  }
  if (part.type === "message" && part.message !== undefined) {
    // An attached message: named after its subject, as it would be saved.
    const subject = getField(parseHeader(raw, part.bodyStart, part.end), "subject");
    const base = subject === null ? "" : baseName(displaySafe(decodeEncodedWords(subject)));
    return (base === "" ? "message" : base.slice(0, 100)) + ".eml";
  }
  return null;
}

function attachment(part: BodyPart, partId: string, raw: Uint8Array): Attachment {
  return {
    partId,
    filename: fileName(part, raw),
    contentType: `${part.type}/${part.subtype}`,
    size: decodedSize(raw.subarray(part.bodyStart, part.end), part.encoding),
    disposition: part.disposition?.type === "attachment" ? "attachment" : "inline",
    contentId: contentId(part),
  };
}

/** True for a text/plain or text/html leaf meant to be read in place (RFC 2183 §2.1). */
function isInlineText(part: BodyPart): boolean {
  if (part.type !== "text" || (part.subtype !== "plain" && part.subtype !== "html")) return false;
  if (part.disposition?.type === "attachment") return false;
  const named = getParam(part.params, "name") ??
    (part.disposition === null ? null : getParam(part.disposition.params, "filename"));
  return named === null || part.disposition?.type === "inline";
}

function childId(parentId: string, index: number): string {
  return parentId === "" ? String(index + 1) : `${parentId}.${index + 1}`;
}

function walk(part: BodyPart, partId: string, raw: Uint8Array, into: MessageParts): void {
  const children = part.parts;
  if (part.type === "multipart" && children !== undefined) {
    if (part.subtype === "alternative") {
      // RFC 2046 §5.1.4: alternatives in increasing faithfulness; take the last of each kind.
      const found = children.map((child, i) => {
        const sub: MessageParts = { text: null, html: null, attachments: [] };
        walk(child, childId(partId, i), raw, sub);
        return sub;
      });
      const text = found.findLast((sub) => sub.text !== null) ?? null;
      const html = found.findLast((sub) => sub.html !== null) ?? null;
      if (into.text === null && text !== null) into.text = text.text;
      if (into.html === null && html !== null) into.html = html.html;
      for (const sub of found) {
        // The parts that belong to a shown alternative (a related part's images) are listed;
        // the parts of alternatives not shown are other renderings of the same content.
        if (sub === text || sub === html || (text === null && html === null)) {
          into.attachments.push(...sub.attachments);
        }
      }
      return;
    }
    if (part.subtype === "related" && children.length > 0) {
      // RFC 2387 §3.2: the root is the first part unless `start` names another.
      const start = getParam(part.params, "start");
      let root = start === null ? 0 : children.findIndex((c) => c.id?.trim() === start.trim());
      if (root < 0) root = 0;
      children.forEach((child, i) => {
        if (i === root) walk(child, childId(partId, i), raw, into);
        else into.attachments.push(attachment(child, childId(partId, i), raw));
      });
      return;
    }
    children.forEach((child, i) => walk(child, childId(partId, i), raw, into));
    return;
  }
  const id = partId === "" ? "1" : partId; // RFC 9051 §6.4.5: a single-part message's body is 1
  if (isInlineText(part)) {
    if (part.subtype === "plain" && into.text === null) {
      into.text = { part, partId: id };
      return;
    }
    if (part.subtype === "html" && into.html === null) {
      into.html = { part, partId: id };
      return;
    }
  }
  into.attachments.push(attachment(part, id, raw));
}

/**
 * Chooses the text and HTML bodies of a parsed message and lists every other leaf as an
 * attachment (attached messages are listed whole, not opened).
 */
export function messageParts(root: BodyPart, raw: Uint8Array): MessageParts {
  const parts: MessageParts = { text: null, html: null, attachments: [] };
  walk(root, "", raw, parts);
  return parts;
}
