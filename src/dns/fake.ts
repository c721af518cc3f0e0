/**
 * A resolver that answers from a table, for tests of callers (mail authentication, the
 * queue). It knows nothing of the wire; names are given as in a zone, without trailing dots.
 *
 * @module
 */

import { canonicalName, type DnsRecord, type RecordType, type SoaRecord } from "./message.ts";
import {
  type Lookup,
  type LookupOptions,
  type Resolver,
  selectAnswer,
  temporaryFailure,
} from "./resolver.ts";

/**
 * Answers from `records`; names in `failing` answer with a temporary failure. Answers for names
 * in the zones of `secure` are authenticated when DNSSEC is asked for, as a validating
 * resolver would say of a signed zone.
 */
export class FakeResolver implements Resolver {
  readonly #records: readonly DnsRecord[];
  readonly #failing: ReadonlySet<string>;
  readonly #secure: readonly string[];
  /** Every lookup asked, as `name TYPE`, in order. */
  readonly asked: string[] = [];

  constructor(
    records: readonly DnsRecord[],
    options: { failing?: readonly string[]; secure?: readonly string[] } = {},
  ) {
    this.#records = records.map((r) => ({ ...r, name: canonicalName(r.name) }));
    this.#failing = new Set((options.failing ?? []).map(canonicalName));
    this.#secure = (options.secure ?? []).map(canonicalName);
  }

  /** Looks a name up in the table; see {@link Resolver}. */
  lookup<T extends RecordType>(
    name: string,
    type: T,
    options: LookupOptions = {},
  ): Promise<Lookup<T>> {
    const owner = canonicalName(name);
    this.asked.push(`${owner} ${type}`);
    if (this.#failing.has(owner)) {
      return Promise.resolve(temporaryFailure(owner, type, "SERVFAIL (fake)", "SERVFAIL"));
    }
    const { records, cnames } = selectAnswer(owner, type, this.#records);
    const end = cnames.at(-1)?.target ?? owner;
    const exists = this.#records.some((r) => r.name === end);
    const soa: SoaRecord = {
      type: "SOA",
      name: end,
      ttl: 60,
      mname: "ns.invalid",
      rname: "hostmaster.invalid",
      serial: 1,
      minimum: 60,
    };
    const status = records.length > 0 ? "ok" : exists ? "nodata" : "nxdomain";
    return Promise.resolve({
      name: owner,
      type,
      status,
      rcode: status === "nxdomain" ? "NXDOMAIN" : "NOERROR",
      records,
      cnames,
      authenticated: options.dnssec === true &&
        this.#secure.some((zone) => owner === zone || owner.endsWith(`.${zone}`)),
      soa: status === "ok" ? null : soa,
    });
  }
}
