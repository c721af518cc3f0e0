/**
 * SORT and THREAD (RFC 5256), each with its UID form; their search criteria are those of
 * SEARCH (search_keys.ts). SORT also takes DISPLAYFROM and DISPLAYTO (RFC 5957). ESORT's
 * return options (RFC 5267) are not parsed.
 *
 * @module
 */

import { quote } from "./_errors.ts";
import type { Reader } from "./_lexer.ts";
import { parseCharset, parseSearchKeys, type SearchKey } from "./search_keys.ts";

/** Sort keys (RFC 5256 §3, RFC 5957 §3). */
export const SORT_KEYS = [
  "ARRIVAL",
  "CC",
  "DATE",
  "FROM",
  "SIZE",
  "SUBJECT",
  "TO",
  "DISPLAYFROM",
  "DISPLAYTO",
] as const;

/** One of {@link SORT_KEYS}. */
export type SortKey = typeof SORT_KEYS[number];

/** One sort criterion: a key, in reverse order or not. */
export interface SortCriterion {
  readonly key: SortKey;
  readonly reverse: boolean;
}

/** `[UID] SORT (criteria) charset keys`. */
export interface SortCommand {
  readonly name: "SORT";
  readonly uid: boolean;
  /** At least one criterion, most significant first. */
  readonly sort: readonly SortCriterion[];
  /** The charset (mandatory in SORT), in upper case. */
  readonly charset: string;
  readonly search: SearchKey;
}

/** `[UID] THREAD algorithm charset keys`. */
export interface ThreadCommand {
  readonly name: "THREAD";
  readonly uid: boolean;
  /** The algorithm in upper case (ORDEREDSUBJECT, REFERENCES or another atom). */
  readonly algorithm: string;
  readonly charset: string;
  readonly search: SearchKey;
}

const KNOWN: ReadonlySet<string> = new Set(SORT_KEYS);

/** Parses the arguments of SORT or UID SORT. */
export function parseSort(r: Reader, uid: boolean): SortCommand {
  // RFC 5256 §5: sort = ["UID" SP] "SORT" SP sort-criteria SP search-criteria
  // sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"
  // sort-criterion = ["REVERSE" SP] sort-key
  r.sp("sort criteria");
  const sort = r.list("sort criteria", () => {
    let key = r.keyword("sort key");
    const reverse = key === "REVERSE";
    if (reverse) {
      r.sp("sort key");
      key = r.keyword("sort key");
    }
    if (!KNOWN.has(key)) r.fail(`Unknown sort key ${quote(key)}`);
    return { key: key as SortKey, reverse };
  }, false);
  // search-criteria = charset 1*(SP search-key)
  r.sp("charset");
  const charset = parseCharset(r);
  r.sp("search keys");
  return { name: "SORT", uid, sort, charset, search: parseSearchKeys(r, charset) };
}

/** Parses the arguments of THREAD or UID THREAD. */
export function parseThread(r: Reader, uid: boolean): ThreadCommand {
  // RFC 5256 §5: thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
  // thread-alg = "ORDEREDSUBJECT" / "REFERENCES" / thread-alg-ext; thread-alg-ext = atom
  r.sp("threading algorithm");
  const algorithm = r.keyword("threading algorithm");
  r.sp("charset");
  const charset = parseCharset(r);
  r.sp("search keys");
  return { name: "THREAD", uid, algorithm, charset, search: parseSearchKeys(r, charset) };
}
