/**
 * Authenticates one received message: SPF on MAIL FROM and on HELO (RFC 7208), every DKIM
 * signature (RFC 6376, Ed25519 per RFC 8463), the ARC chain (RFC 8617) — these three through
 * mailauth — and DMARC (RFC 7489) over them, ours (src/mailauth/dmarc.ts), for every Author
 * Domain (src/mailauth/author.ts). Then the disposition: what the strictest failing DMARC
 * policy asks for.
 *
 * Policy discovery for every Author Domain starts at once, in parallel with SPF, DKIM and
 * ARC: a slow SPF include or DKIM key of the sender's choosing cannot use up the time the
 * policy lookup needs. When DMARC cannot be decided — the policy could not be fetched, or
 * nothing aligned passed while an aligned identifier hit a DNS error (RFC 7489 §6.6.2) — the
 * disposition is `tempfail` (unless the policy is `none`): the sender retries, a forgery is
 * not delivered and genuine mail is not refused.
 *
 * Bounded work: at most {@link MAX_DKIM_SIGNATURES} DKIM signatures are verified (RFC 6376
 * §6.1 lets a verifier limit them); the rest are one `dkim=policy`.
 *
 * Never throws for what a message or the DNS does: every failure is a result (`temperror`,
 * `permerror`), and an aborted signal makes the remaining lookups fail at once, so the
 * evaluation ends soon after its time is up.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { arc, dkimVerify, type DNSResolver, spf } from "mailauth";
import type { Resolver } from "../dns/mod.ts";
import { parseHeader } from "../mime/mod.ts";
import { formatAddress, type MailAddress, normalizeDomain } from "../util/address.ts";
import { type AuthorDomains, authorDomains } from "./author.ts";
import {
  aligns,
  applyPolicy,
  discoverPolicy,
  type Discovery,
  type DmarcOutcome,
  type Policy,
} from "./dmarc.ts";
import { abortable, type MailauthResolver, mailauthResolver } from "./resolver.ts";
import { limitSignatures, MAX_DKIM_SIGNATURES } from "./signatures.ts";

/** RFC 7208 §2.6 results. */
export type SpfResult =
  | "none"
  | "neutral"
  | "pass"
  | "fail"
  | "softfail"
  | "temperror"
  | "permerror";

/** SPF for one identity (RFC 7208 §2.3 HELO, §2.4 MAIL FROM). */
export interface SpfOutcome {
  readonly identity: "mailfrom" | "helo";
  /** The address (`smtp.mailfrom`) or host name (`smtp.helo`) checked. */
  readonly value: string;
  /** The domain whose record was evaluated. */
  readonly domain: string;
  readonly result: SpfResult;
}

/** RFC 8601 §2.7.1 DKIM results (`policy`: a key we do not accept, e.g. too short). */
export type DkimResult =
  | "none"
  | "pass"
  | "fail"
  | "policy"
  | "neutral"
  | "temperror"
  | "permerror";

/** One DKIM signature's verdict. */
export interface DkimOutcome {
  readonly result: DkimResult;
  /** d=, s=, a=, and the first characters of b= (RFC 6008 header.b). */
  readonly domain: string;
  readonly selector: string;
  readonly algorithm: string;
  readonly b: string;
  /** Why it did not pass, when known. */
  readonly reason: string | null;
}

/** RFC 8617 §4.4 chain validation status. */
export interface ArcOutcome {
  readonly result: "none" | "pass" | "fail";
  /** The newest instance's ARC-Seal d=, when there is a chain. */
  readonly sealer: string | null;
  /**
   * The Author Domains the newest instance's ARC-Authentication-Results, written by the
   * sealer (its authserv-id is the sealer's domain or a name under it), says passed DMARC
   * or had an aligned SPF or DKIM pass: what a trusted sealer can vouch for (RFC 8617 §7.2).
   */
  readonly vouchedFor?: readonly string[];
}

