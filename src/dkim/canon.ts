/**
 * DKIM's "relaxed" canonicalisation (RFC 6376 §3.4.2 headers, §3.4.4 body) and the header
 * section split into raw fields, on bytes: a header or body need not be UTF-8, and every octet
 * outside white space and line ends passes through unchanged.
 *
 * Input is a message with CRLF line ends, as on the wire (RFC 5322 §2.1, RFC 5321 §2.3.8);
 * {@link toCrlf} makes one from a message with bare LF or CR.
 *
 * @module
 */

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

/** One header field as written, folding and all. */
export interface RawField {
  /** The name as written (without white space before the colon). */
  readonly name: string;
  /** The whole field: name, colon, value and its final CRLF, as bytes of the message. */
  readonly raw: Uint8Array;
}

/** A message's header section as raw fields, and where its body starts. */
export interface SplitMessage {
  readonly fields: readonly RawField[];
  /** Offset of the first body byte (after the empty line), or the message length. */
  readonly bodyStart: number;
}

/** Returns `raw` with every bare LF and bare CR made CRLF (the same array when none is). */
export function toCrlf(raw: Uint8Array): Uint8Array {
  let bare = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    if (b === CR) {
      if (raw[i + 1] === LF) i++;
      else bare++;
    } else if (b === LF) bare++;
  }
  if (bare === 0) return raw;
  const out = new Uint8Array(raw.length + bare);
  let o = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === CR || b === LF) {
      out[o++] = CR;
      out[o++] = LF;
      if (b === CR && raw[i + 1] === LF) i++;
    } else {
      out[o++] = b;
    }
  }
  return out;
}

function lineEnd(raw: Uint8Array, from: number): number {
  // Index just past the next CRLF, or the end.
  for (let i = from; i < raw.length - 1; i++) {
    if (raw[i] === CR && raw[i + 1] === LF) return i + 2;
  }
  return raw.length;
}

/**
 * Splits the header section (RFC 5322 §2.2) into fields. A line that starts with white space
 * continues the field before it (§2.2.3); a line without a colon is no field and is skipped.
 */
export function splitMessage(raw: Uint8Array): SplitMessage {
  const fields: RawField[] = [];
  let pos = 0;
  let start = -1;
  const close = (end: number) => {
    if (start < 0) return;
    const bytes = raw.subarray(start, end);
    const colon = bytes.indexOf(COLON);
    if (colon > 0) {
      let n = colon;
      while (n > 0 && (bytes[n - 1] === SP || bytes[n - 1] === TAB)) n--;
      fields.push({ name: latin1(bytes.subarray(0, n)), raw: bytes });
    }
    start = -1;
  };
  while (pos < raw.length) {
    if (raw[pos] === CR && raw[pos + 1] === LF) {
      close(pos);
      return { fields, bodyStart: pos + 2 };
    }
    const next = lineEnd(raw, pos);
    if (raw[pos] !== SP && raw[pos] !== TAB) {
      close(pos);
      start = pos;
    } else if (start < 0) {
      start = pos; // a continuation with nothing to continue: kept as a field-less line
    }
    pos = next;
  }
  close(pos);
  return { fields, bodyStart: raw.length };
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return s;
}

function fromLatin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * The relaxed header canonicalisation of one field (RFC 6376 §3.4.2), with its final CRLF:
 * name in lower case; value unfolded; runs of white space made one space; white space at the
 * end of the value and around the colon removed.
 */
export function relaxedHeader(field: Uint8Array | string): Uint8Array {
  const text = typeof field === "string" ? field : latin1(field);
  const colon = text.indexOf(":");
  const name = text.slice(0, colon).replace(/[ \t]+$/, "").toLowerCase();
  const value = text.slice(colon + 1)
    .replace(/\r\n(?=[ \t])/g, "") // unfold
    .replace(/\r\n$/, "")
    .replace(/[ \t]+/g, " ")
    .replace(/^ | $/g, "");
  return fromLatin1(`${name}:${value}\r\n`);
}

/**
 * The relaxed body canonicalisation (RFC 6376 §3.4.4): white space at line ends removed, other
 * runs of white space made one space, empty lines at the end removed, and a final CRLF added
 * to a body that is not empty. An empty body stays empty.
 */
export function relaxedBody(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 2);
  let o = 0;
  let space = false; // white space seen since the last octet written on this line
  let breaks = 0; // line ends not yet written: written before the next content
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b === CR && body[i + 1] === LF) {
      i++;
      space = false;
      breaks++;
    } else if (b === SP || b === TAB) {
      space = true;
    } else {
      for (; breaks > 0; breaks--) {
        out[o++] = CR;
        out[o++] = LF;
      }
      if (space) out[o++] = SP;
      space = false;
      out[o++] = b;
    }
  }
  if (o > 0) {
    out[o++] = CR;
    out[o++] = LF;
  }
  return out.subarray(0, o);
}
