/**
 * Structured logging: one line per event, JSON by default (text for people in `--dev`), to
 * standard error. Fields whose names mark them as secret or as message content are replaced
 * by "[redacted]" whatever their value, so a careless call cannot leak a password or a body.
 *
 * @module
 */

/** Severity, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";
/** Values a log line carries besides its message. */
export type LogFields = Record<string, unknown>;

/** The logging interface passed down to every component. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** Field names never written out. */
const SECRET_FIELD = /pass(word)?|secret|token|credential|master.?key|^key$|body|^raw$|cookie/i;

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  level: LogLevel;
  format: "json" | "text";
  /** Where lines go; defaults to standard error. */
  write?: (line: string) => void;
  now?: () => Date;
}

/** Creates a logger. */
export function createLogger(options: LoggerOptions, base: LogFields = {}): Logger {
  const write = options.write ?? ((line: string) => console.error(line));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (RANK[level] < RANK[options.level]) return;
    const all = redactFields({ ...base, ...fields });
    const time = now().toISOString();
    if (options.format === "json") {
      write(JSON.stringify({ time, level, msg: message, ...all }, jsonSafe));
    } else {
      const rest = Object.entries(all).map(([k, v]) => `${k}=${formatValue(v)}`).join(" ");
      write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${rest ? " " + rest : ""}`);
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** A logger that drops everything, for tests and quiet commands. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

/**
 * Fields as a log line shows them: secret or content fields replaced by "[redacted]", errors as
 * their name and message. For anything that keeps log fields elsewhere (src/ops/error_events.ts).
 */
export function redactFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = SECRET_FIELD.test(key)
      ? "[redacted]"
      : value instanceof Error
      ? errorText(value)
      : value;
  }
  return out;
}

function errorText(error: Error): string {
  return `${error.name}: ${error.message}`;
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  return value;
}

function formatValue(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value, jsonSafe) ?? String(value);
  return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}
