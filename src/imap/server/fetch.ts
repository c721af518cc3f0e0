/**
 * The FETCH response of one message (RFC 9051 §6.4.5, §7.5.2; RFC 3501 §6.4.5, §7.4.2;
 * RFC 3516 BINARY; RFC 7162 §3.1.4 MODSEQ), as bytes. Pure logic over a {@link FetchSource}:
 * no database and no socket, so every item is tested alone.
 *
 * Invariants:
 * - Lazy: the cached description (`cache()`) is loaded only for ENVELOPE, BODY,
 *   BODYSTRUCTURE and sections that need the MIME tree; the message (`raw()`) only for
 *   section content, and at most once per response however many sections are asked.
 *   FLAGS, UID, MODSEQ, INTERNALDATE and RFC822.SIZE come from the store's row.
 * - Items are answered in the order asked, each once (a repeated item is written once).
 *   UID FETCH adds UID first (RFC 9051 §6.4.9), CONDSTORE adds MODSEQ after it
 *   (RFC 7162 §3.1.4.1, the order of its examples), and a FETCH that just set \Seen adds
 *   FLAGS last (RFC 9051 §6.4.5), unless the client asked for them.
 * - Every value goes through the ResponseWriter, which picks quoted string or literal (and
 *   sends a NUL in BODY[] content as U+FFFD, RFC 9051 §9 CHAR8). BINARY content is always a
 *   literal, a literal8 `~{n}` when it holds NUL (RFC 9051 §4.3.1, RFC 3516 §4.2).
 * - A section or part that does not exist is `""` (BINARY.SIZE 0); see _fetch_body.ts.
 * - INTERNALDATE is written in UTC (`+0000`): the store keeps an instant, not the zone it
 *   was given in.
 * - `rev2` changes nothing here: Fumi keeps no \Recent (RFC 9051 removed it), and BINARY and
 *   the RFC822 items are answered for both IMAP4rev1 and IMAP4rev2.
 *
 * @module
 */

import type { BodyPart } from "../../mime/mod.ts";
import {
  type FetchItem,
  formatDateTime,
  formatFlags,
  ResponseWriter,
  writeBody,
  writeEnvelope,
  writeSection,
} from "../proto/mod.ts";
import type { MessageCache, MessageInfo } from "../../store/mod.ts";
import {
  applyPartial,
  binaryContent,
  binarySize,
  binarySizeNeedsRaw,
  bodySection,
  hasNul,
} from "./_fetch_body.ts";

export { UnknownCteError } from "./_fetch_body.ts";

/** One message as FETCH sees it. */
export interface FetchSource {
  /** The message sequence number in the session. */
  readonly seq: number;
  /** The store's row (flags as stored). */
  readonly info: MessageInfo;
  /** The decrypted cached envelope, summary and MIME structure. */
  cache(): Promise<MessageCache>;
  /** The whole message, decrypted. */
  raw(): Promise<Uint8Array>;
}

/** How the session answers FETCH. */
export interface FetchOptions {
  /** IMAP4rev2 or UTF8=ACCEPT enabled: strings may be UTF-8 (RFC 9051 §9, RFC 6855 §3). */
  readonly utf8: boolean;
  /** UID FETCH: UID is always included (RFC 9051 §6.4.9). */
  readonly uid: boolean;
  /** CONDSTORE active and (CHANGEDSINCE given or MODSEQ asked): include MODSEQ (RFC 7162 §3.1.4.1). */
  readonly modseq: boolean;
  /** IMAP4rev2 semantics; see the module doc (no difference in FETCH today). */
  readonly rev2: boolean;
}

/**
 * True when fetching these items sets \Seen (RFC 9051 §6.4.5): BODY[section] and
 * BINARY[part] without PEEK, RFC822 and RFC822.TEXT. RFC822.HEADER is BODY.PEEK[HEADER].
 *
 * @example
 * ```ts
 * impliesSeen([{ item: "RFC822.HEADER" }]); // false
 * impliesSeen([{ item: "RFC822" }]); // true
 * ```
 */
export function impliesSeen(items: readonly FetchItem[]): boolean {
  return items.some((i) =>
    i.item === "RFC822" || i.item === "RFC822.TEXT" ||
    ((i.item === "BODY[]" || i.item === "BINARY[]") && !i.peek)
  );
}