/** DMARC for the message: one outcome per Author Domain, or why none could be evaluated. */
export type DmarcSummary =
  | {
    readonly kind: "evaluated";
    /** One per Author Domain (the From mailboxes' domains, RFC 7489 §3.1). */
    readonly outcomes: readonly DmarcOutcome[];
    /**
     * One per domain shown elsewhere in the From field (display names, comments): evaluated
     * so a reader is not misled, but a failure files to Junk and never refuses.
     */
    readonly displayed?: readonly DmarcOutcome[];
  }
  /** RFC 7489 §6.6.1: no single usable Author Domain; the message is refused. */
  | { readonly kind: "permerror"; readonly reason: string; readonly domain: string | null };

/**
 * What to do with the message: a DMARC policy, or `tempfail` when DMARC could not be
 * decided (451 4.7.1, the sender retries).
 */
export interface Disposition {
  readonly action: Policy | "tempfail";
  /** The domain whose policy decided, and why; null for `none`. */
  readonly domain: string | null;
  readonly reason: string | null;
  /** True when `domain` is one shown in the display name or a comment, not the mailbox's. */
  readonly displayed?: boolean;
}

/** Everything found about a message. */
export interface AuthResults {
  readonly spf: readonly SpfOutcome[];
  readonly dkim: readonly DkimOutcome[];
  readonly arc: ArcOutcome;
  readonly dmarc: DmarcSummary;
  readonly disposition: Disposition;
}

/** What {@link authenticate} looks at. */
export interface AuthenticateInput {
  /** The message as received (after forged Authentication-Results were removed). */
  readonly message: Uint8Array;
  /** The client's IP address. */
  readonly ip: string;
  /** The HELO/EHLO argument, null when none was given. */
  readonly helo: string | null;
  /** MAIL FROM; null for `<>`. */
  readonly sender: MailAddress | null;
  /** Our host name: the `%{r}` of SPF explanations and the authserv-id. */
  readonly hostname: string;
  readonly resolver: Resolver;
  /** Aborted when the time bound has passed: remaining lookups fail as temporary errors. */
  readonly signal?: AbortSignal;
  /** For `pct` sampling (tests); Math.random by default. */
  readonly random?: () => number;
  /** Domains whose ARC seal is trusted to vouch for a DMARC failure (RFC 8617 §7.2.1). */
  readonly trustedArcSealers?: readonly string[];
}

const SPF_RESULTS = new Set<string>([
  "none",
  "neutral",
  "pass",
  "fail",
  "softfail",
  "temperror",
  "permerror",
]);
const DKIM_RESULTS = new Set<string>([
  "none",
  "pass",
  "fail",
  "policy",
  "neutral",
  "temperror",
  "permerror",
]);
/** RFC 7489 §6.6.1: with several Author Domains, the strictest failing policy applies. */
const STRENGTH: Record<Policy, number> = { none: 0, quarantine: 1, reject: 2 };

