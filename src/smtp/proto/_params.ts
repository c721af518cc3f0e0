/**
 * ESMTP parameters of MAIL and RCPT (RFC 5321 §4.1.2 esmtp-param) and the values of those
 * Fumi knows: SIZE (RFC 1870), BODY (RFC 6152), SMTPUTF8 (RFC 6531), RET, ENVID, NOTIFY and
 * ORCPT (RFC 3461), AUTH (RFC 4954), REQUIRETLS (RFC 8689). Internal to smtp/proto; command.ts
 * re-exports the types.
 *
 * @module
 */

import { tryParseAddress } from "../../util/address.ts";
import { InvalidInputError } from "../../util/errors.ts";
import { refuse } from "./_errors.ts";
import { decodeXtext } from "./xtext.ts";

/** The parameters of MAIL FROM that Fumi understands. */
export interface MailParams {
  /** SIZE= (RFC 1870 §6), in octets; values beyond 2^53 − 1 are clamped to it. */
  size: number | null;
  /** BODY= (RFC 6152 §2), upper case. */
  body: "7BIT" | "8BITMIME" | null;
  /** SMTPUTF8 was given (RFC 6531 §3.4). */
  smtputf8: boolean;
  /** RET= (RFC 3461 §4.3), upper case. */
  ret: "FULL" | "HDRS" | null;
  /** ENVID= (RFC 3461 §4.4), decoded xtext. */
  envid: string | null;
  /** AUTH= (RFC 4954 §5), decoded xtext: an address, or "<>" kept as it is. */
  auth: string | null;
  /** REQUIRETLS was given (RFC 8689 §4.1): the message must travel over verified TLS only. */
  requireTls: boolean;
}

/** The parameters of RCPT TO that Fumi understands (RFC 3461 §4.1, §4.2). */
export interface RcptParams {
  /** NOTIFY=, upper case: "NEVER" or the listed conditions in the order given. */
  notify: readonly ("SUCCESS" | "FAILURE" | "DELAY")[] | "NEVER" | null;
  /** ORCPT=: the address type as written (`rfc822`) and the decoded address. */
  orcpt: { type: string; address: string } | null;
}

interface Param {
  /** The keyword in upper case (RFC 5321 §2.4: keywords are case-insensitive). */
  readonly keyword: string;
  readonly value: string | null;
}

// RFC 5321 §4.1.2: esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
const ESMTP_KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
// RFC 5321 §4.1.2: esmtp-value = 1*(%d33-60 / %d62-126), extended by RFC 6531 §3.3 with
// UTF8-non-ascii (of which controls and white space are refused here).
const ESMTP_VALUE = /^(?:[!-<>-~]|[^\p{ASCII}\p{Cc}\p{White_Space}])+$/u;
// RFC 1870 §6: size-value ::= 1*20DIGIT
const SIZE_VALUE = /^[0-9]{1,20}$/;
// RFC 3461 §4.4: the ENVID value is at most 100 characters.
const MAX_ENVID_LENGTH = 100;
// RFC 3461 §4.2: addr-type = atom (RFC 5322 §3.2.3 atext)
const ADDR_TYPE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;
// RFC 3461 §4.2, §4.4: the decoded values are printable US-ASCII.
const PRINTABLE_ASCII = /^[ -~]*$/;

/**
 * Splits `Mail-parameters` / `Rcpt-parameters` (RFC 5321 §4.1.2: esmtp-param *(SP
 * esmtp-param)); runs of spaces are tolerated. Throws 501 5.5.4 for a malformed or repeated
 * parameter, and 555 5.5.4 for any parameter when `esmtp` is false (the session began with
 * HELO, which offers no extensions: RFC 5321 §4.1.1.1, §4.1.1.11).
 */
