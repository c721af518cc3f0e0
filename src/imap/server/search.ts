/**
 * SEARCH evaluation (RFC 9051 §6.4.4, RFC 3501 §6.4.4, RFC 7162 §3.1.5 MODSEQ, RFC 5182 `$`)
 * and the SEARCH and ESEARCH responses (RFC 9051 §7.3.4, RFC 4731). Pure logic over a
 * {@link SearchSource}: no database and no socket. SORT and THREAD use {@link matches} too.
 *
 * Semantics and the choices RFC 9051 leaves to the server:
 * - Strings match as case-insensitive substrings of decoded text: RFC 2047 words in headers,
 *   Content-Transfer-Encoding and charset in text/* bodies (_search_text.ts).
 * - FROM, TO, CC, BCC, SUBJECT and the SENT* keys read the envelope cached at delivery, not
 *   the message; so do HEADER searches of Subject, Date, Message-ID and In-Reply-To (the
 *   first field of each name, as in the envelope). Other HEADER fields, BODY and TEXT decrypt
 *   the message. {@link searchNeeds} tells the session which a key needs, and {@link
 *   matches} tests the cheaper operands of AND and OR first. {@link matchesLoaded} tests
 *   with what is loaded and says what is missing, for a session that loads many at once.
 * - BEFORE, ON and SINCE compare the calendar day of the internal date in UTC (the "server's
 *   time zone" is taken to be UTC; the store keeps an instant). SENTBEFORE, SENTON and
 *   SENTSINCE compare the day written in the Date header, time and zone disregarded
 *   (RFC 9051 §6.4.4); a message without a readable Date header matches none of them.
 * - Fumi keeps no \Recent (RFC 9051 removed it; RFC 3501 §2.3.2 allows a server never to set
 *   it): RECENT and NEW match no message, OLD matches every message. The parser writes NEW as
 *   `\Recent UNSEEN` and OLD as `NOT \Recent`, so a FLAG test for \Recent is always false.
 * - Keywords compare case-insensitively (RFC 9051 §2.3.2: flags are case-insensitive).
 * - MODSEQ compares the message's modseq, whatever entry is named (RFC 7162 §3.1.5 allows a
 *   server without per-flag modseqs to do so).
 *
 * @module
 */

import {
  formatSequenceSet,
  type Interval,
  intervalsInclude,
  quoted,
  resolveSequenceSet,
  type SearchDate,
  type SearchKey,
  type SearchReturnOption,
  type SequenceSet,
  sequenceSetFromNumbers,
} from "../proto/mod.ts";
import { decodeEncodedWords } from "../../mime/mod.ts";
import type { MessageCache, MessageInfo } from "../../store/mod.ts";
import {
  addressText,
  bodyTexts,
  containsFolded,
  headerValues,
  messageHeaderText,
  sentDay,
} from "./_search_text.ts";

/** One message as SEARCH sees it. */
export interface SearchSource {
  /** The message sequence number in the session. */
  readonly seq: number;
  /** The store's row. */
  readonly info: MessageInfo;
  /** The decrypted cached envelope, summary and MIME structure. */
  cache(): Promise<MessageCache>;
  /** The whole message, decrypted. */
  raw(): Promise<Uint8Array>;
}

/** What the session knows of the mailbox when it searches. */
export interface SearchContext {
  /** The number of messages: `*` in a sequence set (RFC 9051 §9). */
  readonly maxSeq: number;
  /** The largest UID in use: `*` in a UID set. */
  readonly maxUid: number;
  /** The UIDs of the saved result `$` (RFC 5182), empty when there is none. */
  readonly saved: readonly number[];
  /** Unused by the keys of RFC 9051 (dates compare days, not ages); for WITHIN later. */
  readonly now?: Date;
}

type Need = "info" | "cache" | "raw";
const RANK: Record<Need, number> = { info: 0, cache: 1, raw: 2 };

/** HEADER fields the cached envelope holds as written (first field of the name). */
const ENVELOPE_FIELDS = new Map<string, (c: MessageCache) => string | null>([
  ["subject", (c) => c.envelope.subject],
  ["date", (c) => c.envelope.date],
  ["message-id", (c) => c.envelope.messageId],
  ["in-reply-to", (c) => c.envelope.inReplyTo],
]);

