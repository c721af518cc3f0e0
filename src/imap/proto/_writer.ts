/**
 * The byte builder every IMAP response is written with, and the choice between the two forms
 * of an IMAP string (RFC 9051 §4.3): quoted or literal. Private to `src/imap/proto/`; the
 * public surface is `serialize.ts`.
 *
 * Invariants:
 * - Whatever value is given to {@link ResponseWriter.string}, `nstring` or `astring`, the
 *   output is one well-formed IMAP string: a quoted string never holds CR, LF or NUL (nor
 *   8-bit octets unless UTF-8 is allowed), everything else goes in a literal whose length
 *   is exact. Values cannot add lines or close lists.
 * - NUL cannot be represented in an IMAP string (RFC 9051 §9: CHAR8 = %x01-ff); a NUL in a
 *   value is sent as U+FFFD. Raw section bytes go through {@link ResponseWriter.literal},
 *   which sends them unchanged.
 * - Linear: text is appended to a string (a rope in V8) and encoded once per literal or at
 *   the end; literal bytes are kept by reference, never copied until {@link
 *   ResponseWriter.toBytes}.
 *
 * @module
 */

import { isUtf8 } from "../../mime/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true }); // keeps a leading BOM

/** Octets up to which a string that may be quoted is quoted; longer ones go as literals. */
export const MAX_QUOTED_OCTETS = 1024;

/** How strings may be written to this client. */
export interface StringOptions {
  /**
   * True when the client accepts UTF-8 in quoted strings: IMAP4rev2 (RFC 9051 §9
   * QUOTED-CHAR includes UTF8-2/3/4) or IMAP4rev1 after ENABLE UTF8=ACCEPT (RFC 6855 §3).
   * Otherwise 8-bit values are sent as literals. Default false.
   */
  utf8?: boolean;
}

const CR = 0x0d;
const LF = 0x0a;
const NUL_TEXT = /\0/g;
const REPLACEMENT = encoder.encode("\uFFFD");

/**
 * True for RFC 9051 §9 ASTRING-CHAR: ATOM-CHAR or "]". ATOM-CHAR is any CHAR except
 * atom-specials: "(" ")" "{" SP CTL "%" "*" DQUOTE "\" "]".
 */
export function isAstringChar(code: number): boolean {
  if (code <= 0x20 || code >= 0x7f) return false;
  return code !== 0x28 && code !== 0x29 && code !== 0x7b && code !== 0x25 && code !== 0x2a &&
    code !== 0x22 && code !== 0x5c;
}

/** True for RFC 9051 §9 ATOM-CHAR (an ASTRING-CHAR other than "]"). */
export function isAtomChar(code: number): boolean {
  return code !== 0x5d && isAstringChar(code);
}

/** True when `value` is an RFC 9051 §9 atom: one or more ATOM-CHARs. */
export function isAtom(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) if (!isAtomChar(value.charCodeAt(i))) return false;
  return true;
}

/**
 * The quoted form of `value` (RFC 9051 §4.3: DQUOTE, "\" before DQUOTE and "\", DQUOTE), or
 * null when it must be a literal: it holds CR, LF or NUL, 8-bit text without `utf8`, or
 * more than {@link MAX_QUOTED_OCTETS} octets.
 */
export function quoted(value: string, utf8: boolean): string | null {
  if (value.length > MAX_QUOTED_OCTETS) return null; // UTF-16 units never outnumber octets
  let octets = 0;
  let escapes = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0 || c === CR || c === LF) return null; // RFC 9051 §9 TEXT-CHAR
      if (c === 0x22 || c === 0x5c) escapes = true;
      octets++;
    } else {
      if (!utf8) return null; // RFC 3501 §9 QUOTED-CHAR is 7-bit
      octets += c < 0x800 ? 2 : 3; // a surrogate half counts 2 or 3: close enough for a bound
    }
  }
  if (octets > MAX_QUOTED_OCTETS) return null;
  return `"${escapes ? value.replace(/["\\]/g, "\\$&") : value}"`;
}

/** `value` with each NUL octet replaced by U+FFFD (EF BF BD). */
function withoutNulBytes(value: Uint8Array): Uint8Array {
  let count = 0;
  for (const b of value) if (b === 0) count++;
  if (count === 0) return value;
  const out = new Uint8Array(value.length + count * (REPLACEMENT.length - 1));
  let n = 0;
  for (const b of value) {
    if (b === 0) {
      out.set(REPLACEMENT, n);
      n += REPLACEMENT.length;
    } else out[n++] = b;
  }
  return out;
}

/** True when `bytes` can be quoted (see {@link quoted}). */
function quotableBytes(bytes: Uint8Array, utf8: boolean): boolean {
  if (bytes.length > MAX_QUOTED_OCTETS) return false;
  let high = false;
  for (const b of bytes) {
    if (b === 0 || b === CR || b === LF) return false;
    if (b >= 0x80) {
      if (!utf8) return false;
      high = true;
    }
  }
  return !high || isUtf8(bytes);
}

