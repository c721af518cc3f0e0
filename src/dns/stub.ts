/**
 * The stub resolver: asks the configured recursive name servers, in order, and turns their
 * responses into {@link Lookup} results. No cache here (see cache.ts); no recursion of its own.
 *
 * Per try: UDP first with EDNS0; a truncated answer (TC) is asked again over TCP of the same
 * server (RFC 7766 §5). A timeout, SERVFAIL, REFUSED, NOTIMP, FORMERR or a broken reply moves
 * on to the next server; `attempts` rounds over the list at most (resolv.conf(5) semantics).
 * NOERROR and NXDOMAIN are final.
 *
 * @module
 */

import { canonicalName, RCODE, rcodeName, type RecordType, type SoaRecord } from "./message.ts";
import {
  type Lookup,
  type LookupOptions,
  type Resolver,
  selectAnswer,
  temporaryFailure,
} from "./resolver.ts";
import { type NameServer, queryTcp, queryUdp } from "./transport.ts";

/** The stub resolver's settings. */
export interface StubResolverOptions {
  /** Recursive name servers, asked in this order. */
  readonly nameservers: readonly NameServer[];
  /** How long to wait for one answer from one server, in milliseconds. */
  readonly timeoutMs: number;
  /** Rounds over the server list before giving up (at least 1). */
  readonly attempts: number;
}

/** Asks recursive name servers over UDP and TCP. */
export class StubResolver implements Resolver {
  readonly #options: StubResolverOptions;

  constructor(options: StubResolverOptions) {
    if (options.nameservers.length === 0) throw new Error("A resolver needs a name server");
    this.#options = options;
  }

  /** Looks a name up; see {@link Resolver}. */
  async lookup<T extends RecordType>(
    name: string,
    type: T,
    options: LookupOptions = {},
  ): Promise<Lookup<T>> {
    const question = { name: canonicalName(name), type };
    const query = { dnssec: options.dnssec ?? false, timeoutMs: this.#options.timeoutMs };
    let lastError = "no name server answered";
    let lastRcode: string | null = null;
    for (let attempt = 0; attempt < Math.max(1, this.#options.attempts); attempt++) {
      for (const server of this.#options.nameservers) {
        let response;
        try {
          response = await queryUdp(server, question, query);
          if (response.truncated) response = await queryTcp(server, question, query);
        } catch (error) {
          lastError = error instanceof Error ? error.message : String(error);
          lastRcode = null;
          continue;
        }
        if (response.rcode !== RCODE.NOERROR && response.rcode !== RCODE.NXDOMAIN) {
          lastRcode = rcodeName(response.rcode);
          lastError = `${rcodeName(response.rcode)} for ${question.name} ${type}`;
          continue;
        }
        const { records, cnames } = selectAnswer(question.name, type, response.answers);
        const soa = response.authorities.find((r): r is SoaRecord => r.type === "SOA") ?? null;
        const status = response.rcode === RCODE.NXDOMAIN
          ? "nxdomain"
          : records.length > 0
          ? "ok"
          : "nodata";
        return {
          name: question.name,
          type,
          status,
          rcode: rcodeName(response.rcode),
          records,
          cnames,
          authenticated: response.authenticated,
          soa: status === "ok" ? null : soa,
        };
      }
    }
    return temporaryFailure(question.name, type, lastError, lastRcode);
  }
}
