/**
 * The Authentication-Results value (RFC 8601 §2.2) for an {@link AuthResults}: our
 * authserv-id, then one resinfo per SPF identity, per DKIM signature, per DMARC Author
 * Domain, and ARC's:
 *
 * ```text
 * mx.example.org; spf=pass smtp.mailfrom=a@sender.example; spf=none smtp.helo=client.example;
 *   dkim=pass header.d=sender.example header.s=ed header.a=ed25519-sha256 header.b=D03xzNtC;
 *   dmarc=pass (p=reject) header.from=sender.example; arc=none
 * ```
 *
 * Unfolded, on one line: the filter chain's tag fields carry no line breaks; the SMTP server
 * folds the field when it writes it (src/delivery/headers.ts).
 *
 * Invariant: what comes from the message or the client (addresses, d=, s=, b=, reasons) is
 * written as a token, an addr-spec or a quoted-string (RFC 8601 §2.2 pvalue, RFC 2045 value),
 * comments have "(", ")" and "\" quoted, and control characters never pass: a sender cannot
 * end a resinfo with ";" or add a property of its own. Identities (addresses, domains) are
 * never cut: one that is too long or not printable ASCII is left out, property and all, so
 * that no property names a domain other than the one evaluated. Only comments are cut.
 *
 * @module
 */

import type { ChainStatus } from "../dkim/mod.ts";
import type { AuthResults } from "./authenticate.ts";

