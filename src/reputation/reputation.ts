/**
 * The reputation checks of the MX: DNS lists for the client address (DNSBL, DNSWL), DNS lists
 * for the domains a message names (URIBL, DBL), FCrDNS and HELO, summed into one score.
 *
 * Stages (src/filter):
 * - connect: a client on a list whose code's action is `reject` is refused at once, 554 5.7.1
 *   (RFC 5321 §3.1, RFC 3463 §3.8), naming the list, unless an allow-list (action `accept`)
 *   vouches for it;
 * - mail: an envelope sender whose domain is on a domain list with action `reject` is refused,
 *   550 5.7.1;
 * - data: every hit of the transaction (client lists, FCrDNS, HELO, envelope sender, From,
 *   body URLs) is summed; the message is refused with 550 5.7.1 at `rejectScore` (or at once
 *   on a `reject` domain hit), tagged with X-Spam-Score and X-Spam-Status fields always, and
 *   delivered to Junk at `junkScore`.
 *
 * The data stage asks again what the connect stage asked: the resolver's cache answers, and
 * failures are remembered for a minute (query.ts), so this costs no second wait.
 *
 * @module
 */

import type { Resolver } from "../dns/mod.ts";
import {
  ACCEPT,
  type Check,
  type FilterContext,
  quarantine,
  reject,
  tag,
  type Verdict,
} from "../filter/mod.ts";
import type { Logger } from "../ops/log.ts";
import {
  type Fcrdns,
  fcrdns,
  fcrdnsHits,
  heloHits,
  type IdentityHit,
  type IdentityWeights,
} from "./identity.ts";
import { type DnsList, listableAddress, type ListHit } from "./lists.ts";
import { ListQuerier } from "./query.ts";
import { hostName, messageDomains, registrableDomain } from "./uris.ts";

/** What {@link Reputation} is built from. */
export interface ReputationOptions {
  readonly resolver: Resolver;
  readonly log: Logger;
  /** Our host name, for the HELO check. */
  readonly hostname: string;
  /** Client lists (DNSBL, DNSWL). */
  readonly dnsbl: readonly DnsList[];
  /** Domain lists (URIBL, DBL). */
  readonly uribl: readonly DnsList[];
  /** The most domains of one message looked up. */
  readonly maxUriDomains: number;
  /** The score from which a message goes to Junk. */
  readonly junkScore: number;
  /** The score from which a message is refused. */
  readonly rejectScore: number;
  readonly weights: IdentityWeights;
  /** The longest wait for one list's answer, in milliseconds. */
  readonly lookupTimeoutMs: number;
  /** Milliseconds since the epoch; tests pass their own. */
  readonly now?: () => number;
}

/** One line of the score: a test name and what it weighs. */
export interface ScoreItem {
  readonly test: string;
  readonly weight: number;
}

/** What the data stage found. */
export interface Evaluation {
  readonly score: number;
  readonly items: readonly ScoreItem[];
  /** A domain hit with action `reject`, if any. */
  readonly refusal: ListHit | null;
}

/** The reputation checks, sharing one list querier (and its disabled lists). */
export class Reputation {
  readonly #options: ReputationOptions;
  readonly #lists: ListQuerier;
  /** The data stage's evaluation, for the junk check after it (same context object). */
  readonly #evaluations = new WeakMap<FilterContext, Evaluation>();

