/**
 * The tokens of an IMAP command (RFC 9051 §4, §9): atoms, numbers, quoted strings, literals
 * inline as received (`{n}` CRLF and n octets, also `{n+}` and `{n-}` of RFC 7888, and `~{n}`
 * where the caller allows it), astrings, flags, sequence sets and parenthesised lists of one
 * level. Nothing here recurses: nested structure (search keys) is the caller's, with its own
 * depth limit.
 *
 * The reader works on octets and decodes text only where a value is taken, as UTF-8 (fatal).
 * Every refusal is an {@link ImapParseError} carrying the tag once it has been read.
 *
 * @module
 */

import { latin1 } from "../../mime/mod.ts";
import { ImapParseError, type ImapParseErrorCode, quote } from "./_errors.ts";
import { parseSequenceSet, type SequenceSet } from "./sequence_set.ts";

export const SP = 0x20;
export const CR = 0x0d;
export const LF = 0x0a;
export const DQUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const LPAREN = 0x28;
export const RPAREN = 0x29;
export const LBRACE = 0x7b;
export const TILDE = 0x7e;

/** Largest literal (RFC 3501 §9 `number`; RFC 9051's number64 is refused as TOOBIG). */
export const MAX_LITERAL = 0xffff_ffff;
/** Largest `number` (RFC 9051 §9: unsigned 32-bit). */
export const MAX_NUMBER = 0xffff_ffff;
/** Largest mod-sequence (RFC 7162 §7: `mod-sequence-value`, 63 bits). */
export const MAX_MODSEQ = (1n << 63n) - 1n;

// Character classes, one bit each, indexed by octet.
const ATOM_CHAR = 1;
const ASTRING_CHAR = 2;
const LIST_CHAR = 4;
const TAG_CHAR = 8;
const TOKEN_CHAR = 16;
const DIGIT = 32;
const NAME_CHAR = 64;
const CLASS = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  // RFC 9051 §9: atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards /
  // quoted-specials / resp-specials; ATOM-CHAR = <any CHAR except atom-specials>
  const ascii = c > 0x20 && c < 0x7f;
  const special = '(){%*"\\]'.includes(String.fromCharCode(c));
  if (ascii && !special) CLASS[c]! |= ATOM_CHAR | ASTRING_CHAR | LIST_CHAR | TAG_CHAR;
  // ASTRING-CHAR = ATOM-CHAR / resp-specials; list-char = ATOM-CHAR / list-wildcards /
  // resp-specials. Leniency: octets of UTF-8 are accepted in astrings and list-mailboxes
  // (clients send unquoted UTF-8 names); decoding checks them.
  if (c === 0x5d || c >= 0x80) CLASS[c]! |= ASTRING_CHAR | LIST_CHAR;
  if (c === 0x25 || c === 0x2a) CLASS[c]! |= LIST_CHAR;
  // tag = 1*<any ASTRING-CHAR except "+">
  if (c === 0x5d) CLASS[c]! |= TAG_CHAR;
  if (c === 0x2b) CLASS[c]! &= ~TAG_CHAR;
  // What an error shows, and what a sequence set or a date is read as before it is checked.
  if (ascii && c !== LPAREN && c !== RPAREN) CLASS[c]! |= TOKEN_CHAR;
  if (c >= 0x30 && c <= 0x39) CLASS[c]! |= DIGIT;
  // Fetch attribute and section names: letters, digits, "." and "-" (BODY.PEEK, RFC822.SIZE)
  if (/[A-Za-z0-9.-]/.test(String.fromCharCode(c))) CLASS[c]! |= NAME_CHAR;
}

const SYSTEM_FLAGS = new Map(
  ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "\\Recent"].map((f) => [
    f.toUpperCase(),
    f,
  ]),
);

