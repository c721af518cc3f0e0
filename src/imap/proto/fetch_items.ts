/**
 * FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9): the macros ALL, FAST and FULL, the fetch
 * attributes with BODY[section]<partial> and BODY.PEEK, BINARY[part]<partial>, BINARY.PEEK and
 * BINARY.SIZE (RFC 3516, RFC 9051), MODSEQ and the modifiers CHANGEDSINCE and VANISHED
 * (RFC 7162 §3.1.4, §3.2.6).
 *
 * Macros are expanded here (RFC 9051 §6.4.5), so the server sees only attributes. UID FETCH
 * does not add UID to the list: that is the server's (RFC 9051 §6.4.9).
 *
 * @module
 */

import { quote } from "./_errors.ts";
import { LPAREN, type Reader, SP } from "./_lexer.ts";
import type { SequenceSet } from "./sequence_set.ts";

/** The fetch attributes without arguments. */
export type FetchAttribute =
  | "ENVELOPE"
  | "FLAGS"
  | "INTERNALDATE"
  | "RFC822"
  | "RFC822.HEADER"
  | "RFC822.SIZE"
  | "RFC822.TEXT"
  | "BODY"
  | "BODYSTRUCTURE"
  | "UID"
  | "MODSEQ";

/**
 * A section (RFC 9051 §9 `section-spec`): part numbers, then an optional text specifier.
 * `BODY[]` is `{ part: [], text: null, fields: [] }`; `BODY[1.2.HEADER.FIELDS (From)]` is
 * `{ part: [1, 2], text: "HEADER.FIELDS", fields: ["From"] }`. Shaped like the serialiser's
 * `Section`, so it can be passed on as it is.
 */
export interface FetchSection {
  /** Part numbers, outermost first, each 1 or more; empty for the whole message. */
  readonly part: readonly number[];
  /** MIME only after part numbers (RFC 9051 §9 section-text). */
  readonly text: "HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME" | null;
  /** Field names of HEADER.FIELDS and HEADER.FIELDS.NOT as written; empty otherwise. */
  readonly fields: readonly string[];
}

/** `<offset.length>` (RFC 9051 §9 `partial`): octets from `offset`, at most `length`. */
export interface FetchPartial {
  readonly offset: number;
  /** At least 1. */
  readonly length: number;
}

/** One thing to fetch. */
export type FetchItem =
  | { readonly item: FetchAttribute }
  /** `BODY[section]<partial>`; `peek` for BODY.PEEK, which does not set \Seen. */
  | {
    readonly item: "BODY[]";
    readonly peek: boolean;
    readonly section: FetchSection;
    readonly partial: FetchPartial | null;
  }
  /** `BINARY[part]<partial>` (RFC 9051 §6.4.5); `peek` for BINARY.PEEK. */
  | {
    readonly item: "BINARY[]";
    readonly peek: boolean;
    readonly part: readonly number[];
    readonly partial: FetchPartial | null;
  }
  /** `BINARY.SIZE[part]`. */
  | { readonly item: "BINARY.SIZE"; readonly part: readonly number[] };

/** `[UID] FETCH set items [(modifiers)]`. */
export interface FetchCommand {
  readonly name: "FETCH";
  readonly uid: boolean;
  readonly set: SequenceSet;
  /** The items in the order given (macros expanded), at least one. */
  readonly items: readonly FetchItem[];
  /** RFC 7162 §3.1.4 CHANGEDSINCE, or null. */
  readonly changedSince: bigint | null;
  /** RFC 7162 §3.2.6 VANISHED (UID FETCH with CHANGEDSINCE only). */
  readonly vanished: boolean;
}

const SIMPLE: ReadonlySet<string> = new Set<FetchAttribute>([
  "ENVELOPE",
  "FLAGS",
  "INTERNALDATE",
  "RFC822",
  "RFC822.HEADER",
  "RFC822.SIZE",
  "RFC822.TEXT",
  "BODY",
  "BODYSTRUCTURE",
  "UID",
  "MODSEQ",
]);