/** Authenticates a message; see the module documentation. */
export async function authenticate(input: AuthenticateInput): Promise<AuthResults> {
  const resolver = abortable(input.resolver, input.signal);
  const resolve = forMailauth(
    mailauthResolver(resolver, input.signal ? { signal: input.signal } : {}),
  );
  const header = parseHeader(input.message);
  const authors = authorDomains(header);
  // RFC 7489 §6.6.3 discovery from the start, beside SPF and DKIM, every domain at once.
  const discoveries = discoverAll(resolver, authors);
  // RFC 6376 §6.1: at most MAX_DKIM_SIGNATURES signatures are verified, counted uncapped.
  const limited = limitSignatures(input.message);
  const raw = Buffer.from(
    limited.message.buffer,
    limited.message.byteOffset,
    limited.message.length,
  );
  const heloName = heloDomain(input.helo);
  const [spfResults, verified] = await Promise.all([
    checkSpf(input, heloName, resolve),
    dkimVerify(raw, {
      resolver: resolve,
      // RFC 8301 §3.1: rsa-sha1 signatures are not considered valid (dkim=policy).
      rejectRsaSha1: true,
      ...(input.sender ? { sender: formatAddress(input.sender) } : {}),
    }),
  ]);
  const dkim: DkimOutcome[] = [];
  for (const row of verified.results) {
    if (row.signingDomain === undefined) continue; // the "message not signed" row
    const { result, reason } = dkimResult(row.status);
    dkim.push({
      result,
      domain: row.signingDomain,
      selector: row.selector ?? "",
      algorithm: row.algo ?? "",
      b: (row.signature ?? "").slice(0, 8),
      reason,
    });
  }
  // RFC 6376 §6.1.1: a DKIM-Signature without its required tags is a PERMFAIL; mailauth leaves
  // such fields out of its results, so they are counted here and reported as permerror.
  for (let unusable = limited.kept - dkim.length; unusable > 0; unusable--) {
    dkim.push(unnamed("permerror", "signature not usable"));
  }
  if (limited.total > limited.kept) {
    dkim.push(
      unnamed(
        "policy",
        `${
          limited.total - limited.kept
        } signatures after the first ${MAX_DKIM_SIGNATURES} not verified`,
      ),
    );
  }
  const data = verified.arc;
  const chain = data === undefined || (data.chain === false && data.error === undefined)
    ? { status: { result: "none" }, signature: false as const, authenticationResults: undefined }
    : await arc({
      chain: data.chain || [],
      ...(data.lastEntry ? { lastEntry: data.lastEntry } : {}),
      ...(data.error ? { error: data.error } : {}),
    }, { resolver: resolve });
  const chainResult = chain.status.result;
  const sealed = chainResult === "none" ? null : data?.lastEntry?.["arc-seal"];
  // RFC 8617 §4.1.3: the sealer is the ARC-Seal's d=, not the message signature's.
  const sealer = sealed ? domainTag(sealed.parsed?.d?.value) : null;
  const arcResult: ArcOutcome = {
    // mailauth reports every error as "fail" (RFC 8617 §5.2); anything else is no pass either.
    result: chainResult === "pass" || chainResult === "none" ? chainResult : "fail",
    sealer,
    vouchedFor: chainResult === "pass" && sealer !== null && authors.kind === "ok"
      ? vouched(chain.authenticationResults, sealer, authors.domains)
      : [],
  };
  // RFC 7489 §3.1.2: the SPF-authenticated identifier is MAIL FROM's domain, HELO's for <>.
  const spfIdentity = spfResults.find((s) =>
    s.identity === (input.sender === null ? "helo" : "mailfrom")
  );
  const identifiers = {
    spfDomain: spfIdentity?.result === "pass" ? spfIdentity.domain : null,
    // RFC 6376 §8.2: with l=, content after the signed length is not authenticated; such a
    // signature is reported as policy above and never aligns.
    dkimDomains: dkim.filter((d) => d.result === "pass").map((d) => d.domain),
    // RFC 7489 §6.6.2: identifiers cut short by a DNS error.
    spfTemperror: spfIdentity?.result === "temperror" ? spfIdentity.domain : null,
    dkimTemperrors: dkim.filter((d) => d.result === "temperror").map((d) => d.domain),
  };
  const dmarc = checkDmarc(input, authors, await discoveries, identifiers);
  return {
    spf: spfResults,
    dkim,
    arc: arcResult,
    dmarc,
    disposition: disposition(dmarc, arcResult, input.trustedArcSealers ?? []),
  };
}

/** A DKIM outcome for a signature mailauth could not name. */
function unnamed(result: DkimResult, reason: string): DkimOutcome {
  return { result, domain: "", selector: "", algorithm: "", b: "", reason };
}

/** mailauth's comments for a key that is missing or unusable (its KEY_ERROR_COMMENTS). */
const KEY_ERRORS = new Set([
  "no key",
  "unknown key version",
  "unknown key type",
  "invalid public key",
  "inappropriate hash algorithm",
  "key not for email",
  "inappropriate key algorithm",
]);

/** One signature's RFC 8601 §2.7.1 result from mailauth's status. */
function dkimResult(
  status: { result?: string; comment?: string; underSized?: number },
): { result: DkimResult; reason: string | null } {
  const comment = status.comment ?? null;
  let result = status.result ?? "permerror";
  if (comment === "body hash did not verify") {
    // RFC 6376 §6.1.3 step 3: a body hash that does not match is a PERMFAIL, which RFC 8601
    // §2.7.1 reports as "fail"; mailauth's lenient mode says "neutral" for it.
    result = "fail";
  } else if (result === "neutral" && comment !== null && KEY_ERRORS.has(comment)) {
    // RFC 6376 §6.1.2 steps 3-8: no key, or one that cannot be used, is a PERMFAIL.
    result = "permerror";
  } else if (result === "pass" && (status.underSized ?? 0) > 0) {
    // RFC 6376 §8.2: content was added after the length l= signed; it is not authenticated,
    // and what a reader sees may be mostly the addition. Not accepted as a pass.
    return { result: "policy", reason: "content after the body length l= signed" };
  }
  return {
    result: DKIM_RESULTS.has(result) ? result as DkimResult : "permerror",
    reason: result === "pass" ? null : comment,
  };
}

