/**
 * The MIME tree of a message (RFC 2045, RFC 2046) with byte offsets, so IMAP can serve
 * BODYSTRUCTURE, BODY[HEADER], BODY[1.2] and BODY[1.2.MIME] without parsing again.
 *
 * Work is bounded: nesting deeper than `maxDepth` or parts beyond `maxParts` are not
 * descended into; such a multipart/* or message/* part becomes an opaque
 * application/octet-stream leaf. Each multipart scans its own range once, so the total work
 * is at most `maxDepth` passes over the input.
 *
 * @module
 */

import { clampOffset, getField, type HeaderBlock, parseHeader } from "./headers.ts";
import { textToBytes } from "./_text.ts";
import {
  type Disposition,
  getParam,
  parseContentType,
  parseDisposition,
  parseEncoding,
  parseLanguage,
} from "./content_type.ts";
import { buildEnvelope, type Envelope } from "./envelope.ts";

/** One node of the MIME tree. Offsets index the bytes given to {@link parseStructure}. */
export interface BodyPart {
  /** Media type, lowercased (default "text", RFC 2045 §5.2). */
  type: string;
  /** Media subtype, lowercased (default "plain"). */
  subtype: string;
  /** Content-Type parameters, names lowercased, RFC 2231 decoded. */
  params: [string, string][];
  /** Content-ID (RFC 2045 §7), raw. */
  id: string | null;
  /** Content-Description (RFC 2045 §8), raw (may hold RFC 2047 words). */
  description: string | null;
  /** Content-Transfer-Encoding, lowercased (default "7bit", RFC 2045 §6.1). */
  encoding: string;
  /** Content-MD5 (RFC 1864), raw. */
  md5: string | null;
  /** Content-Disposition (RFC 2183). */
  disposition: Disposition | null;
  /** Content-Language tags (RFC 3282). */
  language: string[] | null;
  /** Content-Location (RFC 2557), raw. */
  location: string | null;
  /** Offset of the part's header (its MIME header; the message header at the root). */
  headerStart: number;
  /** Offset of the part's body, after the empty line ending the header. */
  bodyStart: number;
  /** Offset after the body; the line break before a boundary is not part of it. */
  end: number;
  /** Body octets: `end - bodyStart`. */
  size: number;
  /** Body lines for text/* and message/rfc822 (a last line without line end counts); else null. */
  lines: number | null;
  /** Children of a multipart/* part; always at least one. */
  parts?: BodyPart[];
  /** The encapsulated message of a message/rfc822 or message/global part. */
  message?: { envelope: Envelope; body: BodyPart };
}

/** Bounds on the work {@link parseStructure} does. */
export interface StructureLimits {
  /** Deepest nesting descended into; a container at this depth is an opaque leaf. */
  maxDepth: number;
  /** Most parts in the whole tree, the root included. */
  maxParts: number;
}

/** The default bounds: 32 levels, 1000 parts. */
export const DEFAULT_LIMITS: Readonly<StructureLimits> = Object.freeze({
  maxDepth: 32,
  maxParts: 1000,
});

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

interface Context {
  raw: Uint8Array;
  parts: number;
  maxDepth: number;
  maxParts: number;
}

/**
 * Parses the MIME structure of a whole message. Never throws; for every part
 * `headerStart <= bodyStart <= end <= raw.length`, and children lie within their parent's
 * body.
 *
 * @example
 * ```ts
 * const root = parseStructure(new TextEncoder().encode("Subject: x\r\n\r\nhello\r\n"));
 * root.type; // "text"
 * root.lines; // 1
 * ```
 */
export function parseStructure(raw: Uint8Array, limits: Partial<StructureLimits> = {}): BodyPart {
  const ctx: Context = {
    raw,
    parts: 1,
    maxDepth: clampOffset(limits.maxDepth ?? DEFAULT_LIMITS.maxDepth, 0, 1000),
    maxParts: clampOffset(limits.maxParts ?? DEFAULT_LIMITS.maxParts, 1, 1_000_000),
  };
  return buildPart(ctx, parseHeader(raw), 0, raw.length, 0, false);
}

/** True when another part fits within the budget and below the depth bound. */
function canDescend(ctx: Context, depth: number): boolean {
  return depth < ctx.maxDepth && ctx.parts < ctx.maxParts;
}

function trimmed(block: HeaderBlock, name: string): string | null {
  const value = getField(block, name);
  return value === null ? null : value.trim();
}

