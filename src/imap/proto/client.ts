/**
 * What a client says about itself: ENABLE (RFC 5161, RFC 9051 §6.3.1) and ID (RFC 2971).
 *
 * @module
 */

import { quote } from "./_errors.ts";
import type { Reader } from "./_lexer.ts";

/** `ENABLE capability...`. */
export interface EnableCommand {
  readonly name: "ENABLE";
  /** Capability names in upper case, in the order given (at least one). */
  readonly capabilities: readonly string[];
}

/** `ID (field value ...)` or `ID NIL`. */
export interface IdCommand {
  readonly name: "ID";
  /** Field and value pairs as sent (values may be NIL), or null for `ID NIL`. */
  readonly params: readonly (readonly [field: string, value: string | null])[] | null;
}

// RFC 2971 §3.3: "Field strings MUST NOT be longer than 30 octets. Value strings MUST NOT be
// longer than 1024 octets. Implementations MUST NOT send more than 30 field-value pairs."
const MAX_ID_PAIRS = 30;
const MAX_ID_FIELD = 30;
const MAX_ID_VALUE = 1024;

/** Parses ENABLE's arguments. */
export function parseEnable(r: Reader): EnableCommand {
  // RFC 5161 §4: command-any =/ "ENABLE" 1*(SP capability)
  const capabilities: string[] = [];
  do {
    r.sp("capability name");
    capabilities.push(r.keyword("capability name"));
  } while (r.more());
  return { name: "ENABLE", capabilities };
}

/** Parses ID's arguments. */
export function parseId(r: Reader): IdCommand {
  // RFC 2971 §4: id ::= "ID" SPACE id_params_list
  // id_params_list ::= "(" #(string SPACE nstring) ")" / nil
  r.sp("ID parameter list");
  let pairs = 0;
  if (r.peekKeyword() === "NIL") {
    r.atom("NIL");
    return { name: "ID", params: null };
  }
  const params = r.list("ID parameter list", () => {
    if (++pairs > MAX_ID_PAIRS) r.fail("ID has more than 30 field-value pairs", "TOOBIG");
    const field = r.stringBytes("ID field name");
    if (field.length > MAX_ID_FIELD) r.fail("An ID field name is longer than 30 octets", "TOOBIG");
    const name = r.text(field, "ID field name");
    r.sp(`value of ID field ${quote(name)}`);
    if (r.peekKeyword() === "NIL") {
      r.atom("NIL");
      return [name, null] as const;
    }
    const value = r.stringBytes("ID field value");
    if (value.length > MAX_ID_VALUE) r.fail("An ID value is longer than 1024 octets", "TOOBIG");
    return [name, r.text(value, "ID field value")] as const;
  }, true);
  return { name: "ID", params };
}
