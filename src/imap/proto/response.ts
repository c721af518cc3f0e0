/**
 * IMAP status responses (RFC 9051 §7.1): tagged completions, untagged status, BYE and
 * PREAUTH, continuation requests (§7.5), and the response codes of RFC 9051 §7.1, RFC 5530,
 * RFC 4315 (UIDPLUS), RFC 7162 (CONDSTORE, QRESYNC), RFC 4469 / RFC 7889 (TOOBIG) and
 * RFC 3501 (UNSEEN).
 *
 * Invariants:
 * - {@link tagged}, {@link untagged} and {@link continuation} return one line ending in
 *   CRLF. Human-readable text cannot add a line or fake a response code: control characters
 *   become spaces, and text after a missing code cannot start with "[". Text is cut to
 *   {@link MAX_TEXT_OCTETS}; an empty text becomes the status word, since RFC 3501 requires
 *   text.
 * - Codes are built from typed values: numbers are checked, flags and capabilities must be
 *   atoms. A value that does not fit is a programming error (a `RangeError`, which the
 *   session's error map turns into `NO [SERVERBUG]`), never a malformed line.
 * - Text may hold UTF-8 (RFC 9051 §9 text allows UTF8-2/3/4); server messages are ASCII.
 *
 * @module
 */

import { isAstringChar, isAtom } from "./_writer.ts";
import { formatFlags, formatNumberSet, isFlag, MAX_NZ_NUMBER } from "./serialize.ts";

/** The status of a tagged response (RFC 9051 §7.1.1–§7.1.3). */
export type TaggedStatus = "OK" | "NO" | "BAD";

/** The status of an untagged status response (RFC 9051 §7.1). */
export type UntaggedStatus = TaggedStatus | "PREAUTH" | "BYE";

/** Response codes without arguments. */
export type SimpleCode =
  | "ALERT" // RFC 9051 §7.1
  | "ALREADYEXISTS" // RFC 5530
  | "AUTHENTICATIONFAILED" // RFC 5530
  | "AUTHORIZATIONFAILED" // RFC 5530
  | "CANNOT" // RFC 5530
  | "CLIENTBUG" // RFC 5530
  | "CLOSED" // RFC 7162 §3.2.11, RFC 9051 §7.1
  | "CONTACTADMIN" // RFC 5530
  | "CORRUPTION" // RFC 5530
  | "EXPIRED" // RFC 5530
  | "EXPUNGEISSUED" // RFC 5530
  | "HASCHILDREN" // RFC 9051 §7.1
  | "INUSE" // RFC 5530
  | "LIMIT" // RFC 5530
  | "NOMODSEQ" // RFC 7162 §3.1.2.2
  | "NONEXISTENT" // RFC 5530
  | "NOPERM" // RFC 5530
  | "OVERQUOTA" // RFC 5530, RFC 9208
  | "PARSE" // RFC 9051 §7.1
  | "PRIVACYREQUIRED" // RFC 5530
  | "READ-ONLY" // RFC 9051 §7.1
  | "READ-WRITE" // RFC 9051 §7.1
  | "SERVERBUG" // RFC 5530
  | "TOOBIG" // RFC 4469 §5, RFC 7889 §4
  | "TRYCREATE" // RFC 9051 §7.1
  | "UIDNOTSTICKY" // RFC 4315 §3
  | "UNAVAILABLE" // RFC 5530
  | "UNKNOWN-CTE"; // RFC 3516 §4.1, RFC 9051 §7.1

/** A response code (RFC 9051 §9 resp-text-code). */
export type ResponseCode =
  | SimpleCode
  | { code: "CAPABILITY"; capabilities: readonly string[] }
  | { code: "PERMANENTFLAGS"; flags: readonly string[] }
  | { code: "BADCHARSET"; charsets?: readonly string[] }
  | { code: "UIDNEXT"; uid: number }
  | { code: "UIDVALIDITY"; uidValidity: number }
  /** IMAP4rev1 only (RFC 3501 §7.1); IMAP4rev2 dropped it. */
  | { code: "UNSEEN"; seq: number }
  | { code: "APPENDUID"; uidValidity: number; uids: readonly number[] }
  | {
    code: "COPYUID";
    uidValidity: number;
    source: readonly number[];
    destination: readonly number[];
  }
  | { code: "HIGHESTMODSEQ"; modseq: number | bigint }
  | { code: "MODIFIED"; set: readonly number[] };