/** A d= value as a lower-case domain, or null. */
function domainTag(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value.toLowerCase().replace(/\.$/, "") : null;
}

/** `value[key]` when `value` is an object, else undefined. */
function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/**
 * The Author Domains a sealer's ARC-Authentication-Results (as mailauth parses it) vouches
 * for: it must be the sealer's own (authserv-id the sealer's domain or under it) and say
 * dmarc=pass for the domain, or show an SPF or DKIM pass aligned with it (relaxed).
 */
function vouched(aar: unknown, sealer: string, authors: readonly string[]): string[] {
  const mta = field(aar, "mta");
  const id = typeof mta === "string" ? mta.toLowerCase().replace(/\.$/, "") : "";
  if (id !== sealer && !id.endsWith(`.${sealer}`)) return [];
  const passed: string[] = [];
  const dmarc = field(aar, "dmarc");
  const from = field(field(dmarc, "header"), "from");
  if (field(dmarc, "result") === "pass" && typeof from === "string") passed.push(from);
  const spf = field(aar, "spf");
  const mailfrom = field(field(spf, "smtp"), "mailfrom");
  if (field(spf, "result") === "pass" && typeof mailfrom === "string") {
    passed.push(mailfrom.slice(mailfrom.lastIndexOf("@") + 1));
  }
  const signatures = field(aar, "dkim");
  for (const entry of Array.isArray(signatures) ? signatures : []) {
    if (field(entry, "result") !== "pass") continue;
    const header = field(entry, "header");
    const d = field(header, "d") ?? field(header, "i");
    if (typeof d === "string") passed.push(d.slice(d.lastIndexOf("@") + 1));
  }
  return authors.filter((author) =>
    passed.some((domain) => {
      const name = domain.toLowerCase().replace(/\.$/, "");
      return name !== "" && aligns(name, author, "r");
    })
  );
}

/** SPF for MAIL FROM (for `<>`: none, the HELO identity stands in, RFC 7208 §2.4) and HELO. */
async function checkSpf(
  input: AuthenticateInput,
  heloName: string | null,
  resolver: DNSResolver,
): Promise<SpfOutcome[]> {
  const run = async (
    identity: "mailfrom" | "helo",
    sender: string,
    domain: string,
  ): Promise<SpfOutcome> => {
    const answer = await spf({
      sender,
      ip: input.ip,
      ...(input.helo !== null ? { helo: input.helo } : {}),
      mta: input.hostname,
      resolver,
    });
    const result = answer.status.result;
    return {
      identity,
      value: identity === "helo" ? domain : sender,
      domain,
      result: SPF_RESULTS.has(result) ? result as SpfResult : "temperror",
    };
  };
  const checks: Promise<SpfOutcome>[] = [];
  if (input.sender !== null) {
    checks.push(run("mailfrom", formatAddress(input.sender), input.sender.domain));
  }
  // RFC 7208 §2.3: HELO is checked when it is a host name; RFC 7208 §2.4: for <> it is the
  // identity MAIL FROM would have been ("postmaster@" + HELO).
  if (heloName !== null) checks.push(run("helo", `postmaster@${heloName}`, heloName));
  return await Promise.all(checks);
}

/** Policy discovery for every domain at once; a failure of the lookup is a temperror. */
function discoverAll(resolver: Resolver, authors: AuthorDomains): Promise<Discovery[]> {
  if (authors.kind === "permerror") return Promise.resolve([]);
  return Promise.all(
    [...authors.domains, ...authors.displayed].map((domain) =>
      discoverPolicy(resolver, domain).catch((): Discovery => ({
        kind: "temperror",
        reason: `DNS error for _dmarc.${domain}`,
      }))
    ),
  );
}

