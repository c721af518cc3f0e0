/**
 * Outbound delivery: the queue's worker (worker.ts) delivers queued messages to their
 * recipients' mail hosts (attempt.ts) and retries on a schedule (schedule.ts).
 *
 * @module
 */

export { type AttemptDeps, type AttemptOutcome, deliverToDomain } from "./attempt.ts";
export { refusalWatch, type RefusalWatchDeps } from "./refusal_watch.ts";
export { delayReporter, failureReporter, type ReportDeps } from "./report.ts";
export { deliverViaSmarthost, type Smarthost } from "./smarthost.ts";
export { startOutbound } from "./start.ts";
export { nextAttempt, type RetrySchedule } from "./schedule.ts";
export {
  type DelayedRecipient,
  type FailedRecipient,
  OutboundWorker,
  type WorkerDeps,
} from "./worker.ts";
