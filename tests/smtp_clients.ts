/**
 * What the real-client tests (tests/smtp_clients*_test.ts) share: running an external client
 * (python3, swaks) with a time bound, and reading the trace fields the server put on top of a
 * stored message.
 *
 * @module
 */

import { assertEquals, assertMatch } from "./assert.ts";

/** The name every client gives in EHLO. */
export const HELO = "client.example";

/** What a finished process left. */
export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `command` with `args` and no inherited environment beyond PATH and HOME; kills it after
 * `timeoutMs`. Its output is returned whatever the exit status.
 */
export async function runTool(
  command: string,
  args: readonly string[],
  timeoutMs = 60_000,
): Promise<ToolResult> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const env: Record<string, string> = { LANG: "C.UTF-8", PYTHONIOENCODING: "utf-8" };
    for (const name of ["PATH", "HOME"]) {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    }
    const output = await new Deno.Command(command, {
      args: [...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      clearEnv: true,
      env,
      signal: abort.signal,
    }).output();
    const decoder = new TextDecoder();
    if (abort.signal.aborted) {
      throw new Error(`${command} did not finish in ${timeoutMs} ms`);
    }
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

const TRACE_FIELDS = new Set(["return-path", "delivered-to", "received", "authentication-results"]);

/**
 * Splits a stored message into the trace fields on top (unfolded, whitespace runs made one
 * space) and the rest, which is what the client sent.
 */
export function splitTrace(stored: string): { fields: string[]; rest: string } {
  const fields: string[] = [];
  let at = 0;
  for (;;) {
    const match = /^([A-Za-z-]+):[^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*/.exec(stored.slice(at));
    if (match === null || !TRACE_FIELDS.has(match[1]!.toLowerCase())) break;
    fields.push(match[0].replace(/\r\n/g, "").replace(/[ \t]+/g, " ").trimEnd());
    at += match[0].length;
  }
  return { fields, rest: stored.slice(at) };
}

/** What a copy's trace fields must say. */
export interface ExpectedTrace {
  /** The envelope sender as Return-Path shows it ("" for the null sender). */
  readonly sender: string;
  /** The recipient this copy was delivered for. */
  readonly recipient: string;
  /** The EHLO name the client used. */
  readonly helo: string;
  /** The WITH protocol (RFC 3848, RFC 6531 §4.3): ESMTP, ESMTPS, ESMTPSA, UTF8SMTPS, … */
  readonly protocol: string;
  /** The message came to MX: an Authentication-Results field follows Received. */
  readonly mx: boolean;
  /** The Received field names one recipient (false when the message had several). */
  readonly single?: boolean;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Checks the trace fields a stored copy starts with (Return-Path, Delivered-To, Received and,
 * for MX, Authentication-Results) and returns what follows them: the message as the client
 * sent it (with Date or Message-ID added on submission when it had none).
 */
export function assertTrace(stored: string, want: ExpectedTrace): string {
  const { fields, rest } = splitTrace(stored);
  assertEquals(fields.length, want.mx ? 4 : 3, `trace fields ${JSON.stringify(fields)}`);
  assertEquals(fields[0], `Return-Path: <${want.sender}>`);
  assertEquals(fields[1], `Delivered-To: ${want.recipient}`);
  const tls = want.protocol.includes("SMTPS");
  const received = new RegExp(
    `^Received: from ${escape(want.helo)} \\(\\[127\\.0\\.0\\.1\\]\\) ` +
      (tls ? "\\(using TLSv1\\.[23] with cipher [A-Z0-9_-]+\\) " : "") +
      `by mail\\.example\\.org with ${want.protocol} id [0-9a-z]+` +
      (want.single === false ? "" : ` for <${escape(want.recipient)}>`) +
      `; [A-Z][a-z]{2}, \\d{1,2} [A-Z][a-z]{2} \\d{4} \\d{2}:\\d{2}:\\d{2} [+-]\\d{4}$`,
  );
  assertMatch(fields[2]!, received);
  if (want.mx) assertEquals(fields[3], "Authentication-Results: mail.example.org; none");
  return rest;
}

/** The hex SHA-256 of `bytes`. */
export async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
