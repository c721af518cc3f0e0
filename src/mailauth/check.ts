/**
 * Mail authentication as filter checks at the end of DATA, for mail received on the MX
 * (submitted mail is authenticated by AUTH and not checked here):
 *
 * 1. `mail-authentication` runs {@link authenticate} and tags the message with our one
 *    Authentication-Results field (RFC 8601).
 * 2. `dmarc-policy` applies what DMARC asks (RFC 7489 §6.6.4, §6.7): `reject` refuses with
 *    550 5.7.1 naming DMARC; `quarantine` files local copies in Junk (so does a failing
 *    domain shown in the display name); `none` delivers. A From field DMARC cannot evaluate
 *    (RFC 7489 §6.6.1: none, several, or no mailbox) is refused the same way. When DMARC
 *    cannot be decided (the policy, or an aligned identifier, hit a DNS error), the answer
 *    is 451 4.7.1: the sender retries.
 *
 * Two checks because a verdict either tags or quarantines; they share one evaluation per
 * message (kept per filter context, which the chain passes to both).
 *
 * Time: the evaluation has `timeoutMs`; when it passes, its remaining DNS lookups fail at
 * once as temporary errors and the results say `temperror` (RFC 7208 §2.6.6, RFC 7489
 * §6.6.3 leave them to the receiver). A temporary error that leaves DMARC undecided for a
 * domain whose policy is, or may be, stricter than `none` answers 451 (the sender retries;
 * neither a forgery is delivered nor genuine mail refused); otherwise the message is
 * delivered with `temperror` recorded. The checks' own bound in the chain is longer, as a
 * backstop; `dmarc-policy` fails closed (451), so a message whose evaluation never ends or
 * breaks is not delivered unchecked.
 *
 * @module
 */

import {
  ACCEPT,
  type Check,
  type FilterContext,
  quarantine,
  reject,
  tag,
  tempfail,
} from "../filter/mod.ts";
import { type Logger, silentLogger } from "../ops/log.ts";
import type { Resolver } from "../dns/mod.ts";
import { authenticate, type AuthResults } from "./authenticate.ts";
import { authResultsValue, resultClauses } from "./results.ts";

/** How long an evaluation may take by default. */
export const DEFAULT_MAILAUTH_TIMEOUT_MS = 10_000;

/** What {@link mailauthChecks} needs. */
export interface MailauthCheckOptions {
  /** Our host name: the authserv-id, and what SPF explanations call us. */
  readonly hostname: string;
  readonly resolver: Resolver;
  /** The evaluation's time bound; default {@link DEFAULT_MAILAUTH_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** ARC sealers (domains) trusted to vouch for a DMARC failure (mailing list hosts). */
  readonly trustedArcSealers?: readonly string[];
  /** For `pct` sampling in tests. */
  readonly random?: () => number;
  readonly log?: Logger;
  /**
   * Told each message's results (src/dmarc records them for aggregate reports). Not awaited:
   * it never delays or fails the message.
   */
  readonly onResults?: (evaluated: {
    readonly ip: string;
    readonly message: Uint8Array;
    readonly results: AuthResults;
  }) => Promise<void>;
}

/**
 * The two checks, in the order they must run.
 *
 * @example
 * ```ts
 * const chain = new FilterChain([...builtinChecks(settings), ...mailauthChecks({ hostname, resolver })]);
 * ```
 */