function buildPart(
  ctx: Context,
  header: HeaderBlock,
  start: number,
  end: number,
  depth: number,
  inDigest: boolean,
): BodyPart {
  const ctValue = getField(header, "content-type");
  const ct = (ctValue === null ? null : parseContentType(ctValue)) ??
    // RFC 2046 §5.1.5: in a digest the default is message/rfc822; elsewhere RFC 2045 §5.2
    // text/plain; charset=us-ascii, also for an invalid Content-Type.
    (inDigest
      ? { type: "message", subtype: "rfc822", params: [] }
      : { type: "text", subtype: "plain", params: [] });
  const encodingValue = getField(header, "content-transfer-encoding");
  const dispositionValue = getField(header, "content-disposition");
  const languageValue = getField(header, "content-language");
  const part: BodyPart = {
    type: ct.type,
    subtype: ct.subtype,
    params: ct.params,
    id: trimmed(header, "content-id"),
    description: trimmed(header, "content-description"),
    encoding: (encodingValue === null ? null : parseEncoding(encodingValue)) ?? "7bit", // RFC 2045 §6.1
    md5: trimmed(header, "content-md5"),
    disposition: dispositionValue === null ? null : parseDisposition(dispositionValue),
    language: languageValue === null ? null : parseLanguage(languageValue),
    location: trimmed(header, "content-location"),
    headerStart: start,
    bodyStart: header.bodyStart,
    end,
    size: end - header.bodyStart,
    lines: null,
  };
  if (part.type === "multipart") {
    const boundary = getParam(part.params, "boundary");
    if (!canDescend(ctx, depth)) opaque(part);
    else {
      const children = boundary === null || boundary === ""
        ? []
        : splitMultipart(ctx, part, boundary, depth + 1, part.subtype === "digest");
      if (children.length === 0) { // IMAP needs a child: one empty text/plain, as servers do
        ctx.parts++;
        children.push(emptyPart(part.bodyStart));
      }
      part.parts = children;
    }
  } else if (part.type === "message" && (part.subtype === "rfc822" || part.subtype === "global")) {
    // RFC 2046 §5.2.1 message/rfc822, RFC 6532 §3.5 message/global: the body is a message.
    if (!canDescend(ctx, depth)) opaque(part);
    else {
      ctx.parts++;
      const inner = parseHeader(ctx.raw, part.bodyStart, end);
      const body = buildPart(ctx, inner, part.bodyStart, end, depth + 1, false);
      part.message = { envelope: buildEnvelope(inner), body };
      part.lines = countLines(ctx.raw, part.bodyStart, end);
    }
  }
  if (part.type === "text") {
    // RFC 2046 §4.1.2: without a charset parameter, US-ASCII is assumed.
    if (getParam(part.params, "charset") === null) part.params.push(["charset", "us-ascii"]);
    part.lines = countLines(ctx.raw, part.bodyStart, end);
  }
  return part;
}

/** Turns a container beyond the bounds into a leaf the client can still fetch whole. */
function opaque(part: BodyPart): void {
  part.type = "application";
  part.subtype = "octet-stream";
}

function emptyPart(at: number): BodyPart {
  return {
    type: "text",
    subtype: "plain",
    params: [["charset", "us-ascii"]],
    id: null,
    description: null,
    encoding: "7bit",
    md5: null,
    disposition: null,
    language: null,
    location: null,
    headerStart: at,
    bodyStart: at,
    end: at,
    size: 0,
    lines: 0,
  };
}

/** Counts lines in `raw[from, to)`: line feeds, plus one for a last line without one. */
function countLines(raw: Uint8Array, from: number, to: number): number {
  let lines = 0;
  for (let i = from; i < to; i++) if (raw[i] === LF) lines++;
  return to > from && raw[to - 1] !== LF ? lines + 1 : lines;
}

/** True when `view` holds `delim` at `pos`. */
function matchesAt(view: Uint8Array, pos: number, delim: Uint8Array): boolean {
  if (view.length - pos < delim.length) return false;
  for (let k = 0; k < delim.length; k++) if (view[pos + k] !== delim[k]) return false;
  return true;
}

/**
 * What follows `--boundary` on its line (from `i` to `lineEnd`): 1 for a delimiter, 2 for the
 * close delimiter (`--`), 0 when other text makes it an ordinary line.
 */
function delimiterKind(view: Uint8Array, i: number, lineEnd: number): number {
  let kind = 1;
  if (i + 1 < lineEnd && view[i] === DASH && view[i + 1] === DASH) {
    kind = 2;
    i += 2;
  }
  // RFC 2046 §5.1.1: only transport padding (LWSP) may follow the boundary on its line.
  for (; i < lineEnd; i++) {
    const c = view[i];
    if (c !== 0x20 && c !== 0x09 && c !== CR) return 0;
  }
  return kind;
}

/**
 * Splits a multipart body at its boundary lines (RFC 2046 §5.1.1) and parses each part.
 * The preamble and epilogue are ignored; a missing close delimiter ends the last part at
 * the end of the body.
 */
function splitMultipart(
  ctx: Context,
  parent: BodyPart,
  boundary: string,
  depth: number,
  digest: boolean,
): BodyPart[] {
  const delim = textToBytes("--" + boundary);
  const end = parent.end;
  const view = ctx.raw.subarray(0, end);
  const children: BodyPart[] = [];
  let partStart = -1; // -1 while in the preamble
  let pos = parent.bodyStart;
  while (pos < end) {
    // Only a line start beginning with "--boundary" can be a boundary line, so jump from
    // dash to dash rather than from line to line.
    const at = view.indexOf(DASH, pos);
    if (at === -1) break;
    if ((at !== parent.bodyStart && view[at - 1] !== LF) || !matchesAt(view, at, delim)) {
      pos = at + 1;
      continue;
    }
    const lf = view.indexOf(LF, at + delim.length);
    const lineEnd = lf === -1 ? end : lf;
    const next = lf === -1 ? end : lf + 1;
    const kind = delimiterKind(view, at + delim.length, lineEnd);
    if (kind !== 0) {
      if (partStart >= 0) {
        // RFC 2046 §5.1.1: the line break before a boundary belongs to the boundary.
        let contentEnd = at > partStart ? at - 1 : partStart;
        if (contentEnd > partStart && view[contentEnd - 1] === CR) contentEnd--;
        if (!addChild(ctx, children, partStart, contentEnd, depth, digest)) return children;
      }
      if (kind === 2) return children; // the epilogue is ignored
      partStart = next;
    }
    pos = next;
  }
  if (partStart >= 0) addChild(ctx, children, partStart, end, depth, digest); // no close delimiter
  return children;
}

function addChild(
  ctx: Context,
  children: BodyPart[],
  start: number,
  end: number,
  depth: number,
  digest: boolean,
): boolean {
  if (ctx.parts >= ctx.maxParts) return false;
  ctx.parts++;
  children.push(buildPart(ctx, parseHeader(ctx.raw, start, end), start, end, depth, digest));
  return true;
}
