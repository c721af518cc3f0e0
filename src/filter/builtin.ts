/**
 * Built-in checks: the declared message size, the number of recipients, the syntax of the
 * header section, and the attachments of submitted mail. Each is pure, fast and cannot fail, so the default `open` policy is moot.
 *
 * @module
 */

import { type BodyPart, getParam, parseStructure } from "../mime/mod.ts";
import type { Check, FilterContext } from "./chain.ts";
import { ACCEPT, reject, tempfail, type Verdict } from "./verdict.ts";

/**
 * Refuses a transaction whose MAIL SIZE= (RFC 1870) is over `maxSize` octets, before any data
 * is sent: 552 5.3.4 (RFC 1870 §6). The actual size is the DATA receiver's to enforce.
 *
 * @throws {RangeError} when `maxSize` is not a whole number of octets.
 */
export function sizeCheck(maxSize: number): Check {
  if (!Number.isSafeInteger(maxSize) || maxSize < 0) {
    throw new RangeError(`maxSize must be a whole number of octets, got ${maxSize}`);
  }
  return {
    name: "size",
    stages: ["mail"],
    run(context: FilterContext): Verdict {
      // RFC 1870 §6: a declared size above the fixed maximum gets 552 at MAIL.
      if (context.declaredSize !== null && context.declaredSize > maxSize) {
        return reject(552, "5.3.4", "Message size exceeds fixed maximum message size");
      }
      return ACCEPT;
    },
  };
}

/**
 * Refuses recipients beyond the first `max` of a transaction: 452 4.5.3 (RFC 5321 §4.5.3.1.10,
 * RFC 3463 §3.6), so the client sends the rest in another transaction.
 *
 * @throws {RangeError} when `max` is not a whole number of at least 1.
 */
export function recipientLimit(max: number): Check {
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new RangeError(`The recipient limit must be a whole number of at least 1, got ${max}`);
  }
  return {
    name: "recipient-limit",
    stages: ["rcpt"],
    run(context: FilterContext): Verdict {
      if (context.recipients.length >= max) {
        return tempfail(452, "4.5.3", "Too many recipients");
      }
      return ACCEPT;
    },
  };
}

/** RFC 5322 §3.6: the fields a message may have at most once. */
const SINGLETONS = new Set([
  "from",
  "sender",
  "date",
  "subject",
  "message-id",
  "to",
  "cc",
  "reply-to",
  "in-reply-to",
  "references",
]);
const LONGEST_SINGLETON = Math.max(...[...SINGLETONS].map((name) => name.length));

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

/** A header section's first problem, as reply text, or null. */
export function headerProblem(header: Uint8Array): string | null {
  const counts = new Map<string, number>();
  let pos = 0;
  let first = true;
  while (pos < header.length) {
    const lf = header.indexOf(LF, pos);
    const lineEnd = lf === -1 ? header.length : lf;
    const end = lineEnd > pos && header[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    if (end === pos) break; // RFC 5322 §2.1: the empty line ends the header section
    const lead = header[pos];
    if (lead === SP || lead === TAB) {
      // RFC 5322 §2.2.3: a folded line continues a field; there must be one to continue.
      if (first) return "Message header starts with a continuation line";
    } else {
      const nameEnd = fieldNameEnd(header, pos, end);
      if (nameEnd === null) return "Message header has a line that is not a header field";
      // Only names as short as a singleton's are worth decoding.
      const name = nameEnd - pos <= LONGEST_SINGLETON
        ? String.fromCharCode(...header.subarray(pos, nameEnd))
        : null;
      const key = name?.toLowerCase();
      if (name && key && SINGLETONS.has(key)) {
        const seen = (counts.get(key) ?? 0) + 1;
        counts.set(key, seen);
        // RFC 5322 §3.6: these fields occur at most once.
        if (seen > 1) return `Message header has more than one ${name} field`;
      }
    }
    first = false;
    pos = lf === -1 ? header.length : lf + 1;
  }
  return null;
}

/** Where the field name of a line `name *WSP ":" …` ends, or null when it is not a field. */
function fieldNameEnd(line: Uint8Array, pos: number, end: number): number | null {
  let nameEnd = pos;
  // RFC 5322 §3.6.8: field-name = 1*ftext, ftext = %d33-57 / %d59-126.
  while (nameEnd < end && line[nameEnd]! >= 33 && line[nameEnd]! <= 126) {
    if (line[nameEnd] === COLON) break;
    nameEnd++;
  }
  let colon = nameEnd;
  // RFC 5322 §4.5: obsolete white space between the name and the colon.
  while (colon < end && (line[colon] === SP || line[colon] === TAB)) colon++;
  if (nameEnd === pos || line[colon] !== COLON || colon >= end) return null;
  return nameEnd;
}

/**
 * Refuses a message whose header section is not made of RFC 5322 header fields, or repeats a
 * field that may occur once (RFC 5322 §3.6): 554 5.6.0. The text names the problem, never the
 * message's content.
 */
export function headerSyntax(): Check {
  return {
    name: "header-syntax",
    stages: ["data"],
    run(context: FilterContext): Verdict {
      if (context.message === null) return ACCEPT;
      const problem = headerProblem(context.message.header);
      return problem === null ? ACCEPT : reject(554, "5.6.0", problem);
    },
  };
}

/** Limits on the attachments of submitted mail (0: none). */
export interface AttachmentLimits {
  /** Largest attachment, decoded, in octets. */
  readonly maxSize: number;
  /** Most attachments in one message. */
  readonly maxCount: number;
}

/**
 * Sending limits on attachments (signed-in users only: what our users send, not what they
 * receive): more than `maxCount` attachments, or one larger than `maxSize` once decoded, is
 * refused with 552 5.3.4 (RFC 3463 §3.4: too big for policy), so the user sees it at once.
 * An attachment is a leaf part that is not text, or has Content-Disposition attachment or a
 * file name (RFC 2183 filename, or the older Content-Type name), also inside a forwarded
 * message; base64 is counted at three quarters of its size.
 */
export function attachmentPolicy(limits: AttachmentLimits): Check {
  return {
    name: "attachments",
    stages: ["data"],
    run(context: FilterContext): Verdict {
      if (context.account === null || context.message === null) return ACCEPT;
      if (limits.maxSize === 0 && limits.maxCount === 0) return ACCEPT;
      const attachments = attachmentSizes(parseStructure(context.message.raw));
      if (limits.maxCount > 0 && attachments.length > limits.maxCount) {
        return reject(552, "5.3.4", `Too many attachments: at most ${limits.maxCount}`);
      }
      const largest = Math.max(0, ...attachments);
      if (limits.maxSize > 0 && largest > limits.maxSize) {
        return reject(552, "5.3.4", `An attachment is larger than ${limits.maxSize} octets`);
      }
      return ACCEPT;
    },
  };
}

/** The decoded sizes of a message's attachments. */
function attachmentSizes(root: BodyPart): number[] {
  const sizes: number[] = [];
  const walk = (part: BodyPart) => {
    if (part.parts !== undefined) {
      for (const child of part.parts) walk(child);
      return;
    }
    // A forwarded message's own attachments count too.
    if (part.message !== undefined) {
      walk(part.message.body);
      return;
    }
    const named = getParam(part.disposition?.params ?? [], "filename") !== null ||
      getParam(part.params, "name") !== null;
    // Anything that is not text is a file, however it is labelled (inline, no disposition).
    if (part.disposition?.type !== "attachment" && !named && part.type === "text") return;
    sizes.push(part.encoding === "base64" ? Math.floor(part.size * 3 / 4) : part.size);
  };
  walk(root);
  return sizes;
}