/**
 * What a key needs loaded: "info" (flags, dates, sizes, numbers, modseq), "cache" (the
 * envelope and summary: FROM, TO, CC, BCC, SUBJECT, SENT*, HEADER of the envelope's
 * fields), or "raw" (BODY, TEXT, other HEADER fields). For AND, OR and NOT, the most any
 * operand needs.
 *
 * @example
 * ```ts
 * searchNeeds({ key: "FLAG", flag: "\\Seen", set: false }); // "info"
 * searchNeeds({ key: "BODY", value: "invoice" }); // "raw"
 * ```
 */
export function searchNeeds(key: SearchKey): Need {
  switch (key.key) {
    case "BCC":
    case "CC":
    case "FROM":
    case "SUBJECT":
    case "TO":
    case "SENTBEFORE":
    case "SENTON":
    case "SENTSINCE":
      return "cache";
    case "BODY":
    case "TEXT":
      return "raw";
    case "HEADER":
      return ENVELOPE_FIELDS.has(key.field.toLowerCase()) ? "cache" : "raw";
    case "NOT":
      return searchNeeds(key.operand);
    case "OR":
      return most([searchNeeds(key.left), searchNeeds(key.right)]);
    case "AND":
      return most(key.operands.map(searchNeeds));
    default:
      return "info";
  }
}

function most(needs: Need[]): Need {
  return needs.reduce((a, b) => RANK[b] > RANK[a] ? b : a, "info");
}

/** A message as far as it is loaded: its description and bytes, or null when not (yet). */
export interface LoadedMessage {
  readonly seq: number;
  readonly info: MessageInfo;
  readonly cache: MessageCache | null;
  readonly raw: Uint8Array | null;
}

/** What a test needs loaded before it can answer. */
export interface Wants {
  readonly cache: boolean;
  readonly raw: boolean;
}

/** Thrown inside the evaluation when a key needs what is not loaded (made once each). */
class Missing extends Error {
  constructor(readonly wants: Wants) {
    super("Not loaded");
  }
}
const MISSING_CACHE = new Missing({ cache: true, raw: false });
const MISSING_RAW = new Missing({ cache: false, raw: true });
const MISSING_BOTH = new Missing({ cache: true, raw: true });

/**
 * Tests the message as far as it is loaded (RFC 9051 §6.4.4): true or false, or what must be
 * loaded first — then test again with it. Synchronous, so that a session testing thousands of
 * loaded messages makes no promise per message.
 */
export function matchesLoaded(
  key: SearchKey,
  message: LoadedMessage,
  context: SearchContext,
): boolean | Wants {
  try {
    return test(key, message, context);
  } catch (error) {
    if (error instanceof Missing) return error.wants;
    throw error;
  }
}

/**
 * True when the message matches `key` (RFC 9051 §6.4.4). Loads `cache()` and `raw()` only
 * when a key needs them, each at most once.
 */
export async function matches(
  key: SearchKey,
  source: SearchSource,
  context: SearchContext,
): Promise<boolean> {
  let cache: MessageCache | null = null;
  let raw: Uint8Array | null = null;
  for (;;) {
    const result = matchesLoaded(key, { seq: source.seq, info: source.info, cache, raw }, context);
    if (typeof result === "boolean") return result;
    [cache, raw] = await Promise.all([
      cache ?? (result.cache ? source.cache() : null),
      raw ?? (result.raw ? source.raw() : null),
    ]);
  }
}

function cacheOf(m: LoadedMessage): MessageCache {
  if (m.cache === null) throw MISSING_CACHE;
  return m.cache;
}

function rawOf(m: LoadedMessage): Uint8Array {
  if (m.raw === null) throw MISSING_RAW;
  return m.raw;
}

