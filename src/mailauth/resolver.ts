/**
 * Our resolver as the resolver function mailauth takes: `(name, type) => Promise<records>`,
 * answering as Node's `dns.promises.resolve` does, because that is what mailauth's SPF, DKIM
 * and ARC code reads:
 *
 * - records: `A`/`AAAA`/`PTR`/`CNAME` as strings, `TXT` as one array of character-strings
 *   per record (RFC 7208 §3.3: the caller joins them), `MX` as `{ exchange, priority }`;
 * - our `nxdomain` rejects with code `ENOTFOUND`, `nodata` with `ENODATA`: the two outcomes
 *   mailauth treats as facts about a name (SPF void lookups, RFC 7208 §4.6.4; "no key",
 *   RFC 6376 §6.1.2);
 * - `temperror`, and every question past the budget or after the signal is aborted, rejects
 *   with code `ETIMEOUT` or `ESERVFAIL`: a temporary error to mailauth (RFC 7208 §2.6.6
 *   temperror, RFC 6376 §6.1.2 TEMPFAIL), never a "no record".
 *
 * @module
 */

import type { DnsRecord, Lookup, LookupOptions, RecordType, Resolver } from "../dns/mod.ts";

/** The resolver function mailauth's `resolver` option takes. */
export type MailauthResolver = (
  name: string,
  type: string,
) => Promise<string[] | string[][] | MailauthMx[]>;

/** An MX record as Node's resolver gives it. */
export interface MailauthMx {
  readonly exchange: string;
  readonly priority: number;
}

/** An error as Node's resolver rejects with: `code` says what happened. */
export class DnsLookupError extends Error {
  /** `ENOTFOUND`, `ENODATA`, `ETIMEOUT`, `ESERVFAIL` or `ENOTIMP`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "DnsLookupError";
    this.code = code;
  }
}

/** Options of {@link mailauthResolver}. */
export interface MailauthResolverOptions {
  /** When aborted, every further question fails at once as a timeout. */
  readonly signal?: AbortSignal;
  /**
   * Questions one evaluation may ask in all (SPF's ten lookups, a key per DKIM and ARC
   * signature, DMARC's two); past it, lookups fail as temporary errors. Default
   * {@link DEFAULT_QUERY_BUDGET}.
   */
  readonly budget?: number;
}

/**
 * Questions per message: SPF for MAIL FROM and HELO (RFC 7208 §4.6.4: ten mechanisms each, two
 * addresses per MX or A), a key per signature, and some to spare. A message whose answers
 * need more gets temporary errors, not more of our name server's time.
 */
export const DEFAULT_QUERY_BUDGET = 200;

const decoder = new TextDecoder();

/** mailauth asks only for these; anything else is refused as not implemented. */
const TYPES = new Set(["A", "AAAA", "TXT", "MX", "PTR", "CNAME"]);

/**
 * Adapts `resolver` for mailauth; see the module documentation for the mapping.
 *
 * @example
 * ```ts
 * const result = await spf({ sender, ip, helo, resolver: mailauthResolver(resolver) });
 * ```
 */
export function mailauthResolver(
  resolver: Resolver,
  options: MailauthResolverOptions = {},
): MailauthResolver {
  let left = options.budget ?? DEFAULT_QUERY_BUDGET;
  return async (name, type) => {
    const upper = type.toUpperCase();
    if (options.signal?.aborted) {
      throw new DnsLookupError("ETIMEOUT", `Lookup of ${name} ${upper} abandoned: time is up`);
    }
    if (!TYPES.has(upper)) {
      throw new DnsLookupError("ENOTIMP", `Lookups of type ${upper} are not supported`);
    }
    if (left <= 0) {
      throw new DnsLookupError("ESERVFAIL", `Lookup of ${name} ${upper}: too many questions`);
    }
    left--;
    const lookup = await abortable(resolver, options.signal).lookup(name, upper as RecordType);
    switch (lookup.status) {
      case "nxdomain":
        throw new DnsLookupError("ENOTFOUND", `${name} does not exist`);
      case "nodata":
        throw new DnsLookupError("ENODATA", `${name} has no ${upper} records`);
      case "temperror": {
        const why = lookup.error ?? lookup.rcode ?? "no answer";
        const code = /time/i.test(why) ? "ETIMEOUT" : "ESERVFAIL";
        throw new DnsLookupError(code, `Lookup of ${name} ${upper} failed: ${why}`);
      }
      case "ok":
        break;
    }
    const records: readonly DnsRecord[] = lookup.records;
    const out: (string | string[] | MailauthMx)[] = [];
    for (const record of records) {
      switch (record.type) {
        case "A":
        case "AAAA":
          out.push(record.address);
          break;
        case "TXT":
          out.push(record.strings.map((s) => decoder.decode(s)));
          break;
        case "MX":
          out.push({ exchange: record.exchange, priority: record.preference });
          break;
        case "PTR":
        case "CNAME":
          out.push(record.target);
          break;
      }
    }
    // An answer that names only a CNAME chain has no records of the type: no data.
    if (out.length === 0) throw new DnsLookupError("ENODATA", `${name} has no ${upper} records`);
    return out as string[] | string[][] | MailauthMx[];
  };
}

/**
 * `resolver`, but once `signal` is aborted every lookup (also one already waiting for its
 * answer) ends at once as a `temperror`: the caller's time is up, and a late answer would
 * only keep it waiting.
 */
export function abortable(resolver: Resolver, signal: AbortSignal | undefined): Resolver {
  if (signal === undefined) return resolver;
  return {
    lookup<T extends RecordType>(
      name: string,
      type: T,
      options?: LookupOptions,
    ): Promise<Lookup<T>> {
      const failed = (): Lookup<T> => ({
        name: name.toLowerCase().replace(/\.$/, ""),
        type,
        status: "temperror",
        rcode: null,
        records: [],
        cnames: [],
        authenticated: false,
        soa: null,
        error: "time is up",
      });
      if (signal.aborted) return Promise.resolve(failed());
      return new Promise((resolve) => {
        const onAbort = () => resolve(failed());
        signal.addEventListener("abort", onAbort, { once: true });
        resolver.lookup(name, type, options).then(
          (lookup) => resolve(lookup),
          (error: unknown) => resolve({ ...failed(), error: String(error) }),
        ).finally(() => signal.removeEventListener("abort", onAbort));
      });
    },
  };
}
