/**
 * Filters: the checks an SMTP session runs at connect, HELO, MAIL, RCPT and DATA, and how
 * their verdicts combine. The session builds a {@link FilterContext} at each stage, runs the
 * {@link FilterChain}, and turns the {@link ChainResult} into its reply: a reject or tempfail
 * verdict carries its reply code, enhanced status code (RFC 3463) and text; tag header fields
 * and a quarantine go with the message to delivery.
 *
 * Invariants and security model:
 * - A check is untrusted in its behaviour: it is bounded in time, its exceptions are caught,
 *   its verdict is validated (no line breaks in reply texts or header fields, reply codes of
 *   the right class), and what happens when it fails is its declared policy — fail open
 *   (accept, logged) or fail closed (451 4.7.1) — never an unhandled error in the session.
 * - An error's text stays in the log; the client sees only the fixed 451 reply.
 * - The first refusal stops the chain; checks after it do not see the transaction.
 * - Timers are cleared when a check answers; a check that hangs is abandoned (its signal is
 *   aborted) and its late answer ignored.
 * - This folder depends only on src/util, src/ops (the logger) and src/mime: checks that need
 *   the network or the store get them through their own factories' arguments.
 *
 * @module
 */

export {
  type ChainResult,
  type Check,
  DEFAULT_CHECK_TIMEOUT_MS,
  FILTER_FAILURE,
  FilterChain,
  type FilterChainOptions,
  type FilterContext,
  type FilterStage,
  type SetTimer,
} from "./chain.ts";
export {
  type AttachmentLimits,
  attachmentPolicy,
  headerProblem,
  headerSyntax,
  recipientLimit,
  sizeCheck,
} from "./builtin.ts";
export {
  ACCEPT,
  type HeaderFieldToAdd,
  quarantine,
  reject,
  tag,
  tempfail,
  type Verdict,
  verdictProblem,
} from "./verdict.ts";
