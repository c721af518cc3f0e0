/**
 * Authenticates one received message: SPF on MAIL FROM and on HELO (RFC 7208), every DKIM
 * signature (RFC 6376, Ed25519 per RFC 8463), the ARC chain (RFC 8617) — these three through
 * mailauth — and DMARC (RFC 7489) over them, ours (src/mailauth/dmarc.ts), for every Author
 * Domain (src/mailauth/author.ts). Then the disposition: what the strictest failing DMARC
 * policy asks for.
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
import { getFields, parseHeader } from "../mime/mod.ts";
import { formatAddress, type MailAddress, normalizeDomain } from "../util/address.ts";
import { authorDomains } from "./author.ts";
import { type DmarcOutcome, evaluateDmarc, type Policy } from "./dmarc.ts";
import { abortable, type MailauthResolver, mailauthResolver } from "./resolver.ts";

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
  /** The newest instance's ARC-Message-Signature d=, when there is a chain. */
  readonly sealer: string | null;
}

/** DMARC for the message: one outcome per Author Domain, or why none could be evaluated. */
export type DmarcSummary =
  | { readonly kind: "evaluated"; readonly outcomes: readonly DmarcOutcome[] }
  /** RFC 7489 §6.6.1: no single usable Author Domain; the message is refused. */
  | { readonly kind: "permerror"; readonly reason: string; readonly domain: string | null };

/** What to do with the message. */
export interface Disposition {
  readonly action: Policy;
  /** The domain whose policy decided, and why; null for `none`. */
  readonly domain: string | null;
  readonly reason: string | null;
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
  const raw = Buffer.from(input.message.buffer, input.message.byteOffset, input.message.length);
  const heloName = heloDomain(input.helo);
  const [spfResults, verified] = await Promise.all([
    checkSpf(input, heloName, resolve),
    dkimVerify(raw, {
      resolver: resolve,
      ...(input.sender ? { sender: formatAddress(input.sender) } : {}),
    }),
  ]);
  const dkim: DkimOutcome[] = [];
  for (const row of verified.results) {
    if (row.signingDomain === undefined) continue; // the "message not signed" row
    // RFC 6376 §6.1.3 step 3: a body hash that does not match is a PERMFAIL, which RFC 8601
    // §2.7.1 reports as "fail"; mailauth's lenient mode says "neutral" for it.
    const bodyChanged = row.status.comment === "body hash did not verify";
    const result = bodyChanged ? "fail" : row.status.result;
    dkim.push({
      result: DKIM_RESULTS.has(result) ? result as DkimResult : "permerror",
      domain: row.signingDomain,
      selector: row.selector ?? "",
      algorithm: row.algo ?? "",
      b: (row.signature ?? "").slice(0, 8),
      reason: result === "pass" ? null : row.status.comment ?? null,
    });
  }
  // RFC 6376 §6.1.1: a DKIM-Signature without its required tags is a PERMFAIL; mailauth leaves
  // such fields out of its results, so they are counted here and reported as permerror.
  const fields = getFields(parseHeader(input.message), "DKIM-Signature").length;
  for (let unusable = fields - dkim.length; unusable > 0; unusable--) {
    dkim.push({
      result: "permerror",
      domain: "",
      selector: "",
      algorithm: "",
      b: "",
      reason: "signature not usable",
    });
  }
  const data = verified.arc;
  const chain = data === undefined || (data.chain === false && data.error === undefined)
    ? { status: { result: "none" }, signature: false as const }
    : await arc({
      chain: data.chain || [],
      ...(data.lastEntry ? { lastEntry: data.lastEntry } : {}),
      ...(data.error ? { error: data.error } : {}),
    }, { resolver: resolve });
  const arcResult: ArcOutcome = {
    result: chain.status.result === "pass" || chain.status.result === "fail"
      ? chain.status.result
      : "none",
    sealer: chain.signature ? chain.signature.signingDomain?.toLowerCase() ?? null : null,
  };
  // RFC 7489 §3.1.2: the SPF-authenticated identifier is MAIL FROM's domain, HELO's for <>.
  const spfPass = spfResults.find((s) =>
    s.result === "pass" && s.identity === (input.sender === null ? "helo" : "mailfrom")
  );
  const dmarc = await checkDmarc(input, resolver, {
    spfDomain: spfPass?.domain ?? null,
    dkimDomains: dkim.filter((d) => d.result === "pass").map((d) => d.domain),
  });
  return {
    spf: spfResults,
    dkim,
    arc: arcResult,
    dmarc,
    disposition: disposition(dmarc, arcResult, input.trustedArcSealers ?? []),
  };
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

async function checkDmarc(
  input: AuthenticateInput,
  resolver: Resolver,
  identifiers: { spfDomain: string | null; dkimDomains: string[] },
): Promise<DmarcSummary> {
  const authors = authorDomains(parseHeader(input.message));
  if (authors.kind === "permerror") {
    return { kind: "permerror", reason: authors.reason, domain: null };
  }
  const outcomes: DmarcOutcome[] = [];
  // Sequential: at most MAX_AUTHOR_DOMAINS, and the first is the one that matters most.
  for (const authorDomain of authors.domains) {
    outcomes.push(
      await evaluateDmarc({
        authorDomain,
        ...identifiers,
        resolver,
        ...(input.random ? { random: input.random } : {}),
      }),
    );
  }
  return { kind: "evaluated", outcomes };
}

/** The strictest policy among failures; ARC from a trusted sealer may vouch for a failure. */
function disposition(
  dmarc: DmarcSummary,
  chain: ArcOutcome,
  trusted: readonly string[],
): Disposition {
  if (dmarc.kind === "permerror") {
    return { action: "reject", domain: null, reason: dmarc.reason };
  }
  let worst: DmarcOutcome | null = null;
  for (const outcome of dmarc.outcomes) {
    if (outcome.result !== "fail") continue;
    if (worst === null || STRENGTH[outcome.policy] > STRENGTH[worst.policy]) worst = outcome;
  }
  if (worst === null || worst.policy === "none") {
    return { action: "none", domain: null, reason: null };
  }
  // RFC 7489 §6.7 local policy override, RFC 8617 §7.2.1: a passing chain sealed by a domain
  // the administrator trusts (a mailing list host) vouches for the original authentication.
  if (chain.result === "pass" && chain.sealer !== null && trusted.includes(chain.sealer)) {
    return { action: "none", domain: worst.domain, reason: `ARC sealed by ${chain.sealer}` };
  }
  return { action: worst.policy, domain: worst.domain, reason: worst.reason };
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
