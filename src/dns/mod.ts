/**
 * DNS for outbound delivery and mail authentication: one {@link Resolver} abstraction, a stub
 * resolver that asks configured recursive name servers over UDP and TCP, a shared TTL cache,
 * and {@link mxHosts} for RFC 5321 §5.1.
 *
 * Why our own stub resolver: `Deno.resolveDns` gives no TTLs, no AD bit, no TLSA records and
 * cannot tell NXDOMAIN from NODATA reliably; mail needs all of these.
 *
 * Invariants and security model:
 * - Results say `ok`, `nodata`, `nxdomain` or `temperror`, never throw for DNS outcomes; only
 *   NXDOMAIN and NODATA are facts about a name, everything else is `temperror` (resolver.ts).
 * - Answers are accepted only from the server asked, with our random ID and our question, on
 *   a fresh random source port per query (transport.ts, RFC 5452). Off-path spoofing still
 *   needs a guess of 32 bits; on-path attackers are out of scope without DNSSEC.
 * - `authenticated` is the AD bit as the name server sent it. It is only as trustworthy as the
 *   path to that server: DANE must use a validating resolver on loopback or a trusted link
 *   (RFC 6698 §10.1.1, RFC 7672 §1.3).
 * - Every wait is bounded (timeout per try, attempts); the cache is bounded in entries and
 *   TTL (cache.ts).
 *
 * @module
 */

import type { Config } from "../config/mod.ts";
import { CachingResolver } from "./cache.ts";
import { readResolvConf } from "./resolv_conf.ts";
import type { Resolver } from "./resolver.ts";
import { StubResolver } from "./stub.ts";

export { CACHE_DEFAULTS, type CacheOptions, CachingResolver } from "./cache.ts";
export { FakeResolver } from "./fake.ts";
export { type Addresses, lookupAddresses, lookupPtr } from "./helpers.ts";
export {
  type AaaaRecord,
  type ARecord,
  type CnameRecord,
  type DnsRecord,
  type MxRecord,
  type PtrRecord,
  RECORD_TYPES,
  type RecordOf,
  type RecordType,
  type SoaRecord,
  type TlsaRecord,
  type TxtRecord,
} from "./message.ts";
export { type MxHost, mxHosts, type MxOptions, type MxResult } from "./mx.ts";
export { parseResolvConf, readResolvConf, type ResolvConf } from "./resolv_conf.ts";
export {
  type Lookup,
  type LookupOptions,
  type LookupStatus,
  type Resolver,
  reverseName,
} from "./resolver.ts";
export { StubResolver, type StubResolverOptions } from "./stub.ts";
export type { NameServer } from "./transport.ts";

/**
 * The process's resolver from the `[dns]` config: the configured name servers, or those of
 * /etc/resolv.conf, behind one shared cache.
 *
 * @example
 * ```ts
 * const resolver = await openResolver(config.dns);
 * const mx = await mxHosts(resolver, "example.org");
 * ```
 */
export async function openResolver(
  dns: Config["dns"],
  options: { readonly resolvConf?: string } = {},
): Promise<Resolver> {
  const nameservers = dns.nameservers ??
    (await readResolvConf(options.resolvConf)).nameservers;
  return new CachingResolver(
    new StubResolver({ nameservers, timeoutMs: dns.timeout, attempts: dns.attempts }),
  );
}
