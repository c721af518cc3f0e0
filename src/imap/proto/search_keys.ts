/**
 * SEARCH (RFC 9051 §6.4.4): return options of ESEARCH (RFC 4731, RFC 9051 §6.4.4.1), CHARSET,
 * and the search keys of RFC 9051 §6.4.4 with RFC 3501's NEW, OLD and RECENT and RFC 7162's
 * MODSEQ. SORT and THREAD (sort.ts) use the same keys.
 *
 * Keys form a tree: juxtaposed keys and parenthesised groups are an AND, with OR and NOT.
 * NEW is written as `AND(\Recent, NOT \Seen)` and OLD as `NOT \Recent`, so the server has
 * fewer shapes to evaluate. Parsing recurses, but never deeper than {@link MAX_SEARCH_DEPTH}
 * groups, ORs and NOTs: deeper input is refused with BAD [TOOBIG] before the stack is at risk.
 *
 * @module
 */

import { quote } from "./_errors.ts";
import { canonicalFlag, DQUOTE, LPAREN, type Reader } from "./_lexer.ts";
import { parseSearchDate, type SearchDate } from "./_datetime.ts";
import type { SequenceSet } from "./sequence_set.ts";

export type { SearchDate } from "./_datetime.ts";

/** Deepest nesting of groups, OR and NOT accepted in search keys. */
export const MAX_SEARCH_DEPTH = 100;

/** ESEARCH return options (RFC 4731 §3.1, RFC 9051 §6.4.4.1; SAVE of RFC 5182). */
export type SearchReturnOption = "MIN" | "MAX" | "ALL" | "COUNT" | "SAVE";

/** A search criterion; see the module doc for how the grammar maps to it. */
export type SearchKey =
  | { readonly key: "ALL" }
  /** A flag set (`set`) or not: ANSWERED/UNANSWERED and the like, KEYWORD, UNKEYWORD. */
  | { readonly key: "FLAG"; readonly flag: string; readonly set: boolean }
  /** A substring search in a header field, the body, or the whole text. */
  | {
    readonly key: "BCC" | "BODY" | "CC" | "FROM" | "SUBJECT" | "TEXT" | "TO";
    readonly value: string;
  }
  /** HEADER field value; an empty value matches every message that has the field. */
  | { readonly key: "HEADER"; readonly field: string; readonly value: string }
  /** Internal date (BEFORE, ON, SINCE) or Date: header (SENT*), by calendar day. */
  | {
    readonly key: "BEFORE" | "ON" | "SINCE" | "SENTBEFORE" | "SENTON" | "SENTSINCE";
    readonly date: SearchDate;
  }
  | { readonly key: "LARGER" | "SMALLER"; readonly size: number }
  /** Message sequence numbers (`SEQ`) or UIDs. */
  | { readonly key: "SEQ" | "UID"; readonly set: SequenceSet }
  /** RFC 7162 §3.1.5: changed since `modseq` (0 allowed), optionally for one flag's entry. */
  | {
    readonly key: "MODSEQ";
    readonly modseq: bigint;
    readonly entry: { readonly flag: string; readonly type: "priv" | "shared" | "all" } | null;
  }
  | { readonly key: "NOT"; readonly operand: SearchKey }
  | { readonly key: "OR"; readonly left: SearchKey; readonly right: SearchKey }
  /** Two or more keys that must all match. */
  | { readonly key: "AND"; readonly operands: readonly SearchKey[] };

/** `[UID] SEARCH [RETURN (options)] [CHARSET charset] keys`. */
export interface SearchCommand {
  readonly name: "SEARCH";
  readonly uid: boolean;
  /**
   * ESEARCH return options, without duplicates; null without RETURN (a plain SEARCH
   * response). `RETURN ()` gives `["ALL"]` (RFC 4731 §3.1).
   */
  readonly returnOptions: readonly SearchReturnOption[] | null;
  /** The charset in upper case, or null when none was given (US-ASCII, or UTF-8 in rev2). */
  readonly charset: string | null;
  /** The criteria: one key, an AND for several. */
  readonly search: SearchKey;
}

const RETURN_OPTIONS: ReadonlySet<string> = new Set(["MIN", "MAX", "ALL", "COUNT", "SAVE"]);

