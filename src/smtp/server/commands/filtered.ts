/**
 * Applying the filter chain's verdict for a stage.
 *
 * @module
 */

import type { ChainResult, FilterContext } from "../../../filter/mod.ts";
import type { SmtpSession } from "../session.ts";

/**
 * Runs the chain; when it rejects or tempfails, sends its reply (counted as an error) and
 * returns null. Otherwise returns the result, for its tags and quarantine.
 */
export async function passFilter(
  session: SmtpSession,
  context: FilterContext,
): Promise<ChainResult | null> {
  const result = await session.deps.filter(context);
  const verdict = result.verdict;
  if (verdict.action === "reject" || verdict.action === "tempfail") {
    await session.fail({ code: verdict.code, enhanced: verdict.enhanced, lines: [verdict.text] });
    return null;
  }
  return result;
}
