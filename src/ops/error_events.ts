/**
 * The last errors a server logged, kept for `fumi status`: a logger wrapper notes every
 * error-level line (message and redacted fields, as the line itself shows them), and a flusher
 * hands them in batches to a sink (the database's error_events table, src/store/status.ts).
 *
 * Invariants:
 * - Bounded: at most {@link MAX_PENDING} errors wait for the next flush; beyond it the oldest
 *   are dropped and counted, so an error storm costs neither memory nor database writes.
 * - No loop: a flush that fails is reported on the unwrapped logger at warn level, which is
 *   not recorded, and the batch is dropped; the database being down does not feed itself.
 * - Nothing secret: fields pass the logger's own redaction (src/ops/log.ts) before they are
 *   kept; values are reduced to JSON (bigints as text, bytes as their length).
 *
 * @module
 */

import { type LogFields, type Logger, redactFields } from "./log.ts";

/** One recorded error. */
export interface RecordedError {
  readonly at: Date;
  readonly message: string;
  readonly fields: LogFields;
}

/** Errors held between flushes. */
export const MAX_PENDING = 100;

/** Notes error lines of the loggers it wraps. */
export class ErrorRecorder {
  #pending: RecordedError[] = [];
  #dropped = 0;

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** A logger that writes through `log` and also records its error lines (and its children's). */
  wrap(log: Logger, base: LogFields = {}): Logger {
    return {
      debug: (m, f) => log.debug(m, f),
      info: (m, f) => log.info(m, f),
      warn: (m, f) => log.warn(m, f),
      error: (m, f) => {
        log.error(m, f);
        this.#record(m, { ...base, ...f });
      },
      child: (fields) => this.wrap(log.child(fields), { ...base, ...fields }),
    };
  }

  /** Takes the recorded errors (oldest first) and how many were dropped since the last take. */
  take(): { errors: RecordedError[]; dropped: number } {
    const taken = { errors: this.#pending, dropped: this.#dropped };
    this.#pending = [];
    this.#dropped = 0;
    return taken;
  }

  #record(message: string, fields: LogFields): void {
    if (this.#pending.length >= MAX_PENDING) {
      this.#pending.shift();
      this.#dropped++;
    }
    this.#pending.push({ at: this.now(), message, fields: toJson(redactFields(fields)) });
  }
}

/**
 * Flushes `recorder` into `sink` every `intervalMs` and once more on stop. `log` is the
 * unwrapped logger, for the flush's own failures.
 */
export function flushErrors(
  recorder: ErrorRecorder,
  sink: (errors: readonly RecordedError[]) => Promise<void>,
  log: Logger,
  intervalMs = 5_000,
): { stop(): Promise<void> } {
  let flushing = Promise.resolve();
  const flush = () => {
    flushing = flushing.then(async () => {
      const { errors, dropped } = recorder.take();
      if (dropped > 0) {
        errors.push({
          at: new Date(),
          message: "more errors were logged than kept",
          fields: { dropped },
        });
      }
      if (errors.length === 0) return;
      try {
        await sink(errors);
      } catch (error) {
        log.warn("cannot keep the last errors for fumi status", { error, count: errors.length });
      }
    });
    return flushing;
  };
  const timer = setInterval(flush, intervalMs);
  Deno.unrefTimer(timer);
  return {
    stop: async () => {
      clearInterval(timer);
      await flush();
    },
  };
}

function toJson(fields: LogFields): LogFields {
  return JSON.parse(JSON.stringify(fields, (_key, value: unknown) => {
    if (typeof value === "bigint") return value.toString();
    if (value instanceof Uint8Array) return `[${value.length} bytes]`;
    return value;
  })) as LogFields;
}
