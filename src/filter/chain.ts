/**
 * The filter chain: the checks that run at each stage of an SMTP session (connect, HELO, MAIL,
 * RCPT, DATA), each bounded in time, combined into one decision.
 *
 * Rules:
 * - Checks run one after another, in the order given, those whose `stages` include the stage.
 * - The first `reject` or `tempfail` decides: later checks do not run.
 * - `tag` header fields accumulate in order; the first `quarantine` reason is remembered and
 *   makes the result a quarantine instead of an accept.
 * - A check has `timeoutMs` (default {@link DEFAULT_CHECK_TIMEOUT_MS}) to answer. When it throws,
 *   times out, or returns an invalid verdict (src/filter/verdict.ts `verdictProblem`), its
 *   `onError` policy applies: `open` (the default) counts it as an accept and logs a warning
 *   naming the check; `closed` tempfails with 451 4.7.1 (RFC 3463 §3.8), so the client retries.
 *   The check's error text never reaches the client.
 * - A timed-out check cannot be stopped from outside, but its `signal` is aborted so that it
 *   can stop itself (close a socket, cancel a lookup); its late answer is ignored.
 * - Every timer the chain starts is cleared before {@link FilterChain.run} returns.
 *
 * @module
 */

import { type Logger, silentLogger } from "../ops/log.ts";
import { type Metrics, noMetrics } from "../ops/metrics.ts";
import type { MailAddress } from "../util/address.ts";
import { type HeaderFieldToAdd, tempfail, type Verdict, verdictProblem } from "./verdict.ts";

/** The points of an SMTP session where checks run. */
export type FilterStage = "connect" | "helo" | "mail" | "rcpt" | "data";

/** What a check knows about the session at its stage. */
export interface FilterContext {
  readonly stage: FilterStage;
  readonly connection: {
    readonly ip: string;
    readonly port: number;
    readonly tls: { readonly protocol: string | null; readonly cipher: string | null } | null;
    readonly role: "mx" | "submission";
  };
  /** The HELO/EHLO argument, once given. */
  readonly helo: string | null;
  /** The authenticated user. */
  readonly account: { readonly id: number; readonly address: string } | null;
  /** undefined: no MAIL yet; null: the null reverse-path `<>`. */
  readonly sender: MailAddress | null | undefined;
  /** MAIL SIZE= (RFC 1870), when declared. */
  readonly declaredSize: number | null;
  /** Recipients accepted so far (at the rcpt stage: before the one being checked). */
  readonly recipients: readonly MailAddress[];
  /** At the rcpt stage: the recipient being checked. */
  readonly recipient: MailAddress | null;
  /** At the data stage: the message. */
  readonly message: {
    readonly size: number;
    /** The raw header block. */
    readonly header: Uint8Array;
    readonly raw: Uint8Array;
  } | null;
}

/** One check of the chain. */
export interface Check {
  /** Names the check in logs. */
  readonly name: string;
  readonly stages: readonly FilterStage[];
  /** Time bound for one run, in milliseconds; default {@link DEFAULT_CHECK_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /**
   * When the check throws, times out or returns an invalid verdict: `open` accepts (logged),
   * `closed` tempfails 451 4.7.1. Default `open`.
   */
  readonly onError?: "open" | "closed";
  /** Decides; `signal` is aborted when the time bound has passed. */
  run(context: FilterContext, signal: AbortSignal): Verdict | Promise<Verdict>;
}

/** The chain's decision. */
export interface ChainResult {
  /** The deciding reject or tempfail; else quarantine (when a check asked for it) or accept. */
  readonly verdict: Verdict;
  /** Header fields to add, from every `tag`, in order (those before a refusal included). */
  readonly headers: readonly HeaderFieldToAdd[];
  /** The first quarantine reason, or null. */
  readonly quarantine: string | null;
}

/** Starts a timer; returns what cancels it. */
export type SetTimer = (callback: () => void, ms: number) => () => void;

/** Options of {@link FilterChain}. */
export interface FilterChainOptions {
  /** Where failing checks are reported; silent by default. */
  readonly log?: Logger;
  /** Counts each check's verdicts (src/ops/metrics.ts); none by default. */
  readonly metrics?: Metrics;
  /** Timers for the time bounds; defaults to `setTimeout`. */
  readonly setTimer?: SetTimer;
}

