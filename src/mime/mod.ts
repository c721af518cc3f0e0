/**
 * Fumi's MIME reader: header sections, RFC 2047 encoded-words, RFC 2231 parameters,
 * address lists, the IMAP ENVELOPE, dates, and the MIME tree with byte offsets. It feeds the
 * per-message cache that IMAP (FETCH ENVELOPE, BODYSTRUCTURE, BODY[section]) and the webmail
 * read.
 *
 * Invariants, relied on by callers and checked by property tests:
 *
 * - Pure: bytes in, values out. No `Deno.*`, no `node:*`, no timers, no I/O, no clock.
 * - Never throws, whatever the input bytes: messages are hostile. Malformed input gives a
 *   best-effort value (defaults of RFC 2045 §5.2, skipped lines, text left as written).
 * - Bounded work, linear in the input: header fields ({@link MAX_HEADER_FIELDS}), parameters
 *   ({@link MAX_PARAMS}), addresses ({@link MAX_ADDRESSES}), charset names probed per
 *   decoded text (16), MIME nesting depth and part count ({@link DEFAULT_LIMITS}) are
 *   capped; a MIME parse makes at most about `maxDepth` passes over the input. Parts beyond
 *   the bounds become opaque application/octet-stream leaves.
 * - Offsets are always within the input: for every {@link BodyPart},
 *   `0 <= headerStart <= bodyStart <= end <= raw.length`, and children lie inside their
 *   parent's body, so slicing the stored bytes with them is always safe.
 *
 * Line ends: stored messages are read liberally, CRLF or bare LF. Header values are
 * UTF-8 when valid (RFC 6532), else Latin-1, so any byte maps to some character.
 *
 * Security model: the values returned are untrusted text. Decoded strings (subjects, names,
 * parameters) may hold any Unicode, including controls; callers escape them for their
 * output (IMAP quoting, HTML), and only {@link summarize} strips controls for display.
 *
 * @example
 * ```ts
 * import { parseHeader, parseStructure, summarize } from "./mod.ts";
 *
 * const raw = new TextEncoder().encode("Subject: =?utf-8?q?Caf=C3=A9?=\r\n\r\nhi\r\n");
 * summarize(parseHeader(raw)).subject; // "Café"
 * parseStructure(raw).size; // 4
 * ```
 *
 * @module
 */

export {
  getField,
  getFields,
  type HeaderBlock,
  type HeaderField,
  MAX_HEADER_FIELDS,
  parseHeader,
} from "./headers.ts";
export {
  combineRfc2231Params,
  decodeBase64,
  decodeEncodedWords,
  decodeExtendedValue,
  decodeQ,
} from "./encoded_words.ts";
export {
  type ContentType,
  type Disposition,
  getParam,
  MAX_PARAMS,
  parseContentType,
  parseDisposition,
  parseEncoding,
  parseLanguage,
  parseParams,
} from "./content_type.ts";
export {
  type AddressItem,
  decodedName,
  isGroupEnd,
  isGroupStart,
  MAX_ADDRESSES,
  parseAddressList,
} from "./address_list.ts";
export { parseDate } from "./date.ts";
export { decodeCharset, isUtf8, latin1 } from "./_text.ts";
export { decodedSize, decodeTransfer } from "./transfer.ts";
export {
  addressDisplay,
  buildEnvelope,
  type Envelope,
  type MessageSummary,
  summarize,
} from "./envelope.ts";
export {
  type BodyPart,
  DEFAULT_LIMITS,
  parseStructure,
  type StructureLimits,
} from "./structure.ts";