const SIMPLE_CODES: ReadonlySet<string> = new Set<SimpleCode>([
  "ALERT",
  "ALREADYEXISTS",
  "AUTHENTICATIONFAILED",
  "AUTHORIZATIONFAILED",
  "CANNOT",
  "CLIENTBUG",
  "CLOSED",
  "CONTACTADMIN",
  "CORRUPTION",
  "EXPIRED",
  "EXPUNGEISSUED",
  "HASCHILDREN",
  "INUSE",
  "LIMIT",
  "NOMODSEQ",
  "NONEXISTENT",
  "NOPERM",
  "OVERQUOTA",
  "PARSE",
  "PRIVACYREQUIRED",
  "READ-ONLY",
  "READ-WRITE",
  "SERVERBUG",
  "TOOBIG",
  "TRYCREATE",
  "UIDNOTSTICKY",
  "UNAVAILABLE",
  "UNKNOWN-CTE",
]);

/** Text is cut to this many UTF-8 octets, so a response line stays short. */
export const MAX_TEXT_OCTETS = 1000;

/** RFC 7162 §7 mod-sequence-value: 1 to 2^63 - 1. */
const MAX_MODSEQ = 2n ** 63n - 1n;

function nzNumber(n: number, what: string): string {
  if (!Number.isInteger(n) || n < 1 || n > MAX_NZ_NUMBER) {
    throw new RangeError(`Cannot write ${what} ${n}: not an nz-number`);
  }
  return String(n);
}

/**
 * The capability list as CAPABILITY data and the CAPABILITY code write it (RFC 9051 §7.2.2):
 * `CAPABILITY IMAP4rev2 AUTH=PLAIN`.
 * @throws {RangeError} when a capability is not an atom.
 */
export function formatCapabilities(capabilities: readonly string[]): string {
  for (const c of capabilities) {
    if (!isAtom(c)) throw new RangeError(`Cannot write capability "${c}": not an atom`);
  }
  return ["CAPABILITY", ...capabilities].join(" ");
}

/**
 * A response code without its brackets (RFC 9051 §9 resp-text-code).
 *
 * @example
 * ```ts
 * formatResponseCode("TRYCREATE"); // "TRYCREATE"
 * formatResponseCode({ code: "COPYUID", uidValidity: 38505, source: [304, 319, 320],
 *   destination: [3956, 3957, 3958] }); // "COPYUID 38505 304,319:320 3956:3958"
 * ```
 * @throws {RangeError} for a value the code's syntax cannot carry.
 */
export function formatResponseCode(code: ResponseCode): string {
  if (typeof code === "string") {
    if (!SIMPLE_CODES.has(code)) throw new RangeError(`Unknown response code "${code}"`);
    return code;
  }
  switch (code.code) {
    case "CAPABILITY":
      return formatCapabilities(code.capabilities);
    case "PERMANENTFLAGS": { // "PERMANENTFLAGS" SP "(" [flag-perm *(SP flag-perm)] ")"
      const bad = code.flags.find((f) => !isFlag(f));
      if (bad !== undefined) throw new RangeError(`Cannot write flag "${bad}"`);
      return `PERMANENTFLAGS ${formatFlags(code.flags)}`;
    }
    case "BADCHARSET": { // "BADCHARSET" [SP "(" charset *(SP charset) ")"]
      const charsets = code.charsets ?? [];
      const bad = charsets.find((c) => !isAtom(c));
      if (bad !== undefined) throw new RangeError(`Cannot write charset "${bad}"`);
      return charsets.length === 0 ? "BADCHARSET" : `BADCHARSET (${charsets.join(" ")})`;
    }
    case "UIDNEXT":
      return `UIDNEXT ${nzNumber(code.uid, "UIDNEXT")}`;
    case "UIDVALIDITY":
      return `UIDVALIDITY ${nzNumber(code.uidValidity, "UIDVALIDITY")}`;
    case "UNSEEN":
      return `UNSEEN ${nzNumber(code.seq, "UNSEEN")}`;
    case "APPENDUID": // RFC 4315 §3: "APPENDUID" SP nz-number SP append-uid
      return `APPENDUID ${nzNumber(code.uidValidity, "UIDVALIDITY")} ${formatNumberSet(code.uids)}`;
    case "COPYUID": { // RFC 4315 §3: "COPYUID" SP nz-number SP uid-set SP uid-set
      if (code.source.length !== code.destination.length) {
        throw new RangeError("COPYUID needs as many destination UIDs as source UIDs");
      }
      return `COPYUID ${nzNumber(code.uidValidity, "UIDVALIDITY")} ${
        formatNumberSet(code.source)
      } ${formatNumberSet(code.destination)}`;
    }
    case "HIGHESTMODSEQ": { // RFC 7162 §3.1.2.1: "HIGHESTMODSEQ" SP mod-sequence-value
      const m = code.modseq;
      const valid = typeof m === "bigint"
        ? m >= 1n && m <= MAX_MODSEQ
        : Number.isSafeInteger(m) && m >= 1;
      if (!valid) throw new RangeError(`Cannot write HIGHESTMODSEQ ${m}`);
      return `HIGHESTMODSEQ ${m}`;
    }
    case "MODIFIED": // RFC 7162 §3.1.3: "MODIFIED" SP sequence-set
      return `MODIFIED ${formatNumberSet(code.set)}`;
  }
}