/** A flag with the system flags in their canonical case (`\\SEEN` gives `\\Seen`). */
export function canonicalFlag(flag: string): string {
  return SYSTEM_FLAGS.get(flag.toUpperCase()) ?? flag;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A cursor over one whole command; see the module doc. */
export class Reader {
  /** The tag, once read; carried by every error after that. */
  tag: string | null = null;
  #pos = 0;

  constructor(readonly bytes: Uint8Array) {}

  /** Throws the BAD this command gets. */
  fail(text: string, code?: ImapParseErrorCode): never {
    throw new ImapParseError(this.tag, text, code);
  }

  /** The octet at the cursor (plus `offset`), or -1 past the end. */
  peek(offset = 0): number {
    return this.bytes[this.#pos + offset] ?? -1;
  }

  /** Whether only trailing spaces and an optional final CRLF are left. */
  isEnd(): boolean {
    let p = this.#pos;
    while (this.bytes[p] === SP) p++;
    const left = this.bytes.length - p;
    return left === 0 || (left === 2 && this.bytes[p] === CR && this.bytes[p + 1] === LF);
  }

  /** Whether another argument follows: a space and then something other than the end. */
  more(): boolean {
    return this.peek() === SP && !this.isEnd();
  }

  /** Requires the end of the command (trailing spaces are tolerated). */
  end(): void {
    if (!this.isEnd()) this.fail(`Unexpected ${this.here()} after the arguments`);
  }

  /** Requires the single space that comes before `what`. */
  sp(what: string): void {
    if (this.isEnd()) this.fail(`Missing ${what}`);
    if (this.peek() === SP) {
      this.#pos++;
      return;
    }
    this.fail(`Expected one space before the ${what}, found ${this.here()}`);
  }

  /** Consumes `code` when it is next. */
  tryChar(code: number): boolean {
    if (this.peek() !== code) return false;
    this.#pos++;
    return true;
  }

  /** Requires `code` next. */
  char(code: number, what: string): void {
    if (!this.tryChar(code)) this.fail(`Expected ${what}, found ${this.here()}`);
  }

  /** What is at the cursor, quoted for an error text. */
  here(): string {
    if (this.isEnd()) return "the end of the command";
    return quote(latin1(this.bytes.subarray(this.#pos, this.#pos + 25)));
  }

  #run(mask: number): Uint8Array {
    const start = this.#pos;
    while ((CLASS[this.bytes[this.#pos] ?? 0]! & mask) !== 0) this.#pos++;
    return this.bytes.subarray(start, this.#pos);
  }

  /** The tag (RFC 9051 §9 `tag`); sets {@link Reader.tag}. */
  readTag(): string {
    const tag = latin1(this.#run(TAG_CHAR));
    if (tag === "") this.fail("Expected a tag first");
    if (this.peek() !== SP) {
      if (!this.isEnd()) this.fail(`Invalid tag, found ${this.here()} in it`);
      this.tag = tag;
      this.fail("Missing command");
    }
    this.#pos++;
    this.tag = tag;
    return tag;
  }

  /** An atom (RFC 9051 §9 `atom`), as written. */
  atom(what: string): string {
    const atom = latin1(this.#run(ATOM_CHAR));
    if (atom === "") this.fail(`Expected ${what}, found ${this.here()}`);
    return atom;
  }

  /** An atom in upper case: a keyword, whose case does not matter (RFC 9051 §9). */
  keyword(what: string): string {
    return this.atom(what).toUpperCase();
  }

  /** A name of letters, digits, "." and "-" in upper case (`BODY.PEEK`, `HEADER.FIELDS`). */
  name(what: string): string {
    const name = latin1(this.#run(NAME_CHAR));
    if (name === "") this.fail(`Expected ${what}, found ${this.here()}`);
    return name.toUpperCase();
  }

  /** The atom at the cursor in upper case, without consuming it ("" when none). */
  peekKeyword(): string {
    const start = this.#pos;
    const atom = latin1(this.#run(ATOM_CHAR));
    this.#pos = start;
    return atom.toUpperCase();
  }

  /**
   * A run of printable ASCII up to a space, a parenthesis or the end, as a string: the shape
   * of a sequence set or a date before it is checked.
   */
  token(what: string): string {
    const token = latin1(this.#run(TOKEN_CHAR));
    if (token === "") this.fail(`Expected ${what}, found ${this.here()}`);
    return token;
  }

  #digits(what: string): string {
    const digits = latin1(this.#run(DIGIT));
    if (digits === "") this.fail(`Expected ${what} as a number, found ${this.here()}`);
    return digits;
  }

  /** RFC 9051 §9 `number` (0 to 2^32-1); `nz` for `nz-number` (no 0, no leading zero). */
  number(what: string, nz = false): number {
    const digits = this.#digits(what);
    if (nz && digits.startsWith("0")) this.fail(`Expected ${what} above zero, found ${digits}`);
    if (digits.length > 10 || Number(digits) > MAX_NUMBER) {
      this.fail(`The ${what} is too large: ${quote(digits)}`);
    }
    return Number(digits);
  }

  /**
   * RFC 9051 §9 `number64`, as a JavaScript number: values above 2^53-1 (which no size or
   * offset reaches) are refused with TOOBIG rather than rounded.
   */
  number64(what: string, nz = false): number {
    const digits = this.#digits(what);
    if (nz && /^0+$/.test(digits)) this.fail(`Expected ${what} above zero, found ${digits}`);
    const value = Number(digits);
    if (!Number.isSafeInteger(value)) this.fail(`The ${what} is too large`, "TOOBIG");
    return value;
  }

  /** RFC 7162 §7 `mod-sequence-value` (1 to 2^63-1), or `mod-sequence-valzer` with `zero`. */
  modseq(what: string, zero: boolean): bigint {
    const digits = this.#digits(what).replace(/^0+(?=.)/, "");
    const value = digits.length > 19 ? MAX_MODSEQ + 1n : BigInt(digits);
    if (value > MAX_MODSEQ) this.fail(`The ${what} is too large: ${quote(digits)}`);
    if (value === 0n && !zero) this.fail(`Expected ${what} above zero`);
    return value;
  }

  /** A sequence set (RFC 9051 §9 `sequence-set`, with `$`). */
  sequenceSet(what = "sequence set"): SequenceSet {
    const text = this.token(what);
    const set = parseSequenceSet(text);
    if (set === null) this.fail(`Invalid ${what} ${quote(text)}`);
    return set;
  }

  /** A quoted string's octets (RFC 9051 §9 `quoted`), unescaped. */
  quoted(): Uint8Array {
    const bytes = this.bytes;
    const start = ++this.#pos;
    let out: number[] | null = null; // built only when there is an escape
    for (;;) {
      const c = bytes[this.#pos] ?? -1;
      if (c === DQUOTE) {
        const raw = bytes.subarray(start, this.#pos++);
        return out === null ? raw : Uint8Array.from(out);
      }
      if (c === -1) this.fail("A quoted string is not closed");
      if (c === CR || c === LF) this.fail("Line break in a quoted string (send a literal)");
      // RFC 9051 §9: QUOTED-CHAR excludes CR, LF and NUL; other controls are refused too, as
      // no name, password or search text needs them and they hide in logs and replies.
      if (c < 0x20 || c === 0x7f) this.fail("Control character in a quoted string");
      if (c === BACKSLASH) {
        // QUOTED-CHAR =/ "\" quoted-specials
        const next = bytes[this.#pos + 1];
        if (next !== DQUOTE && next !== BACKSLASH) {
          this.fail('In a quoted string "\\" may only escape "\\" or a double quote');
        }
        out ??= Array.from(bytes.subarray(start, this.#pos));
        out.push(next);
        this.#pos += 2;
        continue;
      }
      out?.push(c);
      this.#pos++;
    }
  }

  /**
   * A literal (RFC 9051 §4.3 `literal`, RFC 7888 `{n+}` and `{n-}`), whose octets follow its
   * CRLF in the command as received. `binary` allows RFC 3516 `~{n}` (literal8), the only
   * form that may hold NUL.
   */
  literal(binary: boolean): { bytes: Uint8Array; binary: boolean } {
    const isBinary = this.tryChar(TILDE);
    if (isBinary && !binary) this.fail("A binary literal ~{n} is allowed only in APPEND");
    this.char(LBRACE, '"{" to start a literal');
    const digits = latin1(this.#run(DIGIT));
    if (digits === "") this.fail("Expected the literal's size as {n}, {n+} or {n-}");
    if (!this.tryChar(0x2b)) this.tryChar(0x2d); // RFC 7888: "{" number64 ["+" / "-"] "}"
    if (!this.tryChar(0x7d)) this.fail('Expected "}" to end the literal\'s size');
    if (!this.tryChar(CR) || !this.tryChar(LF)) this.fail("Expected CRLF after a literal's size");
    const text = digits.replace(/^0+(?=.)/, "");
    if (text.length > 10 || Number(text) > MAX_LITERAL) {
      this.fail("The literal is too large", "TOOBIG");
    }
    const size = Number(text);
    if (size > this.bytes.length - this.#pos) this.fail("The literal is shorter than announced");
    const bytes = this.bytes.subarray(this.#pos, this.#pos + size);
    this.#pos += size;
    // RFC 9051 §9: CHAR8 = %x01-ff (a literal holds no NUL; literal8 may)
    if (!isBinary && bytes.includes(0)) this.fail("NUL in a literal");
    return { bytes, binary: isBinary };
  }

  /** A string (RFC 9051 §9 `string` = quoted / literal) as octets. */
  stringBytes(what: string): Uint8Array {
    const c = this.peek();
    if (c === DQUOTE) return this.quoted();
    if (c === LBRACE) return this.literal(false).bytes;
    this.fail(`Expected ${what} as a quoted string or a literal, found ${this.here()}`);
  }

  /** An astring (RFC 9051 §9 `astring` = 1*ASTRING-CHAR / string) as octets. */
  astringBytes(what: string): Uint8Array {
    const c = this.peek();
    if (c === DQUOTE || c === LBRACE) return this.stringBytes(what);
    if (c === TILDE && this.peek(1) === LBRACE) return this.literal(false).bytes; // refuses ~{n}
    const atom = this.#run(ASTRING_CHAR);
    if (atom.length === 0) this.fail(`Expected ${what}, found ${this.here()}`);
    return atom;
  }

  /** Octets as UTF-8 text; BAD when they are not UTF-8. */
  text(bytes: Uint8Array, what: string): string {
    try {
      return utf8.decode(bytes);
    } catch {
      this.fail(`The ${what} is not valid UTF-8`);
    }
  }

  /** A string (quoted or literal) as UTF-8 text. */
  string(what: string): string {
    return this.text(this.stringBytes(what), what);
  }

  /** An astring as UTF-8 text. */
  astring(what: string): string {
    return this.text(this.astringBytes(what), what);
  }

  /** A mailbox name (RFC 9051 §9 `mailbox`) as UTF-8; any case of INBOX gives "INBOX". */
  mailbox(what = "mailbox name"): string {
    const name = this.astring(what);
    // RFC 9051 §5.1: "The case-insensitive mailbox name INBOX is a special name". ASCII case
    // only: "ınbox" (dotless i) upper-cases to "INBOX" in Unicode but is another name.
    return /^inbox$/i.test(name) ? "INBOX" : name;
  }

  /** RFC 9051 §9 `list-mailbox` = 1*list-char / string: a LIST pattern, as UTF-8. */
  listMailbox(what = "mailbox pattern"): string {
    const c = this.peek();
    if (c === DQUOTE || c === LBRACE) return this.string(what);
    const run = this.#run(LIST_CHAR);
    if (run.length === 0) this.fail(`Expected ${what}, found ${this.here()}`);
    return this.text(run, what);
  }

  /**
   * A flag (RFC 9051 §9 `flag`): a system flag in its canonical case (`\seen` gives `\Seen`),
   * another `\` flag extension or a keyword as written. `keywordOnly` refuses `\` flags.
   */
  flag(what = "flag", keywordOnly = false): string {
    if (this.peek() === BACKSLASH) {
      if (keywordOnly) this.fail(`Expected ${what} without "\\", found ${this.here()}`);
      this.#pos++;
      return canonicalFlag(`\\${this.atom(what)}`);
    }
    return this.atom(what);
  }

  /** `(` item *(SP item) `)`, one level; `empty` allows `()`. */
  list<T>(what: string, item: () => T, empty: boolean): T[] {
    this.char(LPAREN, `"(" to open the ${what}`);
    const out: T[] = [];
    if (this.tryChar(RPAREN)) {
      if (!empty) this.fail(`The ${what} is empty`);
      return out;
    }
    do out.push(item()); while (this.tryChar(SP));
    this.char(RPAREN, `")" to close the ${what}`);
    return out;
  }

  /** RFC 9051 §9 `flag-list` = "(" [flag *(SP flag)] ")". */
  flagList(): string[] {
    return this.list("flag list", () => this.flag(), true);
  }
}