const FLAG_KEYS = new Map<string, readonly [string, boolean]>([
  ["ANSWERED", ["\\Answered", true]],
  ["DELETED", ["\\Deleted", true]],
  ["DRAFT", ["\\Draft", true]],
  ["FLAGGED", ["\\Flagged", true]],
  ["SEEN", ["\\Seen", true]],
  ["UNANSWERED", ["\\Answered", false]],
  ["UNDELETED", ["\\Deleted", false]],
  ["UNDRAFT", ["\\Draft", false]],
  ["UNFLAGGED", ["\\Flagged", false]],
  ["UNSEEN", ["\\Seen", false]],
  ["RECENT", ["\\Recent", true]], // RFC 3501 §6.4.4
  ["OLD", ["\\Recent", false]], // RFC 3501 §6.4.4: OLD is NOT RECENT
]);
// RFC 7162 §7: entry-flag-name = DQUOTE "/flags/" attr-flag DQUOTE;
// attr-flag = "\\" atom / atom (the system flags are "\\" atom too)
const ENTRY_NAME = /^\/flags\/(\\?[!#$&'+-\[^-z|}~]+)$/i;
// RFC 5322 §3.6.8: field-name = 1*ftext; ftext = %d33-57 / %d59-126
const FIELD_NAME = /^[!-9;-~]+$/;

/** Decodes search strings: strictly as UTF-8, or loosely for a charset the server refuses. */
type Decode = (bytes: Uint8Array, what: string) => string;

const loose = new TextDecoder("utf-8", { ignoreBOM: true });

function and(keys: SearchKey[]): SearchKey {
  return keys.length === 1 ? keys[0]! : { key: "AND", operands: keys };
}

function searchDate(r: Reader): SearchDate {
  // RFC 9051 §9: date = date-text / DQUOTE date-text DQUOTE
  const text = r.peek() === DQUOTE ? r.text(r.quoted(), "date") : r.token("date");
  const date = parseSearchDate(text);
  if (date === null) r.fail(`Invalid date ${quote(text)}, expected d-Mon-yyyy`);
  return date;
}

function modseqKey(r: Reader): SearchKey {
  // RFC 7162 §7: search-modsequence = "MODSEQ" [search-modseq-ext] SP mod-sequence-valzer
  // search-modseq-ext = SP entry-name SP entry-type-req (the first SP is read already)
  let entry: { flag: string; type: "priv" | "shared" | "all" } | null = null;
  if (r.peek() === DQUOTE) {
    // entry-flag-name = DQUOTE "/flags/" attr-flag DQUOTE
    const name = r.text(r.quoted(), "entry name");
    const flag = ENTRY_NAME.exec(name)?.[1];
    if (flag === undefined) r.fail(`Invalid MODSEQ entry name ${quote(name)}`);
    r.sp("entry type");
    // entry-type-req = entry-type-resp / "all"; entry-type-resp = "priv" / "shared"
    const type = r.keyword("entry type").toLowerCase();
    if (type !== "priv" && type !== "shared" && type !== "all") {
      r.fail(`Expected priv, shared or all, found ${quote(type)}`);
    }
    entry = { flag: canonicalFlag(flag), type };
    r.sp("mod-sequence");
  }
  return { key: "MODSEQ", modseq: r.modseq("mod-sequence", true), entry };
}

type Parse = (r: Reader, decode: Decode, depth: number) => SearchKey;

/** Keys with arguments, by name; each parser starts after the space that follows the name. */
const WITH_ARGUMENTS = new Map<string, Parse>([
  // RFC 9051 §9: "KEYWORD" SP flag-keyword / "UNKEYWORD" SP flag-keyword
  ["KEYWORD", (r) => ({ key: "FLAG", flag: r.flag("keyword", true), set: true })],
  ["UNKEYWORD", (r) => ({ key: "FLAG", flag: r.flag("keyword", true), set: false })],
  // "HEADER" SP header-fld-name SP astring
  ["HEADER", (r, decode) => {
    const field = r.astring("header field name");
    if (!FIELD_NAME.test(field)) r.fail(`Invalid header field name ${quote(field)}`);
    r.sp("search string");
    return {
      key: "HEADER",
      field,
      value: decode(r.astringBytes("search string"), "search string"),
    };
  }],
  // "LARGER" SP number64 / "SMALLER" SP number64
  ["LARGER", (r) => ({ key: "LARGER", size: r.number64("size") })],
  ["SMALLER", (r) => ({ key: "SMALLER", size: r.number64("size") })],
  // "UID" SP sequence-set
  ["UID", (r) => ({ key: "UID", set: r.sequenceSet("UID set") })],
  // "NOT" SP search-key / "OR" SP search-key SP search-key
  ["NOT", (r, decode, depth) => ({ key: "NOT", operand: searchKey(r, decode, depth + 1) })],
  ["OR", (r, decode, depth) => {
    const left = searchKey(r, decode, depth + 1);
    r.sp("second key of OR");
    return { key: "OR", left, right: searchKey(r, decode, depth + 1) };
  }],
  ["MODSEQ", (r) => modseqKey(r)],
  // "BCC" SP astring / "BODY" SP astring / ... / "TO" SP astring
  ...(["BCC", "BODY", "CC", "FROM", "SUBJECT", "TEXT", "TO"] as const).map((key) =>
    [key, (r: Reader, decode: Decode): SearchKey => ({
      key,
      value: decode(r.astringBytes("search string"), "search string"),
    })] as const
  ),
  // "BEFORE" SP date / "ON" SP date / ... / "SENTSINCE" SP date
  ...(["BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE"] as const).map((key) =>
    [key, (r: Reader): SearchKey => ({ key, date: searchDate(r) })] as const
  ),
]);

function searchKey(r: Reader, decode: Decode, depth: number): SearchKey {
  if (depth > MAX_SEARCH_DEPTH) r.fail("The search keys are nested too deeply", "TOOBIG");
  const c = r.peek();
  // RFC 9051 §9: search-key =/ "(" search-key *(SP search-key) ")"
  if (c === LPAREN) {
    return and(r.list("search key group", () => searchKey(r, decode, depth + 1), false));
  }
  // search-key =/ sequence-set
  if ((c >= 0x30 && c <= 0x39) || c === 0x2a || c === 0x24) {
    return { key: "SEQ", set: r.sequenceSet() };
  }
  const name = r.keyword("search key");
  const flag = FLAG_KEYS.get(name);
  if (flag !== undefined) return { key: "FLAG", flag: flag[0], set: flag[1] };
  if (name === "ALL") return { key: "ALL" };
  if (name === "NEW") {
    // RFC 3501 §6.4.4: NEW is "functionally equivalent to (RECENT UNSEEN)"
    return {
      key: "AND",
      operands: [
        { key: "FLAG", flag: "\\Recent", set: true },
        { key: "FLAG", flag: "\\Seen", set: false },
      ],
    };
  }
  const parse = WITH_ARGUMENTS.get(name);
  if (parse === undefined) r.fail(`Unknown search key ${quote(name)}`);
  r.sp(`argument of ${name}`);
  return parse(r, decode, depth);
}

/** Reads `search-key *(SP search-key)`, the criteria of SEARCH, SORT and THREAD. */
export function parseSearchKeys(r: Reader, charset: string | null): SearchKey {
  // Strings must be UTF-8 for UTF-8 and US-ASCII (RFC 9051 §6.4.4). For another charset the
  // server answers NO [BADCHARSET]; the keys are still parsed, their text decoded loosely.
  const strict = charset === null || charset === "UTF-8" || charset === "US-ASCII";
  const decode: Decode = strict ? (bytes, what) => r.text(bytes, what) : (b) => loose.decode(b);
  const keys = [searchKey(r, decode, 1)];
  while (r.more()) {
    r.sp("search key");
    keys.push(searchKey(r, decode, 1));
  }
  return and(keys);
}

/** Reads `"RETURN" SP "(" [option *(SP option)] ")"` when it is next; null otherwise. */
export function parseSearchReturn(r: Reader): SearchReturnOption[] | null {
  if (r.peekKeyword() !== "RETURN") return null;
  r.atom("RETURN");
  r.sp("return options");
  // RFC 9051 §9: search-return-opts = SP "RETURN" SP "(" [search-return-opt
  //   *(SP search-return-opt)] ")"
  const options = r.list("return options", () => {
    const option = r.keyword("return option");
    if (!RETURN_OPTIONS.has(option)) r.fail(`Unknown search return option ${quote(option)}`);
    return option as SearchReturnOption;
  }, true);
  // RFC 4731 §3.1: "RETURN ()" is "RETURN (ALL)"
  return options.length === 0 ? ["ALL"] : [...new Set(options)];
}

/** Reads a charset (RFC 9051 §9: charset = atom / quoted), in upper case. */
export function parseCharset(r: Reader): string {
  const text = r.peek() === DQUOTE ? r.text(r.quoted(), "charset") : r.atom("charset");
  // ASCII case only: "uſ-ascii" (long s) must not become "US-ASCII".
  return text.replace(/[a-z]/g, (c) => c.toUpperCase());
}

/** Parses the arguments of SEARCH or UID SEARCH. */
export function parseSearch(r: Reader, uid: boolean): SearchCommand {
  // RFC 9051 §9: search = "SEARCH" [search-return-opts] SP search-program
  // search-program = ["CHARSET" SP charset SP] search-key *(SP search-key)
  r.sp("search keys");
  const returnOptions = parseSearchReturn(r);
  if (returnOptions !== null) r.sp("search keys");
  let charset: string | null = null;
  if (r.peekKeyword() === "CHARSET") {
    r.atom("CHARSET");
    r.sp("charset");
    charset = parseCharset(r);
    r.sp("search keys");
  }
  return { name: "SEARCH", uid, returnOptions, charset, search: parseSearchKeys(r, charset) };
}
