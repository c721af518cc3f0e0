/**
 * MTA-STS's two texts, parsed (RFC 8461): the TXT record at `_mta-sts.<domain>` (§3.1) and the
 * policy served over HTTPS (§3.2); and the match of an MX host against a policy (§4.1).
 *
 * Pure: strings in, values out. Parsers return a value or a reason, never throw.
 *
 * @module
 */

/** A policy's mode (RFC 8461 §5). */
export type PolicyMode = "enforce" | "testing" | "none";

/** A parsed policy (RFC 8461 §3.2). */
export interface Policy {
  readonly mode: PolicyMode;
  /** Allowed MX host patterns, lower case; a leading `*.` is a wildcard for one label. */
  readonly mx: readonly string[];
  /** How long the policy may be cached, in seconds, at most {@link MAX_AGE_LIMIT}. */
  readonly maxAge: number;
}

/** A parse result: the value, or why there is none. */
export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

/** RFC 8461 §3.2: max_age has a "maximum value of 31557600" (about a year). */
export const MAX_AGE_LIMIT = 31_557_600;

// RFC 8461 §3.1: sts-field-name = ALPHA *31(ALPHA / DIGIT / "_" / "-" / ".")
const TXT_FIELD_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;
// RFC 8461 §3.1: sts-field-value = 1*(%x21-3A / %x3C / %x3E-7E): no space, ";" or "="
const TXT_FIELD_VALUE = /^[\x21-\x3a\x3c\x3e-\x7e]+$/;
// RFC 8461 §3.1: sts-id = %s"id=" 1*32(ALPHA / DIGIT)
const STS_ID = /^[A-Za-z0-9]{1,32}$/;

/** Whether a TXT record claims to be MTA-STS: §3.1 discards those that do not start so. */
export function isStsRecord(text: string): boolean {
  return /^v=STSv1[ \t]*(;|$)/.test(text);
}

/**
 * Parses an `_mta-sts` TXT record (RFC 8461 §3.1): `v=STSv1; id=…` with optional extension
 * fields; the version must come first and is case-sensitive. Returns the id.
 *
 * @example
 * ```ts
 * parseRecord("v=STSv1; id=20160831085700Z;"); // { ok: true, value: { id: "20160831085700Z" } }
 * ```
 */
export function parseRecord(text: string): Parsed<{ readonly id: string }> {
  // sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
  // sts-field-delim = *WSP ";" *WSP
  const fields = text.split(";").map((f) => f.replace(/^[ \t]+|[ \t]+$/g, ""));
  if (fields[0] !== "v=STSv1") return fail(`Record does not start with "v=STSv1;": "${text}"`);
  if (fields.length > 1 && fields.at(-1) === "") fields.pop(); // the optional final delimiter
  let id: string | null = null;
  for (const field of fields.slice(1)) {
    const at = field.indexOf("=");
    const name = at < 0 ? field : field.slice(0, at);
    const value = at < 0 ? "" : field.slice(at + 1);
    if (name === "id") {
      if (!STS_ID.test(value)) return fail(`Bad id "${value}" in "${text}"`);
      id ??= value; // §3.2: of a repeated field the first counts
    } else if (!TXT_FIELD_NAME.test(name) || !TXT_FIELD_VALUE.test(value)) {
      return fail(`Bad field "${field}" in "${text}"`);
    }
  }
  if (id === null) return fail(`No id in "${text}"`);
  return { ok: true, value: { id } };
}

/**
 * Parses a policy body (RFC 8461 §3.2): lines `key: value` ended by LF or CRLF; `version:
 * STSv1`, `mode`, `max_age` required, `mx` one or more (optional only in mode none); unknown
 * keys ignored; of a repeated key other than `mx` the first counts.
 */
export function parsePolicy(body: string): Parsed<Policy> {
  const lines = body.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop(); // the optional final line end
  const first = new Map<string, string>();
  const mx: string[] = [];
  for (const line of lines) {
    // sts-policy-field = name ":" *WSP value; the line may end in *WSP.
    const match = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,31}):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (match === null) return fail(`Bad policy line "${line}"`);
    const [, key = "", value = ""] = match;
    if (value === "") return fail(`Empty value for "${key}"`);
    if (key === "mx") {
      const pattern = mxPattern(value);
      if (pattern === null) return fail(`Bad mx pattern "${value}"`);
      mx.push(pattern);
    } else if (!first.has(key)) first.set(key, value);
  }
  if (first.get("version") !== "STSv1") {
    return fail(`Policy version is not STSv1: "${first.get("version") ?? ""}"`);
  }
  const mode = first.get("mode");
  if (mode !== "enforce" && mode !== "testing" && mode !== "none") {
    return fail(`Bad policy mode "${mode ?? ""}"`);
  }
  // sts-policy-max-age-value = 1*10(DIGIT)
  const maxAge = first.get("max_age") ?? "";
  if (!/^[0-9]{1,10}$/.test(maxAge)) return fail(`Bad max_age "${maxAge}"`);
  // §3.2: "mx" may be absent only when the mode is none.
  if (mx.length === 0 && mode !== "none") return fail(`Policy in mode ${mode} has no mx`);
  // §3.2 caps max_age at 31557600; a larger value is read as the cap rather than refused,
  // so that a domain's slip does not leave it without protection.
  return { ok: true, value: { mode, mx, maxAge: Math.min(Number(maxAge), MAX_AGE_LIMIT) } };
}

/**
 * Whether `host` (an MX host name) is allowed by `policy` (RFC 8461 §4.1): equal to a pattern,
 * case-insensitively and ignoring a trailing dot, or one label in place of a leading `*.`
 * ("*.example.com" allows "mx.example.com", not "example.com" nor "a.b.example.com").
 */
export function mxAllowed(policy: Pick<Policy, "mx">, host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return policy.mx.some((pattern) => {
    if (!pattern.startsWith("*.")) return pattern === name;
    const dot = name.indexOf(".");
    return dot > 0 && name.slice(dot + 1) === pattern.slice(2);
  });
}

/** A valid mx pattern in lower case, or null (§3.2: `["*."] Domain` of A-labels). */
function mxPattern(value: string): string | null {
  const lower = value.toLowerCase().replace(/\.$/, "");
  const domain = lower.startsWith("*.") ? lower.slice(2) : lower;
  const label = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
  const labels = domain.split(".");
  return labels.every((l) => label.test(l)) && domain.length <= 253 ? lower : null;
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