const encoder = new TextEncoder();
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/g;

/**
 * Human-readable text made safe for a response line (RFC 9051 §9 text: TEXT-CHAR and
 * UTF-8, no CR or LF): controls become spaces, and the text is cut to
 * {@link MAX_TEXT_OCTETS} at a character boundary.
 */
export function sanitizeText(text: string): string {
  let clean = text.replace(CONTROL, " ");
  if (clean.length > MAX_TEXT_OCTETS / 3) {
    let octets = 0;
    let end = 0;
    for (const ch of clean) {
      const size = encoder.encode(ch).length;
      if (octets + size > MAX_TEXT_OCTETS) break;
      octets += size;
      end += ch.length;
    }
    clean = clean.slice(0, end);
  }
  return clean;
}

/**
 * `[CODE] text`, or text that cannot be read as a code (RFC 9051 §9 resp-text). RFC 3501's
 * resp-text needs at least one character of text, also after a code, so an empty text
 * becomes the status in lower case ("* OK [CLOSED] ok").
 */
function respText(status: string, text: string, code: ResponseCode | undefined): string {
  let clean = sanitizeText(text);
  if (clean.trim() === "") clean = status.toLowerCase();
  if (code !== undefined) return `[${formatResponseCode(code)}] ${clean}`;
  // Without a code, text starting with "[" would read as one: a space goes before it.
  return clean.startsWith("[") ? ` ${clean}` : clean;
}

/** True for an RFC 9051 §9 tag: one or more ASTRING-CHARs other than "+". */
export function isTag(tag: string): boolean {
  if (tag.length === 0) return false;
  for (let i = 0; i < tag.length; i++) {
    const c = tag.charCodeAt(i);
    if (c === 0x2b || !isAstringChar(c)) return false;
  }
  return true;
}

/**
 * A tagged status response (RFC 9051 §7.1): `a1 OK [READ-WRITE] SELECT completed\r\n`.
 *
 * @example
 * ```ts
 * tagged("a1", "OK", "SELECT completed", "READ-WRITE");
 * // "a1 OK [READ-WRITE] SELECT completed\r\n"
 * tagged("a2", "NO", "No such mailbox", "TRYCREATE"); // "a2 NO [TRYCREATE] No such mailbox\r\n"
 * ```
 * @throws {RangeError} for a tag that is not one (answer with `untagged("BAD", …)` instead,
 *   RFC 9051 §7.1.3) or a code that cannot be written.
 */
export function tagged(
  tag: string,
  status: TaggedStatus,
  text: string,
  code?: ResponseCode,
): string {
  if (!isTag(tag)) throw new RangeError(`Cannot answer with tag "${sanitizeText(tag)}"`);
  return `${tag} ${status} ${respText(status, text, code)}\r\n`;
}

/**
 * An untagged status response (RFC 9051 §7.1): `* OK [UIDNEXT 4392] Predicted next UID\r\n`,
 * `* BYE Logging out\r\n`, `* PREAUTH …`.
 */
export function untagged(status: UntaggedStatus, text: string, code?: ResponseCode): string {
  return `* ${status} ${respText(status, text, code)}\r\n`;
}

/**
 * A continuation request (RFC 9051 §7.5): `+ text\r\n`, or `+ \r\n` (with the space) when
 * there is no text. For AUTHENTICATE the text is the base64 challenge.
 */
export function continuation(text = ""): string {
  return `+ ${sanitizeText(text)}\r\n`;
}