const SEEN = "\\Seen";
const WHOLE = { part: [], text: null, fields: [] } as const;
const HEADER = { part: [], text: "HEADER", fields: [] } as const;
const TEXT = { part: [], text: "TEXT", fields: [] } as const;

/** What FETCH items need loaded besides the store's row. */
export interface FetchNeeds {
  /** The cached description (envelope, summary, MIME structure). */
  readonly cache: boolean;
  /** The message; see also {@link needsRawFor}. */
  readonly raw: boolean;
}

/**
 * What answering `items` needs loaded, for every message alike: the store's row only, the
 * cached description, or the message. BINARY.SIZE may need the message too, depending on the
 * part's encoding: {@link needsRawFor} tells once the description is known.
 *
 * @example
 * ```ts
 * fetchNeeds([{ item: "FLAGS" }, { item: "ENVELOPE" }]); // { cache: true, raw: false }
 * ```
 */
export function fetchNeeds(items: readonly FetchItem[]): FetchNeeds {
  let cache = false;
  let raw = false;
  for (const item of items) {
    const need = needs(item);
    cache ||= need.cache;
    raw ||= need.raw;
  }
  return { cache, raw };
}

/**
 * True when `items` need the message of one whose MIME structure is `root`: those of
 * {@link fetchNeeds}, and BINARY.SIZE of a base64 or quoted-printable part, whose decoded
 * length only decoding tells (RFC 3516 §4.2).
 */
export function needsRawFor(items: readonly FetchItem[], root: BodyPart | null): boolean {
  if (fetchNeeds(items).raw) return true;
  return root !== null &&
    items.some((i) => i.item === "BINARY.SIZE" && binarySizeNeedsRaw(root, i.part));
}

/** What an item needs loaded: the store's row only, the cached description, or the message. */
function needs(item: FetchItem): FetchNeeds {
  switch (item.item) {
    case "ENVELOPE":
    case "BODY":
    case "BODYSTRUCTURE":
    case "BINARY.SIZE": // and the message for base64 and quoted-printable: decided later
      return { cache: true, raw: false };
    case "RFC822.HEADER":
    case "RFC822.TEXT":
    case "BINARY[]":
      return { cache: true, raw: true };
    case "RFC822":
      return { cache: false, raw: true };
    case "BODY[]": {
      const whole = item.section.part.length === 0 && item.section.text === null;
      return { cache: !whole, raw: true };
    }
    default:
      return { cache: false, raw: false };
  }
}

/** A key naming an item's reply, to write each once. */
function replyKey(item: FetchItem): string {
  switch (item.item) {
    case "BODY[]":
      return `BODY[${item.section.part.join(".")}.${item.section.text}(${
        item.section.fields.join(" ").toLowerCase()
      })]<${item.partial?.offset}.${item.partial?.length}>`;
    case "BINARY[]":
      return `BINARY[${item.part.join(".")}]<${item.partial?.offset}.${item.partial?.length}>`;
    case "BINARY.SIZE":
      return `BINARY.SIZE[${item.part.join(".")}]`;
    default:
      return item.item;
  }
}

/**
 * The untagged response `* <seq> FETCH (...)\r\n` for one message, as bytes (RFC 9051
 * §7.5.2). With `flagsChanged` (the session just set \Seen, RFC 9051 §6.4.5) FLAGS is
 * included, showing \Seen. Loads `cache()` and `raw()` only for items that need them, and
 * `raw()` at most once.
 *
 * @throws {UnknownCteError} for BINARY or BINARY.SIZE of a part whose
 *   Content-Transfer-Encoding is unknown; the session answers `NO [UNKNOWN-CTE]`.
 *
 * @example
 * ```ts
 * const bytes = await fetchResponse(source, [{ item: "FLAGS" }], {
 *   utf8: false, uid: true, modseq: false, rev2: true,
 * });
 * // "* 1 FETCH (UID 7 FLAGS (\\Seen))\r\n"
 * ```
 */