/**
 * Builds a response as bytes: protocol text, IMAP strings and literals, in order.
 *
 * `text` is for syntax the server writes itself ("* 3 FETCH (", "UID 7", " ") and is not
 * checked; every value that came from a message, a client or the store goes through
 * {@link string}, {@link nstring}, {@link astring}, {@link number} or {@link literal}.
 *
 * @example
 * ```ts
 * const w = new ResponseWriter({ utf8: false });
 * w.text("* 1 FETCH (BODY[] ").literal(new TextEncoder().encode("Hi\r\n")).text(")").crlf();
 * new TextDecoder().decode(w.toBytes()); // "* 1 FETCH (BODY[] {4}\r\nHi\r\n)\r\n"
 * ```
 */
export class ResponseWriter {
  /** Whether UTF-8 may be quoted (see {@link StringOptions.utf8}). */
  readonly utf8: boolean;
  #chunks: Uint8Array[] = [];
  #text = "";

  constructor(options: StringOptions = {}) {
    this.utf8 = options.utf8 ?? false;
  }

  /** Appends protocol syntax as it is. Never pass it a value from outside. */
  text(syntax: string): this {
    this.#text += syntax;
    return this;
  }

  /** Appends one space. */
  sp(): this {
    this.#text += " ";
    return this;
  }

  /** Ends the line: CRLF. */
  crlf(): this {
    this.#text += "\r\n";
    return this;
  }

  /** Appends NIL. */
  nil(): this {
    this.#text += "NIL";
    return this;
  }

  /**
   * Appends a number (RFC 9051 §9 number, number64 or mod-sequence-value).
   * @throws {RangeError} when `n` is not a non-negative integer (a programming error).
   */
  number(n: number | bigint): this {
    if (typeof n === "bigint" ? n < 0n : !Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`Cannot write ${n} as an IMAP number`);
    }
    this.#text += String(n);
    return this;
  }

  /** Appends an IMAP string (RFC 9051 §4.3): quoted when it may be, else a literal. */
  string(value: string | Uint8Array): this {
    if (typeof value === "string") {
      const clean = value.includes("\0") ? value.replace(NUL_TEXT, "\uFFFD") : value;
      const q = quoted(clean, this.utf8);
      return q === null ? this.literal(encoder.encode(clean)) : this.text(q);
    }
    const clean = withoutNulBytes(value);
    if (!quotableBytes(clean, this.utf8)) return this.literal(clean);
    // ASCII or valid UTF-8: decoding and encoding again gives the same octets.
    return this.text(quoted(decoder.decode(clean), true)!);
  }

  /** Appends an nstring (RFC 9051 §4.5): NIL for null or undefined, else a string. */
  nstring(value: string | Uint8Array | null | undefined): this {
    return value === null || value === undefined ? this.nil() : this.string(value);
  }

  /**
   * Appends an astring (RFC 9051 §9), as used for mailbox names: an atom when every
   * character is an ASTRING-CHAR, else a string. "NIL" in any case is quoted, so no client
   * reads it as nil.
   */
  astring(value: string): this {
    let atom = value.length > 0 && value.toUpperCase() !== "NIL";
    for (let i = 0; atom && i < value.length; i++) atom = isAstringChar(value.charCodeAt(i));
    return atom ? this.text(value) : this.string(value);
  }

  /**
   * Appends a literal: `{n}` CRLF and the octets (RFC 9051 §4.3), or with `binary` a
   * literal8 `~{n}` (RFC 9051 §4.3.1, for BINARY[] content that may hold NUL). The bytes
   * are kept by reference until written: do not change them.
   */
  literal(bytes: Uint8Array, options: { binary?: boolean } = {}): this {
    this.#text += `${options.binary ? "~" : ""}{${bytes.length}}\r\n`;
    this.#flush();
    if (bytes.length > 0) this.#chunks.push(bytes);
    return this;
  }

  /**
   * Appends a parenthesised list: "(", the items written by `write` separated by spaces,
   * ")". An empty list is "()".
   */
  list<T>(items: Iterable<T>, write: (w: this, item: T) => void): this {
    this.#text += "(";
    let first = true;
    for (const item of items) {
      if (!first) this.#text += " ";
      first = false;
      write(this, item);
    }
    this.#text += ")";
    return this;
  }

  #flush(): void {
    if (this.#text === "") return;
    this.#chunks.push(encoder.encode(this.#text));
    this.#text = "";
  }

  /** The number of octets written so far. */
  get byteLength(): number {
    this.#flush();
    let total = 0;
    for (const chunk of this.#chunks) total += chunk.length;
    return total;
  }

  /** Everything written so far, as one array (a copy; the writer keeps its content). */
  toBytes(): Uint8Array {
    if (this.#chunks.length === 0) return encoder.encode(this.#text);
    this.#flush();
    const out = new Uint8Array(this.byteLength);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  /**
   * Removes and returns what was written, as chunks to write in order (literals are the
   * caller's own arrays, uncopied), so a long response can be sent as it is built.
   */
  drain(): Uint8Array[] {
    this.#flush();
    const chunks = this.#chunks;
    this.#chunks = [];
    return chunks;
  }
}
