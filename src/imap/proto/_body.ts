/**
 * ENVELOPE, BODY and BODYSTRUCTURE data (RFC 9051 §7.5.2, RFC 3501 §7.4.2) written from the
 * values `src/mime` caches at delivery: no message bytes are read here. Private to
 * `src/imap/proto/`; the public surface is `serialize.ts`.
 *
 * Choices the RFCs leave open:
 * - Type, subtype, encoding, disposition type and parameter names are upper-cased, as in the
 *   RFC examples; parameter values are sent as the message has them.
 * - Parameter values are RFC 2231 decoded by `src/mime`. A client that accepts UTF-8 gets the
 *   decoded value; any other client gets non-ASCII values encoded again as RFC 2231 §4
 *   extended values (`"NAME*" "utf-8''%C3%A9t%C3%A9.pdf"`), as Dovecot and Cyrus send them,
 *   so the BODYSTRUCTURE of an IMAP4rev1 session stays 7-bit.
 * - message/global (RFC 6532 §3.5) gets the envelope form of RFC 9051 only for clients that
 *   accept UTF-8; IMAP4rev1's grammar has that form for message/rfc822 alone, so other
 *   clients get the basic form, a leaf they can still fetch.
 *
 * @module
 */

import type { AddressItem, BodyPart, Envelope } from "../../mime/mod.ts";
import type { ResponseWriter } from "./_writer.ts";

/**
 * Writes an ENVELOPE (RFC 9051 §7.5.2): date, subject, from, sender, reply-to, to, cc, bcc,
 * in-reply-to, message-id. Header values are sent as written (RFC 2047 words undecoded).
 */
export function writeEnvelope(w: ResponseWriter, envelope: Envelope): void {
  w.text("(").nstring(envelope.date).sp().nstring(envelope.subject).sp();
  writeAddresses(w, envelope.from);
  w.sp();
  // RFC 9051 §7.5.2: an absent or empty Sender or Reply-To takes the value of From.
  // src/mime/envelope.ts applies this already; repeated here for envelopes cached elsewhere.
  writeAddresses(w, nonEmpty(envelope.sender) ?? envelope.from);
  w.sp();
  writeAddresses(w, nonEmpty(envelope.replyTo) ?? envelope.from);
  w.sp();
  writeAddresses(w, envelope.to);
  w.sp();
  writeAddresses(w, envelope.cc);
  w.sp();
  writeAddresses(w, envelope.bcc);
  w.sp().nstring(envelope.inReplyTo).sp().nstring(envelope.messageId).text(")");
}

function nonEmpty(list: AddressItem[] | null): AddressItem[] | null {
  return list === null || list.length === 0 ? null : list;
}

/**
 * An address list: `"(" 1*address ")"` or NIL (RFC 9051 §9 env-from and the others). The
 * ABNF puts no space between addresses (the example in RFC 3501 §7.4.2 shows one; the ABNF
 * is normative). A group is a start marker `(NIL NIL "name" NIL)`, its members and an end
 * marker `(NIL NIL NIL NIL)` (RFC 9051 §7.5.2); src/mime builds those items.
 */
function writeAddresses(w: ResponseWriter, list: AddressItem[] | null): void {
  if (list === null || list.length === 0) {
    w.nil();
    return;
  }
  w.text("(");
  for (const item of list) {
    // address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"; the source
    // route (adl) is obsolete and never kept.
    w.text("(").nstring(item.name).text(" NIL ").nstring(item.mailbox).sp().nstring(item.host);
    w.text(")");
  }
  w.text(")");
}

/** The part IMAP needs under a multipart without children (RFC 9051 §9 1*body). */
const EMPTY_TEXT: BodyPart = {
  type: "text",
  subtype: "plain",
  params: [["charset", "us-ascii"]],
  id: null,
  description: null,
  encoding: "7bit",
  md5: null,
  disposition: null,
  language: null,
  location: null,
  headerStart: 0,
  bodyStart: 0,
  end: 0,
  size: 0,
  lines: 0,
};