export async function fetchResponse(
  source: FetchSource,
  items: readonly FetchItem[],
  options: FetchOptions & { flagsChanged?: boolean },
): Promise<Uint8Array> {
  const info = source.info;
  const list: FetchItem[] = [];
  const seen = new Set<string>();
  const add = (item: FetchItem) => {
    const key = replyKey(item);
    if (seen.has(key)) return;
    seen.add(key);
    list.push(item);
  };
  if (options.uid) add({ item: "UID" }); // RFC 9051 §6.4.9
  if (options.modseq) add({ item: "MODSEQ" }); // RFC 7162 §3.1.4.1
  for (const item of items) add(item);
  if (options.flagsChanged) add({ item: "FLAGS" }); // RFC 9051 §6.4.5: \Seen was set

  const cache = fetchNeeds(list).cache ? await source.cache() : null;
  const raw = needsRawFor(list, cache?.structure ?? null) ? await source.raw() : null;

  const w = new ResponseWriter({ utf8: options.utf8 });
  w.text("* ").number(source.seq).text(" FETCH (");
  let first = true;
  for (const item of list) {
    if (!first) w.sp();
    first = false;
    writeItem(w, item, info, cache, raw, options.flagsChanged ?? false);
  }
  w.text(")").crlf();
  return w.toBytes();
}

function writeItem(
  w: ResponseWriter,
  item: FetchItem,
  info: MessageInfo,
  cache: MessageCache | null,
  raw: Uint8Array | null,
  flagsChanged: boolean,
): void {
  // RFC 9051 §7.5.2 (msg-att-dynamic, msg-att-static); RFC 7162 §3.1.4 MODSEQ
  switch (item.item) {
    case "FLAGS": {
      const flags = flagsChanged && !info.flags.includes(SEEN) ? [...info.flags, SEEN] : info.flags;
      w.text(`FLAGS ${formatFlags(flags)}`);
      return;
    }
    case "UID":
      w.text("UID ").number(info.uid);
      return;
    case "MODSEQ":
      w.text("MODSEQ (").number(info.modseq).text(")"); // RFC 7162 §3.1.4.1
      return;
    case "INTERNALDATE":
      w.text(`INTERNALDATE ${formatDateTime(info.internalDate)}`);
      return;
    case "RFC822.SIZE":
      w.text("RFC822.SIZE ").number(info.size);
      return;
    case "ENVELOPE":
      w.text("ENVELOPE ");
      writeEnvelope(w, cache!.envelope);
      return;
    case "BODY":
    case "BODYSTRUCTURE":
      w.text(`${item.item} `);
      writeBody(w, cache!.structure, item.item === "BODYSTRUCTURE");
      return;
    case "RFC822": // RFC 9051 §6.4.5: BODY[]
      w.text("RFC822 ").string(bodySection(raw!, null, WHOLE));
      return;
    case "RFC822.HEADER": // BODY.PEEK[HEADER]
      w.text("RFC822.HEADER ").string(bodySection(raw!, cache!.structure, HEADER));
      return;
    case "RFC822.TEXT": // BODY[TEXT]
      w.text("RFC822.TEXT ").string(bodySection(raw!, cache!.structure, TEXT));
      return;
    case "BODY[]": {
      // RFC 9051 §7.5.2: BODY[<section>]<<origin octet>>; the reply never says PEEK.
      w.text("BODY");
      writeSection(w, item.section);
      if (item.partial !== null) w.text("<").number(item.partial.offset).text(">");
      const bytes = bodySection(raw!, cache?.structure ?? null, item.section);
      w.sp().string(applyPartial(bytes, item.partial));
      return;
    }
    case "BINARY[]": {
      // RFC 9051 §9: "BINARY" section-binary SP (nstring / literal8), no origin in the
      // reply (RFC 9051 erratum 7246). Decoded content is always a literal, a literal8 only
      // when it holds NUL (RFC 3516 §4.2); nothing (a missing part) is "".
      w.text(`BINARY[${item.part.join(".")}] `);
      const bytes = applyPartial(binaryContent(raw!, cache!.structure, item.part), item.partial);
      if (bytes.length === 0) w.string(bytes);
      else w.literal(bytes, { binary: hasNul(bytes) });
      return;
    }
    case "BINARY.SIZE":
      w.text(`BINARY.SIZE[${item.part.join(".")}] `).number(
        binarySize(raw, cache!.structure, item.part),
      );
      return;
  }
}