// RFC 9051 §6.4.5: ALL = (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE), FAST = (FLAGS
// INTERNALDATE RFC822.SIZE), FULL = (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY)
const MACROS = new Map<string, readonly FetchAttribute[]>([
  ["ALL", ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"]],
  ["FAST", ["FLAGS", "INTERNALDATE", "RFC822.SIZE"]],
  ["FULL", ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"]],
]);

const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const DOT = 0x2e;
// RFC 5322 §3.6.8: field-name = 1*ftext; ftext = %d33-57 / %d59-126
const FIELD_NAME = /^[!-9;-~]+$/;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** `section-part` = nz-number *("." nz-number), stopping before a "." that starts a text. */
function partNumbers(r: Reader): number[] {
  const part = [r.number("part number", true)];
  while (r.peek() === DOT && isDigit(r.peek(1))) {
    r.char(DOT, '"."');
    part.push(r.number("part number", true));
  }
  return part;
}

function section(r: Reader): FetchSection {
  // RFC 9051 §9: section = "[" [section-spec] "]"
  r.char(LBRACKET, '"["');
  let part: number[] = [];
  let text: FetchSection["text"] = null;
  let fields: string[] = [];
  if (isDigit(r.peek())) {
    // section-spec = section-msgtext / (section-part ["." section-text])
    part = partNumbers(r);
    if (!r.tryChar(DOT)) {
      r.char(RBRACKET, '"]" to close the section');
      return { part, text, fields };
    }
  }
  if (r.peek() !== RBRACKET || part.length > 0) {
    const name = r.name("section text");
    // section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
    // section-text = section-msgtext / "MIME"
    if (name === "HEADER" || name === "TEXT" || (name === "MIME" && part.length > 0)) {
      text = name;
    } else if (name === "HEADER.FIELDS" || name === "HEADER.FIELDS.NOT") {
      text = name;
      r.sp("header field names");
      // header-list = "(" header-fld-name *(SP header-fld-name) ")"
      fields = r.list("header field names", () => {
        const field = r.astring("header field name");
        if (!FIELD_NAME.test(field)) r.fail(`Invalid header field name ${quote(field)}`);
        return field;
      }, false);
    } else {
      r.fail(`Unknown section ${quote(name)}`);
    }
  }
  r.char(RBRACKET, '"]" to close the section');
  return { part, text, fields };
}

/** `section-binary` = "[" [section-part] "]". */
function binarySection(r: Reader): number[] {
  r.char(LBRACKET, '"["');
  const part = isDigit(r.peek()) ? partNumbers(r) : [];
  r.char(RBRACKET, '"]" to close the part numbers');
  return part;
}

function partial(r: Reader): FetchPartial | null {
  // RFC 9051 §9: partial = "<" number64 "." nz-number64 ">"
  if (!r.tryChar(0x3c)) return null;
  const offset = r.number64("partial offset");
  r.char(DOT, '"." in the partial range');
  const length = r.number64("partial length", true);
  r.char(0x3e, '">" to close the partial range');
  return { offset, length };
}

function fetchItem(r: Reader): FetchItem {
  const name = r.name("fetch attribute");
  if ((name === "BODY" && r.peek() === LBRACKET) || name === "BODY.PEEK") {
    // fetch-att =/ "BODY" section [partial] / "BODY.PEEK" section [partial]
    const spec = section(r);
    return { item: "BODY[]", peek: name === "BODY.PEEK", section: spec, partial: partial(r) };
  }
  if (name === "BINARY" || name === "BINARY.PEEK") {
    // fetch-att =/ "BINARY" [".PEEK"] section-binary [partial]
    const part = binarySection(r);
    return { item: "BINARY[]", peek: name === "BINARY.PEEK", part, partial: partial(r) };
  }
  // fetch-att =/ "BINARY.SIZE" section-binary
  if (name === "BINARY.SIZE") return { item: "BINARY.SIZE", part: binarySection(r) };
  if (!SIMPLE.has(name)) r.fail(`Unknown fetch attribute ${quote(name)}`);
  return { item: name as FetchAttribute };
}

function items(r: Reader): FetchItem[] {
  // RFC 9051 §9: fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" /
  //   fetch-att / "(" fetch-att *(SP fetch-att) ")")
  if (r.peek() === LPAREN) return r.list("fetch attributes", () => fetchItem(r), false);
  const macro = MACROS.get(r.peekKeyword());
  if (macro === undefined) return [fetchItem(r)];
  r.atom("macro");
  return macro.map((item) => ({ item }));
}

/** Parses the arguments of FETCH or UID FETCH. */
export function parseFetch(r: Reader, uid: boolean): FetchCommand {
  r.sp("sequence set");
  const set = r.sequenceSet();
  r.sp("fetch attributes");
  const list = items(r);
  let changedSince: bigint | null = null;
  let vanished = false;
  if (r.more()) {
    // RFC 4466 §2.4: fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"
    r.char(SP, "a space");
    r.list("FETCH modifiers", () => {
      const modifier = r.keyword("FETCH modifier");
      if (modifier === "CHANGEDSINCE" && changedSince === null) {
        // RFC 7162 §7: chgsince-fetch-mod = "CHANGEDSINCE" SP mod-sequence-value
        r.sp("mod-sequence");
        changedSince = r.modseq("mod-sequence", false);
      } else if (modifier === "VANISHED" && !vanished) {
        vanished = true; // RFC 7162 §7: rexpunges-fetch-mod = "VANISHED"
      } else {
        r.fail(`Unknown or repeated FETCH modifier ${quote(modifier)}`);
      }
    }, false);
  }
  // RFC 7162 §3.2.6: VANISHED only in UID FETCH, and only with CHANGEDSINCE; else BAD.
  if (vanished && (!uid || changedSince === null)) {
    r.fail("VANISHED needs UID FETCH and CHANGEDSINCE", "CLIENTBUG");
  }
  return { name: "FETCH", uid, set, items: list, changedSince, vanished };
}
