/**
 * Lexical helpers for structured header values (RFC 5322 §3.2): quoted strings, comments
 * and folding white space. They work on unfolded header text and never throw: an
 * unterminated quoted string or comment runs to the end of the value. Private to `src/mime/`.
 *
 * @module
 */

/** True for the white space that may separate tokens in an unfolded value (WSP, CR, LF). */
export function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0d || code === 0x0a;
}

/**
 * Reads the quoted string whose opening quote is at `i` (RFC 5322 §3.2.4): returns its
 * content with quoted-pairs unescaped, and the index after the closing quote.
 */
export function readQuoted(s: string, i: number): [string, number] {
  let out = "";
  let runStart = i + 1;
  let j = i + 1;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === 0x5c && j + 1 < s.length) { // RFC 5322 §3.2.1 quoted-pair
      out += s.slice(runStart, j);
      runStart = j + 1;
      j += 2;
    } else if (c === 0x22) {
      return [out + s.slice(runStart, j), j + 1];
    } else j++;
  }
  return [out + s.slice(runStart, s.length), s.length];
}

/**
 * Reads the comment whose opening parenthesis is at `i` (RFC 5322 §3.2.2, comments nest):
 * returns its content without the outer parentheses, and the index after it.
 */
export function readComment(s: string, i: number): [string, number] {
  let depth = 0;
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === 0x5c) j += 2; // quoted-pair
    else if (c === 0x28) {
      depth++;
      j++;
    } else if (c === 0x29) {
      depth--;
      j++;
      if (depth === 0) return [s.slice(i + 1, j - 1), j];
    } else j++;
  }
  return [s.slice(i + 1, s.length), s.length];
}

/** Skips comments and folding white space (RFC 5322 §3.2.2 CFWS) from `i`. */
export function skipCfws(s: string, i: number): number {
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (isSpace(c)) j++;
    else if (c === 0x28) j = readComment(s, j)[1];
    else break;
  }
  return j;
}
