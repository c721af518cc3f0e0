/**
 * RFC 5322 §3.4 address lists (with the obsolete syntax of §4.4) parsed into the address
 * structures of the IMAP ENVELOPE (RFC 3501 §7.4.2, RFC 9051 §7.5.2). Best effort on
 * garbage, never throwing.
 *
 * Representation: a plain address has a non-null `mailbox` and `host` (`""` when the
 * input lacks one); `host === null` is reserved for group markers, as in IMAP. A group
 * `name: a@b, c@d;` becomes a start marker (`mailbox` = group name), its members, and an
 * end marker (all three fields null).
 *
 * @module
 */

import { isSpace, readComment, readQuoted } from "./_lex.ts";
import { decodeEncodedWords } from "./encoded_words.ts";

/** One address of an IMAP ENVELOPE address list, or a group marker. */
export interface AddressItem {
  /** The display name (phrase) as written, quotes removed, not RFC 2047 decoded. */
  name: string | null;
  /** The local part as written (a quoted local part keeps its quotes); group name for a start marker. */
  mailbox: string | null;
  /** The domain; null only for group markers. */
  host: string | null;
}

/** Addresses kept per list (group markers aside); the rest are ignored. */
export const MAX_ADDRESSES = 1000;

type Kind = "word" | "quoted" | "literal" | "comment" | "special";

interface Token {
  kind: Kind;
  /** Content: unquoted for quoted strings, inside the parentheses for comments. */
  text: string;
  /** As written. */
  raw: string;
  /** True when white space or a comment precedes the token. */
  spaced: boolean;
}

const SPECIALS = "<>@,;:";
const ROUTE_END = new Set([":", ">", "<", ";"]);

/**
 * Splits a value into tokens on demand, so a parse that stops at {@link MAX_ADDRESSES}
 * does not lex the rest of a huge header.
 */
class Lexer {
  readonly #tokens: Token[] = [];
  #pos = 0;
  constructor(readonly s: string) {}

  /** The token at index `k`, lexing up to it; undefined past the end. */
  at(k: number): Token | undefined {
    while (this.#tokens.length <= k && this.#lexOne());
    return this.#tokens[k];
  }

  #lexOne(): boolean {
    const s = this.s;
    let i = this.#pos;
    let spaced = false;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
    if (i > this.#pos) spaced = true;
    const last = this.#tokens[this.#tokens.length - 1];
    if (last?.kind === "comment") spaced = true; // a comment separates like white space
    if (i >= s.length) {
      this.#pos = i;
      return false;
    }
    const ch = s[i]!;
    let j: number;
    let kind: Kind;
    let text: string;
    if (ch === "(") { // RFC 5322 §3.2.2 comment
      [text, j] = readComment(s, i);
      kind = "comment";
    } else if (ch === '"') { // RFC 5322 §3.2.4 quoted-string
      [text, j] = readQuoted(s, i);
      kind = "quoted";
    } else if (ch === "[") { // RFC 5322 §3.4.1 domain-literal
      const close = s.indexOf("]", i);
      j = close === -1 ? s.length : close + 1;
      text = s.slice(i, j);
      kind = "literal";
    } else if (SPECIALS.includes(ch)) {
      j = i + 1;
      text = ch;
      kind = "special";
    } else { // atoms, dot-atoms and anything else liberal: runs up to a delimiter
      j = i + 1;
      while (j < s.length && !isDelimiter(s.charCodeAt(j))) j++;
      text = s.slice(i, j);
      kind = "word";
    }
    this.#tokens.push({ kind, text, raw: s.slice(i, j), spaced });
    this.#pos = j;
    return true;
  }
}

function isDelimiter(c: number): boolean {
  // white space, ( " [ and the specials < > @ , ; :
  return isSpace(c) || c === 0x28 || c === 0x22 || c === 0x5b || c === 0x3c || c === 0x3e ||
    c === 0x40 || c === 0x2c || c === 0x3b || c === 0x3a;
}

class Parser {
  i = 0;
  readonly out: AddressItem[] = [];
  constructor(readonly lex: Lexer) {}

  peek(): Token | undefined {
    return this.lex.at(this.i);
  }

  isSpecial(text: string): boolean {
    return this.specialAt(this.i) === text;
  }

  /** address-list: addresses separated by "," (stray separators skipped). */
  list(): AddressItem[] {
    while (this.peek() !== undefined && this.out.length < MAX_ADDRESSES) {
      if (this.isSpecial(",") || this.isSpecial(";") || this.isSpecial(">")) this.i++;
      else this.address(false);
    }
    return this.out;
  }

  /** One address (RFC 5322 §3.4): a group, a name-addr, an addr-spec, or bare words. */
  address(inGroup: boolean): void {
    const words: Token[] = [];
    let comment: string | null = null;
    for (let t = this.peek(); t !== undefined; t = this.peek()) {
      if (t.kind === "comment") comment = commentName(t.text) ?? comment;
      else if (t.kind !== "special") words.push(t);
      else if (t.text === "<") {
        this.i++;
        return this.angle(words, comment);
      } else if (t.text === "@") {
        this.i++;
        return this.addrSpec(words, comment);
      } else if (t.text === ":" && !inGroup) {
        this.i++;
        return this.group(words);
      } else if (t.text !== ":") break; // "," ";" ">" end this address
      this.i++;
    }
    if (words.length > 0) {
      const k = localStart(words);
      this.push(phrase(words.slice(0, k)) ?? comment, joinRaw(words.slice(k)), "");
    }
  }