  constructor(options: ReputationOptions) {
    this.#options = options;
    this.#lists = new ListQuerier({
      resolver: options.resolver,
      log: options.log,
      timeoutMs: options.lookupTimeoutMs,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  /** The querier, for the greylisting exemption (DNSWL) and tests. */
  get lists(): ListQuerier {
    return this.#lists;
  }

  /** The longest wait for one lookup (or one round of lookups side by side), in ms. */
  get lookupTimeoutMs(): number {
    return this.#options.lookupTimeoutMs;
  }

  /**
   * The hits of a client address on the client lists; none for addresses of private networks,
   * which no list knows (lists.ts `listableAddress`).
   */
  clientHits(ip: string): Promise<ListHit[]> {
    if (!listableAddress(ip)) return Promise.resolve([]);
    return this.#lists.address(this.#options.dnsbl, ip);
  }

  /** FCrDNS of a client address: at most two lookup bounds (PTR, then the names' addresses). */
  fcrdns(ip: string): Promise<Fcrdns> {
    return fcrdns(this.#options.resolver, ip, this.#options.lookupTimeoutMs);
  }

  /**
   * The checks, in chain order. Time bound: lookups run side by side, each bounded by
   * `lookupTimeoutMs` (list lookups in query.ts, FCrDNS and HELO in identity.ts); FCrDNS takes
   * two rounds, so two bounds are the longest wait, and the check's bound is three of them and
   * a margin: the check itself never times out on slow DNS, so its list results always count.
   */
  checks(): Check[] {
    const timeoutMs = this.#options.lookupTimeoutMs * 3 + 1000;
    return [
      {
        name: "dnsbl",
        stages: ["connect"],
        timeoutMs,
        run: (context) => this.#connect(context),
      },
      {
        name: "uribl-sender",
        stages: ["mail"],
        timeoutMs,
        run: (context) => this.#mail(context),
      },
      {
        name: "reputation",
        stages: ["data"],
        timeoutMs,
        run: (context) => this.#data(context),
      },
      {
        name: "reputation-junk",
        stages: ["data"],
        run: (context) => this.#junk(context),
      },
    ];
  }

  async #connect(context: FilterContext): Promise<Verdict> {
    if (context.connection.role !== "mx") return ACCEPT;
    const hits = await this.clientHits(context.connection.ip);
    if (hits.some((h) => h.action === "accept")) return ACCEPT;
    const refusing = hits.find((h) => h.action === "reject");
    if (refusing === undefined) return ACCEPT;
    this.#options.log.info("client refused: listed", {
      ip: context.connection.ip,
      list: refusing.list,
      code: refusing.code,
    });
    // RFC 5321 §3.1: 554 instead of the greeting; RFC 3463 §3.8: 5.7.1 not authorized.
    return reject(
      554,
      "5.7.1",
      clip(
        `Service refused: ${context.connection.ip} is listed by ${refusing.list} (${refusing.meaning})`,
      ),
    );
  }

  async #mail(context: FilterContext): Promise<Verdict> {
    if (context.connection.role !== "mx" || !context.sender) return ACCEPT;
    const host = hostName(context.sender.domain);
    if (host === null) return ACCEPT;
    const hits = await this.#domainHits([{ host, registrable: registrableDomain(host) }]);
    const refusing = hits.find((h) => h.action === "reject");
    if (refusing === undefined) return ACCEPT;
    this.#options.log.info("sender refused: domain listed", {
      domain: refusing.subject,
      list: refusing.list,
      code: refusing.code,
    });
    return reject(
      550,
      "5.7.1",
      clip(`Sender domain ${refusing.subject} is listed by ${refusing.list} (${refusing.meaning})`),
    );
  }

  async #data(context: FilterContext): Promise<Verdict> {
    if (context.connection.role !== "mx" || context.message === null) return ACCEPT;
    const evaluation = await this.evaluate(context);
    this.#evaluations.set(context, evaluation);
    const { score, refusal } = evaluation;
    const { rejectScore, junkScore } = this.#options;
    if (refusal !== null) {
      this.#options.log.info("message refused: domain listed", {
        domain: refusal.subject,
        list: refusal.list,
        code: refusal.code,
      });
      return reject(
        550,
        "5.7.1",
        clip(
          `Message refused: ${refusal.subject} is listed by ${refusal.list} (${refusal.meaning})`,
        ),
      );
    }
    if (score >= rejectScore) {
      const named = listNames(evaluation.items);
      this.#options.log.info("message refused: spam score", { score, tests: evaluation.items });
      return reject(
        550,
        "5.7.1",
        clip(`Message refused: spam score ${format(score)} reached ${format(rejectScore)}${named}`),
      );
    }
    const tests = testList(evaluation.items);
    const flag = score >= junkScore ? "Yes" : "No";
    return tag(
      ["X-Spam-Score", format(score)],
      [
        "X-Spam-Status",
        `${flag}, score=${format(score)} junk=${format(junkScore)} reject=${format(rejectScore)}` +
        ` tests=${tests === "" ? "none" : tests}`,
      ],
    );
  }

  #junk(context: FilterContext): Verdict {
    const evaluation = this.#evaluations.get(context);
    if (evaluation === undefined || evaluation.score < this.#options.junkScore) return ACCEPT;
    return quarantine(`spam score ${format(evaluation.score)}`);
  }

  /** Every hit of a transaction at its data stage, summed. */
  async evaluate(context: FilterContext): Promise<Evaluation> {
    const { ip } = context.connection;
    const options = this.#options;
    const raw = context.message?.raw ?? new Uint8Array();
    const domains = messageDomains(raw, context.sender?.domain ?? null, options.maxUriDomains);
    const [clientHits, identity, domainHits] = await Promise.all([
      this.clientHits(ip),
      this.#identity(context),
      this.#domainHits(domains),
    ]);
    const items: ScoreItem[] = [];
    for (const hit of [...clientHits, ...domainHits]) {
      items.push({ test: testName(hit), weight: hit.action === "tag" ? 0 : hit.weight });
    }
    for (const hit of identity) items.push({ test: hit.test, weight: hit.weight });
    const score = Math.round(items.reduce((sum, i) => sum + i.weight, 0) * 100) / 100;
    const refusal = domainHits.find((h) => h.action === "reject") ?? null;
    return { score, items, refusal };
  }

  async #identity(context: FilterContext): Promise<IdentityHit[]> {
    const { ip } = context.connection;
    const { resolver, hostname, weights, lookupTimeoutMs } = this.#options;
    const [reverse, helo] = await Promise.all([
      this.fcrdns(ip),
      context.helo === null
        ? []
        : heloHits(resolver, context.helo, ip, hostname, weights, lookupTimeoutMs),
    ]);
    return [...fcrdnsHits(reverse, weights), ...helo];
  }

  #domainHits(
    domains: readonly { host: string; registrable: string }[],
  ): Promise<ListHit[]> {
    return this.#lists.domains(
      this.#options.uribl,
      domains.map((d) => ({
        subject: d.host,
        query: (list: DnsList) => list.registrable === false ? d.host : d.registrable,
      })),
    );
  }
}

