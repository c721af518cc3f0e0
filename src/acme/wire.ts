/**
 * ACME's wire objects (RFC 8555 §7.1) and problem documents (§6.7): zod schemas, their types,
 * {@link AcmeError}, and the bounded reading and parsing every response goes through.
 *
 * @module
 */

import { z } from "zod";
import { FumiError } from "../util/errors.ts";

/** The server refused a request, or could not be reached or understood. */
export class AcmeError extends FumiError {
  /** The problem document's type (RFC 8555 §6.7), e.g. `urn:ietf:params:acme:error:rateLimited`. */
  readonly problemType: string | null;
  readonly status: number | null;

  constructor(
    message: string,
    options: {
      problemType?: string | null;
      status?: number | null;
      temporary?: boolean;
      cause?: unknown;
    } = {},
  ) {
    super(message, { temporary: options.temporary ?? true, cause: options.cause });
    this.problemType = options.problemType ?? null;
    this.status = options.status ?? null;
  }
}

/** The namespace of ACME error types. */
export const ERROR_PREFIX = "urn:ietf:params:acme:error:";
/** Problem types after which the same request may succeed later. */
const TEMPORARY_PROBLEMS = new Set([
  "rateLimited",
  "serverInternal",
  "badNonce",
  "connection",
  "dns",
]);

/** RFC 8555 §9.7.7 identifier (`dns`), RFC 8738 §3 (`ip`). */
export const identifierSchema = z.object({ type: z.string(), value: z.string() });
/** RFC 8555 §6.7 problem document (RFC 7807). */
export const problemSchema = z.object({
  type: z.string().optional(),
  detail: z.string().optional(),
  status: z.number().optional(),
  subproblems: z.array(z.object({
    type: z.string().optional(),
    detail: z.string().optional(),
    identifier: identifierSchema.optional(),
  })).optional(),
});
/** RFC 8555 §7.1.1. */
export const directorySchema = z.object({
  newNonce: z.string(),
  newAccount: z.string(),
  newOrder: z.string(),
  meta: z.object({
    termsOfService: z.string().optional(),
    externalAccountRequired: z.boolean().optional(),
  }).optional(),
});
/** RFC 8555 §7.1.2. */
export const accountSchema = z.object({
  status: z.string(),
  contact: z.array(z.string()).optional(),
});
/** RFC 8555 §7.1.3. */
export const orderSchema = z.object({
  status: z.string(),
  identifiers: z.array(identifierSchema),
  authorizations: z.array(z.string()),
  finalize: z.string(),
  certificate: z.string().optional(),
  error: problemSchema.optional(),
});
/** RFC 8555 §7.1.5. */
export const challengeSchema = z.object({
  type: z.string(),
  url: z.string(),
  status: z.string(),
  token: z.string().optional(),
  error: problemSchema.optional(),
});
/** RFC 8555 §7.1.4. */
export const authorizationSchema = z.object({
  identifier: identifierSchema,
  status: z.string(),
  challenges: z.array(challengeSchema),
  wildcard: z.boolean().optional(),
});

/** An ACME directory. */
export type Directory = z.infer<typeof directorySchema>;
/** An identifier: `dns` (RFC 8555 §9.7.7) or `ip` (RFC 8738). */
export type Identifier = z.infer<typeof identifierSchema>;
/** An order object. */
export type Order = z.infer<typeof orderSchema>;
/** An authorization object. */
export type Authorization = z.infer<typeof authorizationSchema>;
/** A challenge object. */
export type Challenge = z.infer<typeof challengeSchema>;
/** A problem document. */
export type Problem = z.infer<typeof problemSchema>;

/** Formats a problem document as one line for people. */
export function describeProblem(problem: Problem): string {
  const type = problem.type?.startsWith(ERROR_PREFIX)
    ? problem.type.slice(ERROR_PREFIX.length)
    : problem.type ?? "error";
  const sub = (problem.subproblems ?? []).map((s) =>
    `${s.identifier?.value ?? "?"}: ${s.detail ?? s.type ?? "error"}`
  );
  return `${problem.detail ?? "no detail"} (${type})${sub.length ? `; ${sub.join("; ")}` : ""}`;
}

/** An AcmeError from a problem document. */
export function problemError(what: string, problem: Problem, status: number | null): AcmeError {
  const short = problem.type?.startsWith(ERROR_PREFIX)
    ? problem.type.slice(ERROR_PREFIX.length)
    : "";
  return new AcmeError(`${what}: ${describeProblem(problem)}`, {
    problemType: problem.type ?? null,
    status,
    temporary: TEMPORARY_PROBLEMS.has(short) || (status !== null && status >= 500),
  });
}

/**
 * Parses Retry-After (RFC 9110 §10.2.3: seconds or an HTTP date) into milliseconds from `now`,
 * or null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: Date = new Date()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now.getTime());
}

/** Reads a body up to `max` bytes; a longer one is cut off and refused. */
export async function readLimited(
  response: Response,
  max: number,
  url: string,
): Promise<Uint8Array> {
  if (response.body === null) return new Uint8Array();
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel();
      throw new AcmeError(`The ACME server's answer from ${url} is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Parses a JSON body against `schema`; `what` names it in errors. */
export function parse<T>(schema: z.ZodType<T>, body: Uint8Array, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch (error) {
    throw new AcmeError(`The ACME server sent an unreadable ${what} (not JSON)`, { cause: error });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    throw new AcmeError(
      `The ACME server sent an invalid ${what}: ${result.error.issues[0]?.message}`,
    );
  }
  return result.data;
}

/** The problem document of an error response, or a generic one. */
export function readProblem(body: Uint8Array): Problem {
  try {
    const result = problemSchema.safeParse(JSON.parse(new TextDecoder().decode(body)));
    if (result.success) return result.data;
  } catch {
    // not JSON: fall through to a generic problem
  }
  return { detail: "the server gave no problem document" };
}

/** RFC 8555 §6.1: ACME runs over HTTPS only. */
export function requireHttps(url: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new AcmeError(`Invalid ACME ${what} URL "${url}"`, { temporary: false, cause: error });
  }
  if (parsed.protocol !== "https:") {
    throw new AcmeError(`The ACME ${what} URL "${url}" is not https`, { temporary: false });
  }
  return parsed.href;
}
