/**
 * Our own MTA-STS policy, for the domains we host (RFC 8461 §3): its text, served at
 * `https://mta-sts.<domain>/.well-known/mta-sts.txt`, and the id published in the
 * `_mta-sts.<domain>` TXT record. The id is a hash of the text, so it changes exactly when the
 * policy does (§3.1: senders fetch a new policy only when the id changes).
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import { POLICY_PATH } from "./fetch.ts";
import type { PolicyMode } from "./parse.ts";

/** What our policy says. */
export interface OwnPolicy {
  readonly mode: PolicyMode;
  /** The MX host names (patterns allowed by §3.2; ours are exact names). */
  readonly mx: readonly string[];
  /** Seconds senders may cache it (§3.2: at most 31557600). */
  readonly maxAge: number;
}

/** The policy file's text (§3.2): key/value lines, CRLF-terminated. */
export function policyText(policy: OwnPolicy): string {
  const lines = [
    "version: STSv1",
    `mode: ${policy.mode}`,
    ...policy.mx.map((host) => `mx: ${host}`),
    `max_age: ${policy.maxAge}`,
  ];
  return lines.map((line) => `${line}\r\n`).join("");
}

/** The policy this server publishes for every domain it hosts: its host name as the MX. */
export function ownPolicyText(config: Pick<Config, "hostname" | "mta_sts">): string {
  return policyText({
    mode: config.mta_sts.mode,
    mx: [config.hostname],
    maxAge: Math.round(config.mta_sts.max_age / 1000),
  });
}

/** The id for `text` (§3.1: 1 to 32 alphanumeric characters): 20 hex digits of its SHA-256. */
export async function policyId(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return hex.slice(0, 20);
}

/** The `_mta-sts` TXT record's text for `text` (§3.1). */
export async function policyRecord(text: string): Promise<string> {
  return `v=STSv1; id=${await policyId(text)}`;
}

/**
 * Answers a request for our policy: `GET https://mta-sts.<domain>/.well-known/mta-sts.txt` for
 * a domain `hosts` says we host gets the policy as text/plain (§3.3); anything else is not
 * this handler's (null). Redirects are not followed by senders (§3.3), so none are given.
 */
export async function policyResponse(
  request: Request,
  hosts: (domain: string) => Promise<boolean>,
  text: string,
): Promise<Response | null> {
  const url = URL.parse(request.url);
  if (url === null || url.pathname !== POLICY_PATH) return null;
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (!host.startsWith("mta-sts.")) return null;
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  if (!(await hosts(host.slice("mta-sts.".length)))) {
    return new Response("no policy for this domain\n", { status: 404 });
  }
  return new Response(request.method === "HEAD" ? null : text, {
    headers: {
      "content-type": "text/plain; charset=utf-8",
      // Senders cache by max_age, not by HTTP; a short HTTP lifetime keeps proxies honest.
      "cache-control": "max-age=300",
      "x-content-type-options": "nosniff",
    },
  });
}
