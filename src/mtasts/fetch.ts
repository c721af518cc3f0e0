/**
 * Policy fetching (RFC 8461 §3.3): GET `https://mta-sts.<domain>/.well-known/mta-sts.txt`.
 *
 * Invariants and security model:
 * - The name `mta-sts.<domain>` is resolved by our resolver (the same one MX lookups use), never
 *   the system's; each of its addresses is tried in turn (IPv6 first), with SNI and the Host
 *   field still `mta-sts.<domain>`.
 * - The certificate must be valid for `mta-sts.<domain>` and chain to a trusted root (§3.3);
 *   TLS 1.2 at least. Trusted roots are the runtime's, or `ca` (tests).
 * - Only a 200 counts: redirects are not followed (§3.3), nothing is cached by HTTP (§3.3),
 *   and the media type must be text/plain (§3.2).
 * - Bounded: the body at most `maxBytes` (64 KiB), the whole fetch at most `timeoutMs` (one
 *   minute), as §3.3 suggests. A longer body or a slower server is a failure.
 * - Needs only `--allow-net`: the TLS socket is ours (node:tls), not an https agent's, which in
 *   Deno would also want `--allow-sys=ca` (tests/mta_sts_test.ts runs it with fumi's flags).
 *
 * @module
 */

import { request } from "node:https";
import type { IncomingMessage } from "node:http";
import { connect as tlsConnect } from "node:tls";
import { lookupAddresses, type Resolver } from "../dns/mod.ts";
import { parsePolicy, type Policy } from "./parse.ts";

/** The outcome of one fetch. */
export type FetchResult =
  | { readonly ok: true; readonly policy: Policy }
  | { readonly ok: false; readonly reason: string };

/** Fetches the policy of a domain; the cache (cache.ts) takes any function of this shape. */
export type PolicyFetcher = (domain: string) => Promise<FetchResult>;

/** How {@link httpsPolicyFetcher} fetches. */
export interface HttpsFetchOptions {
  /** Resolves `mta-sts.<domain>`. */
  readonly resolver: Resolver;
  /** Trusted roots instead of the runtime's (tests). */
  readonly ca?: readonly string[];
  /** 443 (§3.3 names HTTPS); another only in tests. */
  readonly port?: number;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

/** RFC 8461 §3.3 suggests a timeout of one minute and at most 64 KiB. */
export const FETCH_DEFAULTS = { port: 443, timeoutMs: 60_000, maxBytes: 64 * 1024 } as const;

/** The well-known path of the policy (RFC 8461 §3.3). */
export const POLICY_PATH = "/.well-known/mta-sts.txt";

/**
 * A fetcher over HTTPS as RFC 8461 §3.3 asks.
 *
 * @example
 * ```ts
 * const fetchPolicy = httpsPolicyFetcher({ resolver });
 * const result = await fetchPolicy("example.net");
 * if (result.ok) console.log(result.policy.mode);
 * ```
 */
export function httpsPolicyFetcher(options: HttpsFetchOptions): PolicyFetcher {
  const port = options.port ?? FETCH_DEFAULTS.port;
  const timeoutMs = options.timeoutMs ?? FETCH_DEFAULTS.timeoutMs;
  const maxBytes = options.maxBytes ?? FETCH_DEFAULTS.maxBytes;
  return async (domain) => {
    const host = `mta-sts.${domain}`;
    const deadline = Date.now() + timeoutMs;
    const { addresses, temporaryError } = await lookupAddresses(options.resolver, host);
    if (addresses.length === 0) {
      return { ok: false, reason: temporaryError ?? `${host} has no address` };
    }
    let problem = "";
    for (const address of addresses) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      // A throw (say, a permission the runtime lacks) is a failed fetch like any other: it is
      // reported as the reason, and delivery goes on as §3.3 says for a policy not had.
      const got = await get({ host, address, port, ca: options.ca, timeoutMs: left, maxBytes })
        .catch((error: unknown): Got => ({
          kind: "failed",
          reason: `Cannot fetch: ${error instanceof Error ? error.message : String(error)}`,
        }));
      if (got.kind === "unreachable") {
        problem = `${host} [${address}]: ${got.reason}`;
        continue;
      }
      if (got.kind === "failed") {
        return { ok: false, reason: `${host} [${address}]: ${got.reason}` };
      }
      const parsed = parsePolicy(got.body);
      return parsed.ok
        ? { ok: true, policy: parsed.value }
        : { ok: false, reason: `${host}: ${parsed.reason}` };
    }
    return { ok: false, reason: problem || `${host}: timed out` };
  };
}

type Got =
  | { readonly kind: "body"; readonly body: string }
  /** No connection or no TLS session: the next address may do better. */
  | { readonly kind: "unreachable"; readonly reason: string }
  /** The server answered, wrongly. */
  | { readonly kind: "failed"; readonly reason: string };

interface GetOptions {
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly ca: readonly string[] | undefined;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

/** One GET of the policy from one address. */
function get(o: GetOptions): Promise<Got> {
  return new Promise<Got>((resolve) => {
    let settled = false;
    const timer = setTimeout(
      () => finish({ kind: "failed", reason: `No policy within ${o.timeoutMs} ms` }),
      o.timeoutMs,
    );
    const finish = (got: Got) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(got);
    };
    const req = request({
      host: o.host,
      port: o.port,
      path: POLICY_PATH,
      method: "GET",
      headers: { accept: "text/plain", connection: "close", "cache-control": "no-cache" },
      // Our own socket, not an agent's: to the address our resolver gave, with SNI and the
      // certificate check on the name. (Deno's https agent would also ask for --allow-sys=ca.)
      createConnection: () =>
        tlsConnect({
          host: o.address,
          port: o.port,
          servername: o.host,
          rejectUnauthorized: true,
          minVersion: "TLSv1.2",
          ...(o.ca ? { ca: [...o.ca] } : {}),
        }),
    }, (res: IncomingMessage) => {
      // RFC 8461 §3.3: 3xx redirects are not followed; only a 200 is a policy.
      if (res.statusCode !== 200) {
        return finish({ kind: "failed", reason: `HTTP status ${res.statusCode}, not 200` });
      }
      // RFC 8461 §3.2: the media type must be text/plain (parameters such as charset ignored).
      const type = String(res.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      if (type !== "text/plain") {
        return finish({ kind: "failed", reason: `Content type "${type}", not text/plain` });
      }
      const chunks: Uint8Array[] = [];
      let size = 0;
      res.on("data", (chunk: Uint8Array) => {
        size += chunk.length;
        if (size > o.maxBytes) {
          return finish({ kind: "failed", reason: `Policy larger than ${o.maxBytes} bytes` });
        }
        chunks.push(chunk);
      });
      res.on("end", () => {
        const body = new Uint8Array(size);
        let at = 0;
        for (const c of chunks) {
          body.set(c, at);
          at += c.length;
        }
        finish({ kind: "body", body: new TextDecoder().decode(body) });
      });
      res.on("error", (error: Error) => finish({ kind: "failed", reason: error.message }));
    });
    req.on("error", (error: Error) => finish({ kind: "unreachable", reason: error.message }));
    req.end();
  });
}