function test(key: SearchKey, m: LoadedMessage, context: SearchContext): boolean {
  const info = m.info;
  switch (key.key) {
    case "ALL":
      return true;
    case "FLAG":
      return hasFlag(info.flags, key.flag) === key.set;
    case "LARGER":
      return info.size > key.size; // RFC 9051 §6.4.4: RFC822.SIZE larger than n
    case "SMALLER":
      return info.size < key.size;
    case "BEFORE":
      return utcDay(info.internalDate) < dayNumber(key.date);
    case "ON":
      return utcDay(info.internalDate) === dayNumber(key.date);
    case "SINCE":
      return utcDay(info.internalDate) >= dayNumber(key.date);
    case "SEQ":
      return inSet(key, key.set, m.seq, info.uid, context.maxSeq, context);
    case "UID":
      return inSet(key, key.set, info.uid, info.uid, context.maxUid, context);
    case "MODSEQ":
      return BigInt(info.modseq) >= key.modseq; // RFC 7162 §3.1.5: equal or greater
    case "NOT":
      return !test(key.operand, m, context);
    case "OR": {
      const [first, second] = cheapestFirst([key.left, key.right]);
      return test(first!, m, context) || test(second!, m, context);
    }
    case "AND":
      for (const operand of cheapestFirst(key.operands)) {
        if (!test(operand, m, context)) return false;
      }
      return true;
    case "SENTBEFORE":
    case "SENTON":
    case "SENTSINCE": {
      const sent = sentDay(cacheOf(m).envelope.date);
      if (sent === null) return false;
      const day = dayNumber(key.date);
      if (key.key === "SENTBEFORE") return sent < day;
      return key.key === "SENTON" ? sent === day : sent >= day;
    }
    case "SUBJECT":
      return containsFolded(cacheOf(m).summary.subject, key.value);
    case "FROM":
    case "TO":
    case "CC":
    case "BCC": {
      const envelope = cacheOf(m).envelope;
      const list = key.key === "FROM"
        ? envelope.from
        : key.key === "TO"
        ? envelope.to
        : key.key === "CC"
        ? envelope.cc
        : envelope.bcc;
      return list !== null && containsFolded(addressText(list), key.value);
    }
    case "HEADER":
      return header(key.field, key.value, m);
    case "BODY":
    case "TEXT": {
      if (m.cache === null || m.raw === null) {
        throw m.cache === null ? (m.raw === null ? MISSING_BOTH : MISSING_CACHE) : MISSING_RAW;
      }
      const raw = m.raw;
      const root = m.cache.structure;
      if (key.key === "TEXT" && containsFolded(messageHeaderText(raw, root), key.value)) {
        return true;
      }
      for (const text of bodyTexts(raw, root)) if (containsFolded(text, key.value)) return true;
      return false;
    }
  }
}

/** RFC 9051 §6.4.4 HEADER: a field of that name whose value contains the string. */
function header(field: string, value: string, m: LoadedMessage): boolean {
  const fromEnvelope = ENVELOPE_FIELDS.get(field.toLowerCase());
  const values: string[] = [];
  if (fromEnvelope !== undefined) {
    const written = fromEnvelope(cacheOf(m));
    if (written !== null) values.push(decodeEncodedWords(written), written);
  } else {
    values.push(...headerValues(rawOf(m), field));
  }
  // An empty string matches every message that has the field (RFC 9051 §6.4.4).
  return values.some((v) => containsFolded(v, value));
}