  /** RFC 5322 §3.4 group: `display-name ":" [group-list] ";"`, as IMAP markers. */
  group(words: Token[]): void {
    this.out.push({ name: null, mailbox: phrase(words) ?? "", host: null }); // RFC 3501 §7.4.2
    while (this.peek() !== undefined) {
      if (this.isSpecial(";")) {
        this.i++;
        break;
      }
      if (this.isSpecial(",") || this.isSpecial(">") || this.out.length >= MAX_ADDRESSES) this.i++;
      else this.address(true);
    }
    this.out.push({ name: null, mailbox: null, host: null });
  }

  /** name-addr after "<": an optional obsolete route, the addr-spec, then ">". */
  angle(words: Token[], comment: string | null): void {
    if (this.isSpecial("@")) { // RFC 5322 §4.4 obs-route "@a,@b:" is ignored
      // The look-ahead stops at the next "<" too, so repeated "<@" cannot make it quadratic.
      let k = this.i;
      while (this.lex.at(k) !== undefined && !ROUTE_END.has(this.specialAt(k))) k++;
      if (this.specialAt(k) === ":") this.i = k + 1;
    }
    const local = this.collect(["@", ">", ",", ";", "<"]);
    let domain: Token[] = [];
    if (this.isSpecial("@")) {
      this.i++;
      domain = this.collect([">", ",", ";", "<"]);
    }
    if (this.isSpecial(">")) this.i++;
    const trailing = this.skipRest();
    this.push(phrase(words) ?? trailing ?? comment, joinRaw(local), joinRaw(domain));
  }

  /** addr-spec after "@": the local part is the last run of adjacent words before it. */
  addrSpec(words: Token[], comment: string | null): void {
    const k = localStart(words);
    const domain: Token[] = [];
    for (let t = this.peek(); t !== undefined; t = this.peek()) {
      if (t.kind !== "word" && t.kind !== "literal") break;
      const prev = domain[domain.length - 1];
      if (prev !== undefined && !adjacent(prev, t)) break;
      domain.push(t);
      this.i++;
    }
    const trailing = this.skipRest();
    const name = phrase(words.slice(0, k)) ?? trailing ?? comment;
    this.push(name, joinRaw(words.slice(k)), joinRaw(domain));
  }

  /** Words, quoted strings and literals up to one of `stops` (comments skipped). */
  collect(stops: string[]): Token[] {
    const got: Token[] = [];
    for (let t = this.peek(); t !== undefined; t = this.peek()) {
      if (t.kind === "special" && stops.includes(t.text)) break;
      if (t.kind !== "comment" && t.kind !== "special") got.push(t);
      this.i++;
    }
    return got;
  }

  /** Skips what follows an address up to "," or ";"; returns the last comment seen. */
  skipRest(): string | null {
    let comment: string | null = null;
    for (let t = this.peek(); t !== undefined; t = this.peek()) {
      if (t.kind === "special" && (t.text === "," || t.text === ";")) break;
      if (t.kind === "comment") comment = commentName(t.text) ?? comment;
      this.i++;
    }
    return comment;
  }

  /** The special at index `k`, or "" when that token is not a special. */
  specialAt(k: number): string {
    const t = this.lex.at(k);
    return t !== undefined && t.kind === "special" ? t.text : "";
  }

  push(name: string | null, mailbox: string, host: string): void {
    this.out.push({ name, mailbox, host });
  }
}

/** True when `b` continues `a` within one local part or domain (no space, or across a dot). */
function adjacent(a: Token, b: Token): boolean {
  return !b.spaced || a.raw.endsWith(".") || b.raw.startsWith(".");
}

/** Index where the trailing run of adjacent words (the local part) begins. */
function localStart(words: Token[]): number {
  let k = words.length - 1;
  while (k > 0 && adjacent(words[k - 1]!, words[k]!)) k--;
  return Math.max(k, 0);
}

/** The phrase text: words joined by one space where white space separated them. */
function phrase(words: Token[]): string | null {
  let out = "";
  for (const [n, w] of words.entries()) out += (n > 0 && w.spaced ? " " : "") + w.text;
  return out === "" ? null : out;
}

/** A comment used as a display name (for `addr (Name)`): trimmed, or null when blank. */
function commentName(text: string): string | null {
  const name = text.trim();
  return name === "" ? null : name;
}

function joinRaw(tokens: Token[]): string {
  return tokens.map((t) => t.raw).join("");
}

/**
 * Parses an address-list header value (From, To, Cc, …; RFC 5322 §3.4) into IMAP ENVELOPE
 * address items. Never throws; garbage gives best-effort items or an empty list.
 *
 * @example
 * ```ts
 * parseAddressList('"Doe, Jane" <jane@example.com>, team: a@x.org;');
 * // [{ name: "Doe, Jane", mailbox: "jane", host: "example.com" },
 * //  { name: null, mailbox: "team", host: null },
 * //  { name: null, mailbox: "a", host: "x.org" },
 * //  { name: null, mailbox: null, host: null }]
 * ```
 */
export function parseAddressList(value: string): AddressItem[] {
  return new Parser(new Lexer(value)).list();
}

/** The display name with RFC 2047 encoded-words decoded, or null when there is none. */
export function decodedName(item: AddressItem): string | null {
  return item.name === null ? null : decodeEncodedWords(item.name);
}

/** True for the marker that opens a group (RFC 3501 §7.4.2). */
export function isGroupStart(item: AddressItem): boolean {
  return item.host === null && item.mailbox !== null;
}

/** True for the marker that closes a group (RFC 3501 §7.4.2). */
export function isGroupEnd(item: AddressItem): boolean {
  return item.host === null && item.mailbox === null;
}