/** A list hit's test name: `spamhaus-zen(XBL)`, `spamhaus-dbl(phish domain:evil.example)`. */
function testName(hit: ListHit): string {
  const about = hit.subject.includes(":") || /^[\d.]+$/.test(hit.subject) ? "" : `:${hit.subject}`;
  return safe(`${hit.list}(${hit.meaning}${about})`);
}

/** The longest list of tests in X-Spam-Status: the field stays one line under 998 octets. */
const MAX_TESTS_LENGTH = 800;

/**
 * `name=weight,…` for X-Spam-Status, cut after the last whole test that fits: the chain adds
 * the field as one line (RFC 5322 §2.1.1: at most 998 characters).
 */
export function testList(items: readonly ScoreItem[]): string {
  let out = "";
  for (const item of items) {
    const next = `${out === "" ? "" : ","}${item.test}=${format(item.weight)}`;
    if (out.length + next.length > MAX_TESTS_LENGTH) return `${out},...`;
    out += next;
  }
  return out;
}

/** The lists among the score's tests, for a reply text. */
function listNames(items: readonly ScoreItem[]): string {
  const lists = items.filter((i) => i.weight > 0 && i.test.includes("(")).map((i) => i.test);
  return lists.length === 0 ? "" : ` (${lists.join(", ")})`;
}

/** Printable ASCII without the separators of the X-Spam-Status field. */
function safe(text: string): string {
  return text.replace(/[^\x21-\x7e ]|[,;=]/g, "_").replace(/ /g, "_");
}

function format(n: number): string {
  return n.toFixed(1);
}

/** Reply texts stay within the filter chain's limit (and RFC 5321 §4.5.3.1.5's line length). */
function clip(raw: string): string {
  const text = raw.replace(/[^\x20-\x7e]/g, " ");
  return text.length <= 300 ? text : `${text.slice(0, 297)}...`;
}
