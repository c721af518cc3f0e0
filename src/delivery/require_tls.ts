/**
 * What a message asks of the TLS its onward relay uses (RFC 8689): REQUIRETLS on MAIL FROM
 * demands verified TLS on every hop; a `TLS-Required: No` header field waives the recipient
 * domain's MTA-STS and DANE policies instead. Pure: values in, a value out.
 *
 * @module
 */

import { parseHeader } from "../mime/mod.ts";

/**
 * The message's TLS requirement: true for REQUIRETLS, false for `TLS-Required: No`, null for
 * neither (the recipient domain's policies decide).
 *
 * RFC 8689 §4.1: with the REQUIRETLS parameter given, the header field is ignored; without it,
 * a `TLS-Required` field whose value is "No" (§5, case-insensitive, the only value defined)
 * tags the message. Any other value is not one this specification defines and is ignored.
 */
export function tlsRequirement(requireTls: boolean, message: Uint8Array): boolean | null {
  if (requireTls) return true;
  const waived = parseHeader(message).fields.some((field) =>
    field.name.toLowerCase() === "tls-required" && field.value.trim().toLowerCase() === "no"
  );
  return waived ? false : null;
}