/**
 * Writes BODY (`extensible` false) or BODYSTRUCTURE (`extensible` true) data for a part
 * (RFC 9051 §7.5.2, §9 body). Recursion follows the tree, whose depth src/mime bounds.
 */
export function writeBody(w: ResponseWriter, part: BodyPart, extensible: boolean): void {
  w.text("(");
  if (part.parts !== undefined) {
    // body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]: no space between bodies.
    const children = part.parts.length > 0 ? part.parts : [EMPTY_TEXT];
    for (const child of children) writeBody(w, child, extensible);
    w.sp().string(part.subtype.toUpperCase());
    if (extensible) {
      // body-ext-mpart = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
      w.sp();
      writeParams(w, part.params);
      writeExtensionTail(w, part);
    }
  } else {
    w.string(part.type.toUpperCase()).sp().string(part.subtype.toUpperCase()).sp();
    // body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP
    // body-fld-octets
    writeParams(w, part.params);
    w.sp().nstring(part.id).sp().nstring(part.description).sp();
    w.string(part.encoding.toUpperCase()).sp().number(part.size);
    const message = part.message;
    if (message !== undefined && (part.subtype === "rfc822" || w.utf8)) {
      // body-type-msg = media-message SP body-fields SP envelope SP body SP body-fld-lines
      w.sp();
      writeEnvelope(w, message.envelope);
      w.sp();
      writeBody(w, message.body, extensible);
      w.sp().number(part.lines ?? 0);
    } else if (part.type === "text") {
      w.sp().number(part.lines ?? 0); // body-type-text: ... SP body-fld-lines
    }
    if (extensible) {
      // body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc]]]
      w.sp().nstring(part.md5);
      writeExtensionTail(w, part);
    }
  }
  w.text(")");
}

/** SP body-fld-dsp SP body-fld-lang SP body-fld-loc, shared by both kinds of part. */
function writeExtensionTail(w: ResponseWriter, part: BodyPart): void {
  w.sp();
  // body-fld-dsp = "(" string SP body-fld-param ")" / nil (RFC 2183)
  if (part.disposition === null) w.nil();
  else {
    w.text("(").string(part.disposition.type.toUpperCase()).sp();
    writeParams(w, part.disposition.params);
    w.text(")");
  }
  w.sp();
  // body-fld-lang = nstring / "(" string *(SP string) ")" (RFC 3282 tags)
  const language = part.language;
  if (language === null || language.length === 0) w.nil();
  else if (language.length === 1) w.string(language[0]!);
  else w.list(language, (x, tag) => x.string(tag));
  w.sp().nstring(part.location); // body-fld-loc = nstring (RFC 2557)
}

/** body-fld-param = "(" string SP string *(SP string SP string) ")" / nil */
function writeParams(w: ResponseWriter, params: readonly (readonly [string, string])[]): void {
  if (params.length === 0) {
    w.nil();
    return;
  }
  w.list(params, (x, [name, value]) => {
    if (x.utf8 || isAscii(value)) x.string(name.toUpperCase()).sp().string(value);
    else x.string(`${name.toUpperCase()}*`).sp().string(extendedValue(value));
  });
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

const encoder = new TextEncoder();
const HEX = "0123456789ABCDEF";

/**
 * An RFC 2231 §4 extended value: `utf-8''` and the UTF-8 octets, each octet that is not an
 * attribute-char (RFC 2231 §7: CHAR except SPACE, CTLs, "*", "'", "%" and tspecials) as
 * `%XX`.
 */
export function extendedValue(value: string): string {
  let out = "utf-8''";
  for (const b of encoder.encode(value)) {
    const keep = b > 0x20 && b < 0x7f && !"*'%()<>@,;:\\\"/[]?=".includes(String.fromCharCode(b));
    out += keep ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}