export function mailauthChecks(options: MailauthCheckOptions): Check[] {
  const timeoutMs = options.timeoutMs ?? DEFAULT_MAILAUTH_TIMEOUT_MS;
  const log = options.log ?? silentLogger;
  const evaluations = new WeakMap<FilterContext, Promise<AuthResults | null>>();
  const evaluate = (context: FilterContext): Promise<AuthResults | null> => {
    let evaluation = evaluations.get(context);
    if (evaluation === undefined) {
      evaluation = run(context, options, timeoutMs, log);
      evaluations.set(context, evaluation);
    }
    return evaluation;
  };
  const applies = (context: FilterContext) =>
    context.connection.role === "mx" && context.account === null && context.message !== null &&
    context.sender !== undefined;
  // The chain's bound is a backstop: the evaluation ends itself at timeoutMs.
  const bound = timeoutMs + 2_000;
  return [
    {
      name: "mail-authentication",
      stages: ["data"],
      timeoutMs: bound,
      async run(context) {
        if (!applies(context)) return ACCEPT;
        const results = await evaluate(context);
        if (results === null) return ACCEPT;
        const value = authResultsValue(options.hostname, resultClauses(results));
        return tag(["Authentication-Results", value]);
      },
    },
    {
      name: "dmarc-policy",
      stages: ["data"],
      timeoutMs: bound,
      // A timeout or a failure must not let a message DMARC would refuse through: 451 4.7.1.
      onError: "closed",
      async run(context) {
        if (!applies(context)) return ACCEPT;
        const results = await evaluate(context);
        if (results === null) {
          return tempfail(451, "4.7.1", "DMARC could not be evaluated; try again later");
        }
        const { action, domain, reason, displayed } = results.disposition;
        if (results.dmarc.kind === "permerror") {
          // RFC 7489 §6.6.1: a From field that names no single domain is not accepted.
          return reject(
            550,
            "5.7.1",
            `Message refused by DMARC: ${printable(reason ?? "unusable From field")}`,
          );
        }
        const who = printable(domain ?? "");
        switch (action) {
          case "reject":
            // RFC 7489 §6.6.4, §10.3: refused in the SMTP session, 5.7.1 (RFC 3463 §3.8).
            return reject(550, "5.7.1", `Message refused: DMARC policy of ${who} is reject`);
          case "tempfail":
            // RFC 7489 §6.6.2, §6.6.3: a temporary error; the sender retries (RFC 3463 §3.8).
            return tempfail(
              451,
              "4.7.1",
              `DMARC for ${who} could not be evaluated; try again later`,
            );
          case "quarantine":
            // A domain shown in the display name is no Author Domain: Junk, never refused.
            return quarantine(
              displayed
                ? `From display name shows ${who}, which fails DMARC`
                : `DMARC policy of ${who} is quarantine`,
            );
          case "none":
            return ACCEPT;
        }
      },
    },
  ];
}

async function run(
  context: FilterContext,
  options: MailauthCheckOptions,
  timeoutMs: number,
  log: Logger,
): Promise<AuthResults | null> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("Mail authentication timed out", "TimeoutError")),
    timeoutMs,
  );
  try {
    const results = await authenticate({
      message: context.message!.raw,
      ip: context.connection.ip,
      helo: context.helo,
      sender: context.sender ?? null,
      hostname: options.hostname,
      resolver: options.resolver,
      signal: controller.signal,
      ...(options.trustedArcSealers ? { trustedArcSealers: options.trustedArcSealers } : {}),
      ...(options.random ? { random: options.random } : {}),
    });
    log.info("mail authenticated", {
      ip: context.connection.ip,
      spf: results.spf.map((s) => `${s.identity}:${s.result}`).join(" "),
      dkim: results.dkim.map((d) => `${d.domain}:${d.result}`).join(" ") || "none",
      dmarc: results.dmarc.kind === "permerror"
        ? "permerror"
        : [...results.dmarc.outcomes, ...results.dmarc.displayed ?? []]
          .map((o) => `${o.domain}:${o.result}`).join(" "),
      arc: results.arc.result,
      action: results.disposition.action,
      timedOut: controller.signal.aborted,
    });
    // A tempfailed message comes again and is evaluated then: recorded once, when decided.
    if (results.disposition.action !== "tempfail") {
      options.onResults?.({ ip: context.connection.ip, message: context.message!.raw, results })
        .catch((error) => log.warn("mail authentication results not recorded", { error }));
    }
    return results;
  } catch (error) {
    // A bug or a library failure, not a property of the message: deliver without results.
    log.warn("mail authentication failed", { ip: context.connection.ip, error });
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** Reply text from the message: printable ASCII, bounded (the chain refuses line breaks). */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]+/g, "?").slice(0, 200);
}