export function splitParams(text: string, esmtp: boolean): Param[] {
  const params: Param[] = [];
  const seen = new Set<string>();
  for (const token of text.split(" ")) {
    if (token === "") continue;
    const eq = token.indexOf("=");
    const keyword = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? null : token.slice(eq + 1);
    if (!ESMTP_KEYWORD.test(keyword) || (value !== null && !ESMTP_VALUE.test(value))) {
      refuse(501, "5.5.4", "Syntax error in ESMTP parameters");
    }
    const upper = keyword.toUpperCase();
    if (!esmtp) refuse(555, "5.5.4", `Parameter ${upper} needs EHLO`);
    if (seen.has(upper)) refuse(501, "5.5.4", `Duplicate parameter ${upper}`);
    seen.add(upper);
    params.push({ keyword: upper, value });
  }
  return params;
}

/** RFC 5321 §4.1.1.11: a parameter the server does not know or offer is answered with 555. */
function unsupported(keyword: string): never {
  refuse(555, "5.5.4", `Unsupported parameter ${keyword}`);
}

function required(param: Param): string {
  if (param.value === null) refuse(501, "5.5.4", `Parameter ${param.keyword} needs a value`);
  return param.value;
}

function xtext(param: Param): string {
  try {
    return decodeXtext(required(param));
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    refuse(501, "5.5.4", `Parameter ${param.keyword} is not valid xtext`);
  }
}

function sizeValue(param: Param): number {
  const value = required(param);
  if (!SIZE_VALUE.test(value)) refuse(501, "5.5.4", "SIZE must be a number of octets");
  // A declared size beyond what a number holds exactly is still a (hopeless) size: clamped,
  // it is refused by the size limit with 552 (RFC 1870 §6) rather than as a syntax error.
  return Math.min(Number(value), Number.MAX_SAFE_INTEGER);
}

function bodyValue(param: Param): "7BIT" | "8BITMIME" {
  const value = required(param).toUpperCase();
  // RFC 6152 §2: body-value ::= "7BIT" / "8BITMIME"
  if (value === "7BIT" || value === "8BITMIME") return value;
  // RFC 3030 §3 adds BINARYMIME; Fumi does not offer it.
  if (value === "BINARYMIME") refuse(555, "5.5.4", "BODY=BINARYMIME is not supported");
  refuse(501, "5.5.4", "BODY must be 7BIT or 8BITMIME");
}

/**
 * The MAIL FROM parameters.
 *
 * @param smtputf8Offered whether the server offers SMTPUTF8; if not, the parameter is unknown
 * @param esmtp false after HELO: then every parameter is refused
 * @param requireTlsOffered whether the server offers REQUIRETLS now (under TLS only)
 */
export function parseMailParams(
  text: string,
  smtputf8Offered: boolean,
  esmtp: boolean,
  requireTlsOffered = false,
): MailParams {
  const result: MailParams = {
    size: null,
    body: null,
    smtputf8: false,
    ret: null,
    envid: null,
    auth: null,
    requireTls: false,
  };
  for (const param of splitParams(text, esmtp)) {
    switch (param.keyword) {
      case "SIZE":
        result.size = sizeValue(param);
        break;
      case "BODY":
        result.body = bodyValue(param);
        break;
      case "SMTPUTF8":
        if (!smtputf8Offered) unsupported(param.keyword);
        // RFC 6531 §3.4: the parameter does not accept a value
        if (param.value !== null) refuse(501, "5.5.4", "SMTPUTF8 takes no value");
        result.smtputf8 = true;
        break;
      case "RET": {
        // RFC 3461 §4.3: ret-value = "FULL" / "HDRS"
        const value = required(param).toUpperCase();
        if (value !== "FULL" && value !== "HDRS") {
          refuse(501, "5.5.4", "RET must be FULL or HDRS");
        }
        result.ret = value;
        break;
      }
      case "ENVID": {
        // RFC 3461 §4.4: envid-parameter = "ENVID=" xtext, at most 100 characters, printable
        // US-ASCII once decoded
        if (required(param).length > MAX_ENVID_LENGTH) {
          refuse(501, "5.5.4", `ENVID is longer than ${MAX_ENVID_LENGTH} characters`);
        }
        const envid = xtext(param);
        if (!PRINTABLE_ASCII.test(envid)) refuse(501, "5.5.4", "ENVID must be printable ASCII");
        result.envid = envid;
        break;
      }
      case "AUTH": {
        // RFC 4954 §5: auth-param = "AUTH=" xtext, the xtext a Mailbox or "<>"
        const auth = xtext(param);
        if (auth !== "<>" && tryParseAddress(auth) === null) {
          refuse(501, "5.5.4", "AUTH must be an address or <>");
        }
        result.auth = auth;
        break;
      }
      case "REQUIRETLS":
        // RFC 8689 §4.1: only in a session that employs TLS. 530 5.7.10 as for any command
        // that needs STARTTLS first (RFC 3207 §4, RFC 3463 X.7.10 encryption needed).
        if (!requireTlsOffered) {
          refuse(530, "5.7.10", "REQUIRETLS needs a TLS session: send STARTTLS first");
        }
        // RFC 8689 §3: the parameter has no value.
        if (param.value !== null) refuse(501, "5.5.4", "REQUIRETLS takes no value");
        result.requireTls = true;
        break;
      default:
        unsupported(param.keyword);
    }
  }
  return result;
}

