/**
 * Recording what DMARC found for a message received on the MX, for the aggregate report its
 * From domain asked for (RFC 7489 §7.2): one row per message and Author Domain whose policy
 * record has a `rua` tag. Called by the mail-authentication check after each evaluation.
 *
 * A message that is itself an aggregate report (its Subject starts with "Report Domain:",
 * RFC 7489 §7.2.1.1) is not recorded, so reports never cause reports about reports.
 *
 * @module
 */

import type { Resolver } from "../dns/mod.ts";
import type { AuthResults } from "../mailauth/mod.ts";
import { getField, parseHeader } from "../mime/mod.ts";
import type { Logger } from "../ops/log.ts";
import type { DmarcEvaluation, DmarcReports } from "../store/dmarc_reports.ts";
import { reportingPolicy } from "./policy.ts";

/** One evaluated message, as the mail-authentication check hands it over. */
export interface Evaluated {
  /** The client's IP address. */
  readonly ip: string;
  readonly message: Uint8Array;
  readonly results: AuthResults;
}

/** What {@link dmarcRecorder} needs. */
export interface RecorderDeps {
  readonly reports: Pick<DmarcReports, "record">;
  readonly resolver: Resolver;
  readonly log: Logger;
  /** The clock; `new Date()` by default. */
  readonly now?: () => Date;
}

/** True for a message whose Subject says it is a DMARC aggregate report (§7.2.1.1). */
export function isAggregateReport(message: Uint8Array): boolean {
  const subject = getField(parseHeader(message), "Subject") ?? "";
  return /^\s*Report\s+Domain\s*:/i.test(subject);
}

/**
 * The evaluations to record for one message: one per Author Domain with a DMARC record that
 * names rua URIs. Pure but for the DNS lookup of each record (answered from the cache the
 * evaluation just filled).
 */
export async function evaluationsOf(
  evaluated: Evaluated,
  resolver: Resolver,
  now: Date,
): Promise<DmarcEvaluation[]> {
  const { results } = evaluated;
  if (results.dmarc.kind !== "evaluated") return [];
  if (isAggregateReport(evaluated.message)) return [];
  // An undecided result (a DNS error): the message is refused for now or delivered without a
  // verdict, and its retry would be counted twice; nothing to report either way.
  if (results.dmarc.outcomes.some((o) => o.result === "temperror")) return [];
  const overridden = results.disposition.action === "none" && results.disposition.reason !== null;
  const out: DmarcEvaluation[] = [];
  for (const outcome of results.dmarc.outcomes) {
    // No policy, or no verdict: nothing to report to anyone.
    if (outcome.published === null || (outcome.result !== "pass" && outcome.result !== "fail")) {
      continue;
    }
    const policy = await reportingPolicy(resolver, outcome.domain);
    if (policy === null || policy.rua.length === 0) continue;
    const failed = outcome.result === "fail";
    // RFC 7489 Appendix C PolicyOverrideType: why the policy published was not applied.
    const override = !failed || outcome.published === "none"
      ? null
      : overridden
      ? "trusted_forwarder"
      : outcome.policy !== outcome.published
      ? "sampled_out"
      : null;
    out.push({
      receivedAt: now,
      headerFrom: outcome.domain,
      policyDomain: policy.policyDomain,
      sourceIp: evaluated.ip,
      policy: {
        p: policy.record.p,
        sp: policy.record.sp,
        pct: policy.record.pct,
        adkim: policy.record.adkim,
        aspf: policy.record.aspf,
      },
      disposition: failed && !overridden ? outcome.policy : "none",
      dkimAligned: outcome.aligned.dkim === null ? "fail" : "pass",
      spfAligned: outcome.aligned.spf === null ? "fail" : "pass",
      override,
      dkim: results.dkim.filter((d) => d.domain !== "").map((d) => ({
        domain: d.domain.toLowerCase(),
        selector: d.selector,
        result: d.result,
      })),
      spf: results.spf.map((s) => ({
        domain: s.domain.toLowerCase(),
        scope: s.identity === "mailfrom" ? "mfrom" : "helo",
        result: s.result,
      })),
      rua: policy.rua,
    });
  }
  return out;
}

/**
 * The mail-authentication check's `onResults`: records the message's evaluations. Never
 * throws: a failure to record is logged, and the message goes on as it would.
 */
export function dmarcRecorder(deps: RecorderDeps): (evaluated: Evaluated) => Promise<void> {
  const now = deps.now ?? (() => new Date());
  return async (evaluated) => {
    try {
      for (const evaluation of await evaluationsOf(evaluated, deps.resolver, now())) {
        await deps.reports.record(evaluation);
      }
    } catch (error) {
      deps.log.warn("cannot record a DMARC evaluation", { ip: evaluated.ip, error });
    }
  };
}