/** Default time bound of a check. */
export const DEFAULT_CHECK_TIMEOUT_MS = 5000;

/** The reply when a fail-closed check fails (RFC 3463 §3.8: 4.7.1 delivery not authorized). */
export const FILTER_FAILURE: Verdict = Object.freeze(
  tempfail(451, "4.7.1", "Temporary filter failure, try again later"),
);

const TIMED_OUT = Symbol("timed out");

const realTimer: SetTimer = (callback, ms) => {
  const id = setTimeout(callback, ms);
  return () => clearTimeout(id);
};

/**
 * Runs checks in order and combines their verdicts.
 *
 * @example
 * ```ts
 * const chain = new FilterChain([sizeCheck(25 << 20), recipientLimit(100), headerSyntax()], { log });
 * const { verdict } = await chain.run({ ...context, stage: "mail" });
 * if (verdict.action === "reject") return reply(verdict.code, verdict.enhanced, verdict.text);
 * ```
 */
export class FilterChain {
  readonly #checks: readonly Check[];
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #setTimer: SetTimer;

  /** @throws {RangeError} when a check's `timeoutMs` is not a positive number. */
  constructor(checks: readonly Check[], options: FilterChainOptions = {}) {
    for (const check of checks) {
      const ms = check.timeoutMs;
      if (ms !== undefined && !(Number.isFinite(ms) && ms > 0)) {
        throw new RangeError(`Check ${check.name}: timeoutMs must be above 0, got ${ms}`);
      }
    }
    this.#checks = [...checks];
    this.#log = options.log ?? silentLogger;
    this.#metrics = options.metrics ?? noMetrics;
    this.#setTimer = options.setTimer ?? realTimer;
  }

  /** Runs the checks of `context.stage`; never throws for a check's failure. */
  async run(context: FilterContext): Promise<ChainResult> {
    const headers: HeaderFieldToAdd[] = [];
    let quarantine: string | null = null;
    for (const check of this.#checks) {
      if (!check.stages.includes(context.stage)) continue;
      const verdict = await this.#runOne(check, context);
      this.#metrics.filterVerdict(check.name, verdict.action);
      switch (verdict.action) {
        case "reject":
        case "tempfail":
          return { verdict, headers, quarantine };
        case "tag":
          headers.push(...verdict.headers);
          break;
        case "quarantine":
          quarantine ??= verdict.reason;
          break;
        case "accept":
          break;
      }
    }
    const verdict: Verdict = quarantine === null
      ? { action: "accept" }
      : { action: "quarantine", reason: quarantine };
    return { verdict, headers, quarantine };
  }

  /** One check within its time bound, its failures mapped by its policy. */
  async #runOne(check: Check, context: FilterContext): Promise<Verdict> {
    const timeoutMs = check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
    const controller = new AbortController();
    let cancel = (): void => {};
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      cancel = this.#setTimer(() => resolve(TIMED_OUT), timeoutMs);
    });
    let outcome: Verdict | typeof TIMED_OUT;
    try {
      // Started inside a promise so that a synchronous throw becomes a rejection.
      const answer = Promise.resolve().then(() => check.run(context, controller.signal));
      outcome = await Promise.race([answer, timeout]);
    } catch (error) {
      return this.#failed(check, context, "filter check failed", { error });
    } finally {
      cancel();
    }
    if (outcome === TIMED_OUT) {
      controller.abort(new DOMException(`Check ${check.name} timed out`, "TimeoutError"));
      return this.#failed(check, context, "filter check timed out", { timeoutMs });
    }
    const problem = verdictProblem(outcome);
    if (problem !== null) {
      return this.#failed(check, context, "filter check gave an invalid verdict", { problem });
    }
    return outcome;
  }

  #failed(
    check: Check,
    context: FilterContext,
    message: string,
    fields: Record<string, unknown>,
  ): Verdict {
    const policy = check.onError ?? "open";
    this.#log.warn(message, {
      check: check.name,
      stage: context.stage,
      ip: context.connection.ip,
      ...fields,
      policy,
    });
    return policy === "closed" ? FILTER_FAILURE : { action: "accept" };
  }
}