function notifyValue(param: Param): RcptParams["notify"] {
  // RFC 3461 §4.1: notify-esmtp-value = "NEVER" / 1#notify-list-element;
  // notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"; NEVER stands alone.
  const items = required(param).toUpperCase().split(",");
  if (items.length === 1 && items[0] === "NEVER") return "NEVER";
  const list: ("SUCCESS" | "FAILURE" | "DELAY")[] = [];
  for (const item of items) {
    if (item !== "SUCCESS" && item !== "FAILURE" && item !== "DELAY") {
      refuse(501, "5.5.4", "NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY");
    }
    if (list.includes(item)) refuse(501, "5.5.4", `NOTIFY lists ${item} twice`);
    list.push(item);
  }
  return list;
}

function orcptValue(param: Param): { type: string; address: string } {
  // RFC 3461 §4.2: orcpt-parameter = "ORCPT=" original-recipient-address;
  // original-recipient-address = addr-type ";" xtext
  const value = required(param);
  const semicolon = value.indexOf(";");
  const type = semicolon < 0 ? "" : value.slice(0, semicolon);
  if (!ADDR_TYPE.test(type) || semicolon === value.length - 1) {
    refuse(501, "5.5.4", "ORCPT must be an address type, ';' and an xtext address");
  }
  // RFC 3461 §4.2: the whole parameter is at most 500 characters.
  if (value.length > 500) refuse(501, "5.5.4", "ORCPT longer than 500 characters");
  const address = xtext({ keyword: param.keyword, value: value.slice(semicolon + 1) });
  // RFC 3461 §4.2: an rfc822 original recipient is printable US-ASCII once decoded
  if (type.toLowerCase() === "rfc822" && !PRINTABLE_ASCII.test(address)) {
    refuse(501, "5.5.4", "ORCPT address must be printable ASCII");
  }
  // Whatever the type, a control character has no place in an address, and would later be
  // written into a DSN's Original-Recipient field.
  // deno-lint-ignore no-control-regex -- control characters are what is refused
  if (/[\x00-\x1f\x7f]/.test(address)) {
    refuse(501, "5.5.4", "ORCPT address must not contain control characters");
  }
  return { type, address };
}

/** The RCPT TO parameters; `esmtp` is false after HELO (then every parameter is refused). */
export function parseRcptParams(text: string, esmtp: boolean): RcptParams {
  const result: RcptParams = { notify: null, orcpt: null };
  for (const param of splitParams(text, esmtp)) {
    switch (param.keyword) {
      case "NOTIFY":
        result.notify = notifyValue(param);
        break;
      case "ORCPT":
        result.orcpt = orcptValue(param);
        break;
      default:
        unsupported(param.keyword);
    }
  }
  return result;
}
