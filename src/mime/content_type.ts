/**
 * Structured MIME header values: Content-Type (RFC 2045 §5.1), Content-Disposition
 * (RFC 2183 §2), Content-Transfer-Encoding (RFC 2045 §6.1) and Content-Language (RFC 3282
 * §2). Parameters are RFC 2231 decoded. Liberal and never throwing: comments are skipped,
 * unquoted values may hold spaces and 8-bit text, and malformed parameters are dropped.
 *
 * @module
 */

import { isSpace, readQuoted, skipCfws } from "./_lex.ts";
import { combineRfc2231Params } from "./encoded_words.ts";

/** A parsed Content-Type: lowercased type and subtype, and decoded parameters. */
export interface ContentType {
  type: string;
  subtype: string;
  /** Parameters in order, names lowercased, values unquoted and RFC 2231 decoded. */
  params: [string, string][];
}

/** A parsed Content-Disposition (RFC 2183): lowercased type and decoded parameters. */
export interface Disposition {
  type: string;
  params: [string, string][];
}

/** Parameters kept per header value; further ones are ignored. */
export const MAX_PARAMS = 100;

/** True for RFC 2045 §5.1 token characters: not SPACE, CTLs or tspecials. */
function isTokenChar(code: number): boolean {
  if (code <= 0x20 || code === 0x7f) return false;
  // tspecials: ( ) < > @ , ; : \ " / [ ] ? =
  return !'()<>@,;:\\"/[]?='.includes(String.fromCharCode(code));
}

/** Reads an RFC 2045 token at `i`; returns it (possibly empty) and the index after it. */
function readToken(s: string, i: number): [string, number] {
  let j = i;
  while (j < s.length && isTokenChar(s.charCodeAt(j))) j++;
  return [s.slice(i, j), j];
}

/**
 * Parses a Content-Type value (RFC 2045 §5.1). Returns null when there is no
 * `type/subtype`; callers then use the default of RFC 2045 §5.2.
 *
 * @example
 * ```ts
 * parseContentType('Text/HTML; charset="UTF-8" (comment)');
 * // { type: "text", subtype: "html", params: [["charset", "UTF-8"]] }
 * ```
 */
export function parseContentType(value: string): ContentType | null {
  const [type, a] = readToken(value, skipCfws(value, 0));
  let i = skipCfws(value, a);
  if (type === "" || value[i] !== "/") return null;
  const [subtype, b] = readToken(value, skipCfws(value, i + 1));
  if (subtype === "") return null;
  i = b;
  return {
    type: type.toLowerCase(),
    subtype: subtype.toLowerCase(),
    params: parseParams(value, i),
  };
}

/** Parses a Content-Disposition value (RFC 2183 §2); null when it has no type token. */
export function parseDisposition(value: string): Disposition | null {
  const [type, i] = readToken(value, skipCfws(value, 0));
  if (type === "") return null;
  return { type: type.toLowerCase(), params: parseParams(value, i) };
}

/** The Content-Transfer-Encoding mechanism (RFC 2045 §6.1), lowercased; null when empty. */
export function parseEncoding(value: string): string | null {
  const [token] = readToken(value, skipCfws(value, 0));
  return token === "" ? null : token.toLowerCase();
}

/** The language tags of a Content-Language value (RFC 3282 §2); null when there are none. */
export function parseLanguage(value: string): string[] | null {
  const tags: string[] = [];
  let i = 0;
  while (i < value.length && tags.length < MAX_PARAMS) {
    const start = skipCfws(value, i);
    let j = start;
    while (j < value.length && !isTagEnd(value.charCodeAt(j))) j++;
    if (j > start) tags.push(value.slice(start, j));
    i = skipCfws(value, j);
    if (value[i] === "," || i === start) i++; // a separator, or a stray character to step over
  }
  return tags.length > 0 ? tags : null;
}

function isTagEnd(code: number): boolean {
  return code === 0x2c || code === 0x28 || isSpace(code);
}

/**
 * Parses `*(";" attribute "=" value)` from `i` (RFC 2045 §5.1) and combines RFC 2231
 * continuations. Text between parameters that does not parse is skipped.
 */
export function parseParams(value: string, i: number): [string, string][] {
  const raw: [string, string][] = [];
  let pos = i;
  while (raw.length < MAX_PARAMS) {
    const semi = value.indexOf(";", pos);
    if (semi === -1) break;
    const [attribute, a] = readToken(value, skipCfws(value, semi + 1));
    pos = skipCfws(value, a);
    if (attribute === "" || value[pos] !== "=") continue;
    pos = skipCfws(value, pos + 1);
    if (value[pos] === '"') {
      const [text, after] = readQuoted(value, pos);
      raw.push([attribute.toLowerCase(), text]);
      pos = after;
    } else {
      // Liberal: an unquoted value runs to the next ";" (so `name=my file.pdf` works); a
      // comment after white space ends it.
      const next = value.indexOf(";", pos);
      const stop = next === -1 ? value.length : next;
      let text = value.slice(pos, stop);
      const comment = text.search(/[ \t\r\n]\(/);
      if (comment !== -1) text = text.slice(0, comment);
      raw.push([attribute.toLowerCase(), text.trim()]);
      pos = stop;
    }
  }
  return combineRfc2231Params(raw);
}

/** The first parameter called `name` (case-insensitive), or null. */
export function getParam(
  params: readonly (readonly [string, string])[],
  name: string,
): string | null {
  const wanted = name.toLowerCase();
  for (const [key, value] of params) if (key.toLowerCase() === wanted) return value;
  return null;
}