function checkDmarc(
  input: AuthenticateInput,
  authors: AuthorDomains,
  discoveries: readonly Discovery[],
  identifiers: {
    spfDomain: string | null;
    dkimDomains: string[];
    spfTemperror: string | null;
    dkimTemperrors: string[];
  },
): DmarcSummary {
  if (authors.kind === "permerror") {
    return { kind: "permerror", reason: authors.reason, domain: null };
  }
  const evaluate = (authorDomain: string, i: number) =>
    applyPolicy({
      authorDomain,
      ...identifiers,
      ...(input.random ? { random: input.random } : {}),
    }, discoveries[i]!);
  const count = authors.domains.length;
  return {
    kind: "evaluated",
    outcomes: authors.domains.map((d, i) => evaluate(d, i)),
    displayed: authors.displayed.map((d, i) => evaluate(d, count + i)),
  };
}

/** True when DMARC could not decide for `outcome` and its policy may not be `none`. */
function undecided(outcome: DmarcOutcome): boolean {
  // A policy that could not be fetched may be reject.
  return outcome.result === "temperror" && (outcome.published ?? "reject") !== "none";
}

/**
 * What to do, strictest first: a `reject` failure of an Author Domain refuses; an Author
 * Domain DMARC could not decide tempfails; a `quarantine` failure, or any failure of a
 * displayed domain, files to Junk. A trusted ARC sealer may vouch for an Author Domain it
 * saw pass (RFC 7489 §6.7, RFC 8617 §7.2.1).
 */
function disposition(
  dmarc: DmarcSummary,
  chain: ArcOutcome,
  trusted: readonly string[],
): Disposition {
  if (dmarc.kind === "permerror") {
    return { action: "reject", domain: null, reason: dmarc.reason };
  }
  // RFC 7489 §6.7 local policy override, RFC 8617 §7.2.1: a passing chain sealed by a domain
  // the administrator trusts (a mailing list host), whose own results show the domain passed.
  const trustedChain = chain.result === "pass" && chain.sealer !== null &&
    trusted.includes(chain.sealer);
  const vouchedFor = chain.vouchedFor ?? [];
  let worst: DmarcOutcome | null = null;
  let overridden: DmarcOutcome | null = null;
  for (const outcome of dmarc.outcomes) {
    if (outcome.result !== "fail" || outcome.policy === "none") continue;
    if (trustedChain && vouchedFor.includes(outcome.domain)) {
      overridden = outcome;
      continue;
    }
    if (worst === null || STRENGTH[outcome.policy] > STRENGTH[worst.policy]) worst = outcome;
  }
  if (worst !== null && worst.policy === "reject") {
    return { action: "reject", domain: worst.domain, reason: worst.reason };
  }
  const unknown = dmarc.outcomes.find(undecided);
  if (unknown !== undefined) {
    return { action: "tempfail", domain: unknown.domain, reason: unknown.reason };
  }
  if (worst !== null) {
    return { action: worst.policy, domain: worst.domain, reason: worst.reason };
  }
  // A domain in the display name: not the author (RFC 7489 §3.1), never refused, but a
  // reader may take it for the sender, so a failure (or no answer) files the message to Junk.
  const shown = (dmarc.displayed ?? []).find((o) =>
    (o.result === "fail" && o.policy !== "none") || undecided(o)
  );
  if (shown !== undefined) {
    return { action: "quarantine", domain: shown.domain, reason: shown.reason, displayed: true };
  }
  if (overridden !== null) {
    return { action: "none", domain: overridden.domain, reason: `ARC sealed by ${chain.sealer}` };
  }
  return { action: "none", domain: null, reason: null };
}

/** The HELO argument as a host name to check, or null (an address literal or garbage). */
function heloDomain(helo: string | null): string | null {
  if (helo === null) return null;
  try {
    const { ascii } = normalizeDomain(helo.replace(/\.$/, ""));
    return ascii.includes(".") ? ascii : null;
  } catch {
    return null;
  }
}

/**
 * Our adapter as mailauth's declared resolver type. Its declaration leaves out the MX objects
 * (`{ exchange, priority }`) that its SPF code reads (lib/spf/spf-verify.js), which the
 * adapter returns as Node's resolver does; the function is the same.
 */
function forMailauth(resolver: MailauthResolver): DNSResolver {
  return resolver as (name: string, type: string) => Promise<never>;
}