function cheapestFirst(keys: readonly SearchKey[]): SearchKey[] {
  return keys.map((key, i) => ({ key, rank: RANK[searchNeeds(key)], i }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .map((x) => x.key);
}

function hasFlag(flags: readonly string[], flag: string): boolean {
  const wanted = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === wanted);
}

const DAY_MS = 86_400_000;

function dayNumber(date: SearchDate): number {
  return Date.UTC(date.year, date.month - 1, date.day) / DAY_MS;
}

function utcDay(date: Date): number {
  return Math.floor(date.getTime() / DAY_MS);
}

/** Resolved sets, per key, for the context they were resolved in. */
const resolved = new WeakMap<SearchKey, { max: number; set: Interval[] }>();
const savedSets = new WeakMap<readonly number[], ReadonlySet<number>>();

/**
 * Whether `n` is in a SEQ or UID set, `*` being `max` (RFC 9051 §9). `$` is the saved
 * result (RFC 5182 §2.1), a list of UIDs: it is tested on the UID for both kinds of set.
 */
function inSet(
  key: SearchKey,
  set: SequenceSet,
  n: number,
  uid: number,
  max: number,
  context: SearchContext,
): boolean {
  if (set.kind === "saved") {
    let saved = savedSets.get(context.saved);
    if (saved === undefined) {
      saved = new Set(context.saved);
      savedSets.set(context.saved, saved);
    }
    return saved.has(uid);
  }
  let entry = resolved.get(key);
  if (entry === undefined || entry.max !== max) {
    entry = { max, set: resolveSequenceSet(set, max) };
    resolved.set(key, entry);
  }
  return intervalsInclude(entry.set, n);
}

/** Options of {@link searchResponse}. */
export interface SearchResponseOptions {
  readonly tag: string;
  /** UID SEARCH: the results are UIDs, and ESEARCH says UID. */
  readonly uid: boolean;
  /** RETURN options as parsed (null: none given). */
  readonly returnOptions: readonly SearchReturnOption[] | null;
  /** IMAP4rev2 enabled: a SEARCH without RETURN is answered with ESEARCH ALL. */
  readonly rev2: boolean;
  /** The matching sequence numbers or UIDs. */
  readonly results: readonly number[];
  /**
   * The highest modseq of the messages found, when the search used MODSEQ (RFC 7162
   * §3.1.5); null or absent otherwise.
   */
  readonly highestModseq?: bigint | number | null;
}

/**
 * The untagged answer to SEARCH, with its CRLF (RFC 9051 §7.3.4, RFC 3501 §7.2.5,
 * RFC 4731 §3.2): `* SEARCH 2 5 9` (with ` (MODSEQ n)` after a MODSEQ search that found
 * something, RFC 7162 §3.1.5) for IMAP4rev1 without RETURN; otherwise
 * `* ESEARCH (TAG "a1") UID MIN 1 MAX 9 COUNT 4 ALL 1:3,9 MODSEQ n`, with the data asked for
 * (ALL when rev2 and no RETURN, RFC 9051 §6.4.4), MIN, MAX and ALL left out when nothing
 * matched (RFC 4731 §3.1). The empty string when SAVE is the only return option: the
 * server then sends no untagged response (RFC 5182 §2.4, RFC 9051 §6.4.4.1).
 *
 * @example
 * ```ts
 * searchResponse({ tag: "a1", uid: true, returnOptions: ["MIN", "COUNT"], rev2: false,
 *   results: [4, 2, 9] });
 * // '* ESEARCH (TAG "a1") UID MIN 2 COUNT 3\r\n'
 * ```
 */
export function searchResponse(options: SearchResponseOptions): string {
  const { results } = options;
  const modseq = options.highestModseq ?? null;
  if (options.returnOptions === null && !options.rev2) {
    // RFC 7162 §3.1.5: mailbox-data =/ "SEARCH" [1*(SP nz-number) SP search-sort-mod-seq]
    const numbers = results.map((n) => ` ${n}`).join("");
    const tail = modseq !== null && results.length > 0 ? ` (MODSEQ ${modseq})` : "";
    return `* SEARCH${numbers}${tail}\r\n`;
  }
  const asked = new Set<SearchReturnOption>(options.returnOptions ?? ["ALL"]);
  if (asked.size === 1 && asked.has("SAVE")) return "";
  // RFC 4731 §3.2: esearch-response = "ESEARCH" [search-correlator] [SP "UID"]
  //   *(SP search-return-data); search-correlator = SP "(" "TAG" SP tag-string ")"
  let out = `* ESEARCH (TAG ${quoted(options.tag, true) ?? '""'})`;
  if (options.uid) out += " UID";
  if (results.length > 0) {
    // RFC 4731 §3.1: MIN, MAX and ALL only when something matched; COUNT always.
    if (asked.has("MIN")) out += ` MIN ${extreme(results, Math.min)}`;
    if (asked.has("MAX")) out += ` MAX ${extreme(results, Math.max)}`;
  }
  if (asked.has("COUNT")) out += ` COUNT ${results.length}`;
  const all = asked.has("ALL") ? sequenceSetFromNumbers(results) : null;
  if (all !== null) out += ` ALL ${formatSequenceSet(all)}`; // RFC 9051 §9: sequence-set
  // RFC 7162 §3.1.5: search-return-data =/ "MODSEQ" SP mod-sequence-value
  if (modseq !== null && results.length > 0) out += ` MODSEQ ${modseq}`;
  return `${out}\r\n`;
}

/**
 * The numbers `SEARCH RETURN (SAVE …)` saves as `$` (RFC 5182 §2.4, RFC 9051 §6.4.4.1): with
 * MIN and/or MAX and neither ALL nor COUNT, only the smallest and/or largest; otherwise all
 * of them. Null when SAVE was not asked.
 */
export function savedResult(
  results: readonly number[],
  returnOptions: readonly SearchReturnOption[] | null,
): number[] | null {
  const asked = new Set(returnOptions ?? []);
  if (!asked.has("SAVE")) return null;
  if (results.length === 0 || asked.has("ALL") || asked.has("COUNT")) return [...results];
  if (!asked.has("MIN") && !asked.has("MAX")) return [...results];
  const out = new Set<number>();
  if (asked.has("MIN")) out.add(extreme(results, Math.min));
  if (asked.has("MAX")) out.add(extreme(results, Math.max));
  return [...out].sort((a, b) => a - b);
}

/** The least or greatest number, without spreading a long list into arguments. */
function extreme(numbers: readonly number[], pick: (a: number, b: number) => number): number {
  return numbers.reduce((a, b) => pick(a, b));
}
