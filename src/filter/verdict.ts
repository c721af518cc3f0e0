/**
 * Verdicts: what a filter check decides about a connection, a transaction or a message, with
 * constructors and the validity rules the chain enforces on every verdict it is given.
 *
 * A verdict's texts end up in an SMTP reply or a header field, so they must not be able to
 * smuggle a line break into either: {@link verdictProblem} refuses CR, LF and NUL anywhere,
 * reply codes of the wrong class, and header field names that RFC 5322 does not allow.
 *
 * @module
 */

/** One header field to add: name and unfolded value (folding is the writer's business). */
export type HeaderFieldToAdd = readonly [name: string, value: string];

/** What a check decided. */
export type Verdict =
  /** Nothing against it. */
  | { readonly action: "accept" }
  /** Accept, adding these header fields to the message. */
  | { readonly action: "tag"; readonly headers: readonly HeaderFieldToAdd[] }
  /** Accept, but deliver to the recipient's Junk mailbox. */
  | { readonly action: "quarantine"; readonly reason: string }
  /** Refuse for good: a 5xx reply (RFC 5321 §4.2.1). */
  | {
    readonly action: "reject";
    readonly code: number;
    readonly enhanced: string;
    readonly text: string;
  }
  /** Refuse for now: a 4xx reply, the client retries later (RFC 5321 §4.2.1). */
  | {
    readonly action: "tempfail";
    readonly code: number;
    readonly enhanced: string;
    readonly text: string;
  };

/** Nothing against it. */
export const ACCEPT: Verdict = Object.freeze({ action: "accept" });

/** Accept and add header fields. */
export function tag(...headers: HeaderFieldToAdd[]): Verdict {
  return { action: "tag", headers };
}

/** Accept into the recipient's Junk mailbox. */
export function quarantine(reason: string): Verdict {
  return { action: "quarantine", reason };
}

/**
 * Refuse for good.
 *
 * @example
 * ```ts
 * reject(550, "5.7.1", "Message refused by policy");
 * ```
 */
export function reject(code: number, enhanced: string, text: string): Verdict {
  return { action: "reject", code, enhanced, text };
}

/** Refuse for now. */
export function tempfail(code: number, enhanced: string, text: string): Verdict {
  return { action: "tempfail", code, enhanced, text };
}

/** RFC 5322 §3.6.8: field-name = 1*ftext, ftext = %d33-57 / %d59-126. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
/** RFC 3463 §2: class.subject.detail, subject and detail of 1 to 3 digits. */
const ENHANCED = /^([245])\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/;
/** CR, LF and NUL: what would break a reply line or a header field. */
const BREAK = /[\r\n\0]/;
/** The longest reply text or reason accepted (RFC 5321 §4.5.3.1.5: a reply line is ≤ 512). */
const MAX_TEXT = 400;

function textProblem(what: string, value: unknown): string | null {
  if (typeof value !== "string") return `${what} is not a string`;
  if (BREAK.test(value)) return `${what} contains CR, LF or NUL`;
  if (value.length > MAX_TEXT) return `${what} is longer than ${MAX_TEXT} characters`;
  return null;
}

function replyProblem(
  code: unknown,
  enhanced: unknown,
  text: unknown,
  klass: 4 | 5,
): string | null {
  if (typeof code !== "number" || !Number.isInteger(code) || Math.floor(code / 100) !== klass) {
    return `code ${String(code)} is not a ${klass}xx reply code`;
  }
  const match = typeof enhanced === "string" ? ENHANCED.exec(enhanced) : null;
  // RFC 3463 §2 / RFC 2034 §4: the enhanced code's class matches the reply's.
  if (match === null || match[1] !== String(klass)) {
    return `enhanced code ${JSON.stringify(enhanced)} is not a ${klass}.x.x status code`;
  }
  return textProblem("the text", text);
}

/**
 * What is wrong with a verdict, or null when it is valid: a known action; for reject a 5xx
 * code with a 5.x.x enhanced code, for tempfail 4xx and 4.x.x; texts without CR, LF or NUL;
 * header field names of RFC 5322 §3.6.8 characters. Takes `unknown`: checks may be plugins.
 */
export function verdictProblem(verdict: unknown): string | null {
  if (typeof verdict !== "object" || verdict === null) return "the verdict is not an object";
  const v = verdict as Record<string, unknown>;
  switch (v.action) {
    case "accept":
      return null;
    case "quarantine":
      return textProblem("the reason", v.reason);
    case "reject":
      return replyProblem(v.code, v.enhanced, v.text, 5);
    case "tempfail":
      return replyProblem(v.code, v.enhanced, v.text, 4);
    case "tag": {
      if (!Array.isArray(v.headers)) return "the headers are not a list";
      for (const field of v.headers as unknown[]) {
        if (!Array.isArray(field) || field.length !== 2) {
          return "a header is not a [name, value] pair";
        }
        const [name, value] = field as unknown[];
        if (typeof name !== "string" || !FIELD_NAME.test(name)) {
          return `header name ${JSON.stringify(name)} is not a field name (RFC 5322 §3.6.8)`;
        }
        if (typeof value !== "string" || BREAK.test(value)) {
          return `the value of header ${name} is not a string without CR, LF or NUL`;
        }
      }
      return null;
    }
    default:
      return `unknown action ${JSON.stringify(v.action)}`;
  }
}