/** RFC 2045 §5.1 token characters. */
// deno-lint-ignore no-control-regex -- control characters are what a token excludes
const TOKEN = /^[^\x00-\x20\x7f()<>@,;:\\"/[\]?=]+$/;
/** A dot-atom local part and a domain: written as they are (RFC 8601 §2.2 pvalue). */
const ADDR_SPEC = /^[A-Za-z0-9!#$%&'*+\/=?^_`{|}~.-]+@[A-Za-z0-9.-]+$/;
/**
 * The longest comment text taken from the message: with quoting at most 130 characters, so
 * that a whole resinfo stays below the field writer's bound of 900 (src/delivery/headers.ts;
 * a cut there could leave a quoted-string open over the resinfo after it).
 */
const MAX_COMMENT = 64;
/** RFC 1035 §2.3.4 / RFC 5321 §4.5.3.1: the longest domain and address, never cut. */
const MAX_DOMAIN = 253;
const MAX_ADDRESS = 254;
/** The longest other property value (algorithm, the first characters of b=). */
const MAX_OTHER = 32;
/** A domain (or DKIM selector) written as it is: letters, digits, "-", "_", dots. */
const DOMAIN = /^[A-Za-z0-9_.-]+$/;

/** The resinfo clauses, in order: spf, dkim, dmarc, arc. */
export function resultClauses(results: AuthResults): string[] {
  const clauses: string[] = [];
  for (const s of results.spf) {
    // RFC 8601 §2.7.2: smtp.mailfrom for MAIL FROM, smtp.helo for HELO.
    const value = s.identity === "helo" ? domainValue(s.value) : pvalue(s.value, MAX_ADDRESS);
    clauses.push(`spf=${s.result}${value === null ? "" : ` smtp.${s.identity}=${value}`}`);
  }
  if (results.dkim.length === 0) clauses.push("dkim=none");
  for (const d of results.dkim) {
    // RFC 8601 §2.7.1 header.d, header.s, header.a; RFC 6008 header.b tells signatures apart.
    const why = d.reason === null ? "" : ` ${comment(d.reason)}`;
    // A property the signature did not have, or one that cannot be written whole, is left out
    // rather than written empty or cut.
    const properties = ([
      ["d", domainValue(d.domain)],
      ["s", domainValue(d.selector)],
      ["a", pvalue(d.algorithm, MAX_OTHER)],
      ["b", pvalue(d.b, MAX_OTHER)],
    ] as const)
      .filter(([, value]) => value !== null)
      .map(([name, value]) => ` header.${name}=${value}`);
    clauses.push(`dkim=${d.result}${why}${properties.join("")}`);
  }
  const dmarc = results.dmarc;
  const overridden = results.disposition.action === "none" && results.disposition.reason !== null;
  if (dmarc.kind === "permerror") {
    clauses.push(`dmarc=permerror ${comment(dmarc.reason)}`);
  } else {
    for (const o of dmarc.outcomes) {
      const notes = [
        ...(o.published === null ? [] : [`p=${o.published}`]),
        // The disposition applied: a trusted ARC chain's override makes it none (§6.7).
        ...(o.result === "fail" ? [`dis=${overridden ? "none" : o.policy}`] : []),
        ...(o.result === "fail" && overridden ? [`override: ${results.disposition.reason}`] : []),
        ...(o.result === "pass" || (o.published !== null && o.result === "fail") ? [] : [o.reason]),
      ];
      clauses.push(dmarcClause(o.result, notes, o.domain));
    }
    // Domains shown in the display name or a comment: not Author Domains, at most Junk.
    for (const o of dmarc.displayed ?? []) {
      const failed = o.result === "fail" && o.policy !== "none";
      const notes = [
        "shown in the From display name",
        ...(o.published === null ? [] : [`p=${o.published}`]),
        ...(o.result === "fail" ? [`dis=${failed ? "quarantine" : "none"}`] : []),
        ...(o.result === "pass" || (o.published !== null && o.result === "fail") ? [] : [o.reason]),
      ];
      clauses.push(dmarcClause(o.result, notes, o.domain));
    }
  }
  const chain = results.arc;
  const sealer = chain.sealer === null ? "" : ` ${comment(`sealed by ${chain.sealer}`)}`;
  clauses.push(`arc=${chain.result}${sealer}`);
  return clauses;
}

/** A dmarc resinfo; RFC 7489 §11.2: header.from names the domain evaluated. */
function dmarcClause(result: string, notes: readonly string[], domain: string): string {
  const why = notes.length === 0 ? "" : ` ${comment(notes.join(" "))}`;
  const from = domainValue(domain);
  return `dmarc=${result}${why}${from === null ? "" : ` header.from=${from}`}`;
}

/**
 * The whole field value: the authserv-id and the clauses.
 *
 * @example
 * ```ts
 * authResultsValue("mx.example.org", ["spf=pass smtp.mailfrom=a@b.example", "arc=none"]);
 * // "mx.example.org; spf=pass smtp.mailfrom=a@b.example; arc=none"
 * ```
 */
export function authResultsValue(authservId: string, clauses: readonly string[]): string {
  return [pvalue(authservId, MAX_DOMAIN) ?? "localhost", ...clauses].join("; ");
}

/**
 * RFC 8601 §2.2 pvalue: a token or an addr-spec as it is, anything else quoted; null for an
 * empty value, one longer than `max`, or one with characters other than printable ASCII:
 * such a value is left out, never cut or altered.
 */
export function pvalue(text: string, max: number): string | null {
  if (text === "" || text.length > max || !/^[\x20-\x7e]+$/.test(text)) return null;
  if (TOKEN.test(text) || ADDR_SPEC.test(text)) return text;
  return `"${text.replace(/["\\]/g, "\\$&")}"`;
}

/** A domain or selector as a token, or null when it is not one or longer than a domain. */
function domainValue(text: string): string | null {
  return text.length <= MAX_DOMAIN && DOMAIN.test(text) ? text : null;
}

/** An RFC 5322 §3.2.2 comment with its parentheses, cut to {@link MAX_COMMENT} characters. */
export function comment(text: string): string {
  return `(${printable(text).replace(/[()\\]/g, "\\$&")})`;
}

/** Visible ASCII and single spaces only, cut to {@link MAX_COMMENT} characters. */
function printable(text: string): string {
  return text.replace(/[^\x21-\x7e]+/g, " ").trim().slice(0, MAX_COMMENT);
}

/** What a forwarding hop seals (src/dkim/arc.ts): our payload and the chain's status. */
export interface SealingResults {
  /** The Authentication-Results payload: authserv-id and resinfos, unfolded. */
  readonly authResults: string;
  /** The `arc=` result: RFC 8617 §4.4 chain validation status of the sets that came. */
  readonly chain: ChainStatus;
}

/**
 * Reads our Authentication-Results field (as written, folded, with or without its name) for
 * ARC sealing: the payload becomes the ARC-Authentication-Results (RFC 8617 §4.1.1) and the
 * `arc=` resinfo is the chain status (§5.1: the sealer's own validation, done once by
 * {@link authenticate}, not repeated). Null when it has no `arc=` resinfo: no check ran (the
 * field says `none`), so there is nothing to vouch for.
 *
 * @example
 * ```ts
 * sealingResults("Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=a@b.example;\r\n\tarc=none\r\n");
 * // { authResults: "mx.example.org; spf=pass smtp.mailfrom=a@b.example; arc=none", chain: "none" }
 * ```
 */
export function sealingResults(field: string): SealingResults | null {
  const payload = field.replace(/^Authentication-Results[ \t]*:/i, "")
    .replace(/\r\n(?=[ \t])/g, "").replace(/\r\n$/, "").replace(/[ \t]+/g, " ").trim();
  // RFC 8601 §2.2: resinfos follow ";" outside quoted-strings and comments. Ours are written
  // by resultClauses, arc= last; each is found by its method as a word after ";".
  let depth = 0;
  let quoted = false;
  let chain: ChainStatus | null = null;
  for (let i = 0; i < payload.length; i++) {
    const c = payload[i]!;
    if ((quoted || depth > 0) && c === "\\") i++;
    else if (quoted) quoted = c !== '"';
    else if (c === '"') quoted = true;
    else if (c === "(") depth++;
    else if (c === ")" && depth > 0) depth--;
    else if (c === ";" && depth === 0) {
      const method = /^ ?arc=(none|pass|fail)(?=[ ;]|$)/.exec(payload.slice(i + 1));
      if (method) chain = method[1] as ChainStatus;
    }
  }
  return chain === null ? null : { authResults: payload, chain };
}
