/**
 * The content of BODY[section]<partial> and BINARY[part]<partial> items (RFC 9051 §6.4.5,
 * RFC 3516), from a message's cached MIME tree and its decrypted bytes. Private to FETCH.
 *
 * Choices (RFC 9051 leaves the reply for a missing part to the server):
 * - A section that does not exist (a part beyond the tree, HEADER or TEXT of a part that is
 *   not a message, MIME without a part number) is the empty string `""`: RFC 9051 §6.4.5
 *   and the long-standing practice Mark Crispin describes for RFC 3501 (an empty string, not
 *   NIL and not NO), so a client's FETCH of many messages is not failed by one odd message.
 * - BINARY of a missing part is `""` too, and BINARY.SIZE of it 0.
 * - BINARY[] (no part number) is the whole message as stored: its header still names the
 *   body's encoding, so decoding the body under it would describe bytes that are not there.
 *   BINARY[1] of a single-part message is its decoded body.
 * - A part's content is decoded by the part's own Content-Transfer-Encoding; for multipart
 *   and message parts that is 7bit, 8bit or binary by RFC 2045 §6.4, so they come as stored.
 *
 * @module
 */

import type { BodyPart } from "../../mime/mod.ts";
import {
  type FetchPartial,
  type FetchSection,
  findPart,
  partial,
  sectionBytes,
} from "../proto/mod.ts";
import { decodeTransfer, isIdentityEncoding, isKnownEncoding } from "./_transfer.ts";
import { FumiError } from "../../util/errors.ts";

/**
 * FETCH BINARY or BINARY.SIZE of a part whose Content-Transfer-Encoding the server does not
 * know: the session answers `NO [UNKNOWN-CTE]` (RFC 9051 §6.4.5, §7.1).
 */
export class UnknownCteError extends FumiError {
  /** The encoding as the message names it (lower case). */
  readonly encoding: string;

  constructor(encoding: string) {
    super(`Cannot decode the content transfer encoding "${encoding.slice(0, 40)}"`);
    this.encoding = encoding;
  }
}

const EMPTY = new Uint8Array(0);

/** The bytes of BODY[section], before `<partial>`; empty when the section does not exist. */
export function bodySection(
  raw: Uint8Array,
  root: BodyPart | null,
  section: FetchSection,
): Uint8Array {
  // BODY[] is the whole message: no need for the tree.
  if (section.part.length === 0 && section.text === null) return raw;
  if (root === null) return EMPTY;
  return sectionBytes(raw, root, section) ?? EMPTY;
}

/** Applies a requested `<offset.length>` (RFC 9051 §6.4.5), or returns `bytes` as they are. */
export function applyPartial(bytes: Uint8Array, range: FetchPartial | null): Uint8Array {
  return range === null ? bytes : partial(bytes, range.offset, range.length);
}

/**
 * The part BINARY[part] names, or null when there is none. Throws {@link UnknownCteError}
 * when the part's encoding is not one RFC 2045 defines.
 */
function binaryPart(root: BodyPart, part: readonly number[]): BodyPart | null {
  if (part.length === 0) return null;
  const target = findPart(root, part);
  if (target !== null && !isKnownEncoding(target.encoding)) {
    throw new UnknownCteError(target.encoding); // RFC 9051 §6.4.5: NO [UNKNOWN-CTE]
  }
  return target;
}

/**
 * The decoded content of BINARY[part] (RFC 9051 §6.4.5), before `<partial>`: the whole
 * message for an empty part list, empty for a part that does not exist.
 * @throws {UnknownCteError} when the part's transfer encoding is unknown.
 */
export function binaryContent(
  raw: Uint8Array,
  root: BodyPart,
  part: readonly number[],
): Uint8Array {
  if (part.length === 0) return raw.subarray(root.headerStart, root.end);
  const target = binaryPart(root, part);
  if (target === null) return EMPTY;
  return decodeTransfer(raw.subarray(target.bodyStart, target.end), target.encoding)!;
}

/**
 * Whether BINARY.SIZE[part] can be answered from the tree alone: the part is missing or
 * the whole message, or its encoding leaves the octets as they are.
 * @throws {UnknownCteError} when the part's transfer encoding is unknown.
 */
export function binarySizeNeedsRaw(root: BodyPart, part: readonly number[]): boolean {
  const target = binaryPart(root, part);
  return target !== null && !isIdentityEncoding(target.encoding);
}

/**
 * BINARY.SIZE[part] (RFC 9051 §6.4.5): the size of the decoded content; `raw` may be null
 * when {@link binarySizeNeedsRaw} said so.
 * @throws {UnknownCteError} when the part's transfer encoding is unknown.
 */
export function binarySize(
  raw: Uint8Array | null,
  root: BodyPart,
  part: readonly number[],
): number {
  if (part.length === 0) return root.end - root.headerStart;
  const target = binaryPart(root, part);
  if (target === null) return 0;
  if (isIdentityEncoding(target.encoding) || raw === null) return target.end - target.bodyStart;
  return binaryContent(raw, root, part).length;
}

/** True when `bytes` hold a NUL, which only a literal8 can carry (RFC 9051 §4.3.1). */
export function hasNul(bytes: Uint8Array): boolean {
  return bytes.indexOf(0) !== -1;
}
