/**
 * Metrics: a small registry of counters, gauges and histograms with labels, written in the
 * Prometheus text exposition format 0.0.4, and {@link Metrics}, the events the server's
 * components report through their deps (one call per event, a no-op by default).
 *
 * Invariants:
 * - Names and label names are checked when a metric is declared, so a typo is a start-up
 *   error, never a malformed scrape.
 * - Label values are escaped on output (backslash, double quote, line feed), and so is help
 *   text (backslash, line feed); a label value can never break the format.
 * - Series are bounded: past {@link MAX_SERIES} label sets a metric takes no new ones, so a
 *   label fed from the network cannot grow memory without end. Every label here comes from a
 *   small fixed set (protocol, result, reason), not from clients.
 * - Gauges that describe the database (queue size, latency) are read when a scrape asks
 *   ({@link Registry.collect}); nothing polls the database between scrapes.
 *
 * @module
 */

/** Label values of one series, by label name. */
export type Labels = Readonly<Record<string, string>>;

/** Most label sets one metric keeps. */
export const MAX_SERIES = 1_000;

/** The content type of the text format (Prometheus exposition format 0.0.4). */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Default histogram buckets in seconds, for latencies from a millisecond to ten seconds. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Kind = "counter" | "gauge" | "histogram";

/** What every metric has: a name, help, a type, label names and its series. */
abstract class Metric<Series> {
  readonly #series = new Map<string, { labels: Labels; value: Series }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly kind: Kind,
    readonly labelNames: readonly string[],
  ) {
    if (!METRIC_NAME.test(name)) throw new RangeError(`Invalid metric name "${name}"`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith("__") || label === "le") {
        throw new RangeError(`Invalid label name "${label}" of metric ${name}`);
      }
    }
  }

  /** The series for `labels`, created with `initial` when new; null past MAX_SERIES. */
  protected series(labels: Labels, initial: () => Series): Series | null {
    const key = this.#key(labels);
    const found = this.#series.get(key);
    if (found !== undefined) return found.value;
    if (this.#series.size >= MAX_SERIES) return null;
    const value = initial();
    const own: Record<string, string> = {};
    for (const name of this.labelNames) own[name] = labels[name] ?? "";
    this.#series.set(key, { labels: own, value });
    return value;
  }

  /** Every series, in the order they appeared. */
  protected entries(): { labels: Labels; value: Series }[] {
    return [...this.#series.values()];
  }

  /** Forgets every series (a gauge re-read at each scrape). */
  reset(): void {
    this.#series.clear();
  }

  /** The metric's lines: HELP, TYPE and one line per sample. */
  render(): string[] {
    return [
      `# HELP ${this.name} ${escapeHelp(this.help)}`,
      `# TYPE ${this.name} ${this.kind}`,
      ...this.samples(),
    ];
  }

  protected abstract samples(): string[];

  #key(labels: Labels): string {
    for (const name of Object.keys(labels)) {
      if (!this.labelNames.includes(name)) {
        throw new RangeError(`Metric ${this.name} has no label "${name}"`);
      }
    }
    return JSON.stringify(this.labelNames.map((name) => labels[name] ?? ""));
  }
}

/** A value that only goes up (events counted since start). */
export class Counter extends Metric<{ value: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, "counter", labelNames);
  }

  /** Adds `by` (at least 0) to the series of `labels`. */
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new RangeError(`Counter ${this.name} cannot go down (by ${by})`);
    const series = this.series(labels, () => ({ value: 0 }));
    if (series) series.value += by;
  }

  /** The current value of a series (0 when it has none yet). */
  get(labels: Labels = {}): number {
    return this.entries().find((e) => sameLabels(e.labels, labels, this.labelNames))?.value.value ??
      0;
  }

  protected samples(): string[] {
    return this.entries().map((e) => sample(this.name, e.labels, e.value.value));
  }
}

/** A value that goes up and down (open connections, queue size). */
export class Gauge extends Metric<{ value: number }> {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, "gauge", labelNames);
  }

  /** Sets the series of `labels`. */
  set(labels: Labels, value: number): void {
    const series = this.series(labels, () => ({ value: 0 }));
    if (series) series.value = value;
  }

  /** Adds `by` (negative to subtract). */
  inc(labels: Labels = {}, by = 1): void {
    const series = this.series(labels, () => ({ value: 0 }));
    if (series) series.value += by;
  }

  /** The current value of a series (0 when it has none yet). */
  get(labels: Labels = {}): number {
    return this.entries().find((e) => sameLabels(e.labels, labels, this.labelNames))?.value.value ??
      0;
  }

  protected samples(): string[] {
    return this.entries().map((e) => sample(this.name, e.labels, e.value.value));
  }
}

interface HistogramSeries {
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into buckets (latencies), with their sum and count. */
export class Histogram extends Metric<HistogramSeries> {
  readonly buckets: readonly number[];

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets: readonly number[] = LATENCY_BUCKETS,
  ) {
    super(name, help, "histogram", labelNames);
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.length === 0 || sorted.some((b, i) => !Number.isFinite(b) || b === sorted[i - 1])) {
      throw new RangeError(`Histogram ${name} needs distinct finite buckets`);
    }
    this.buckets = sorted;
  }

  /** Counts `value` into the series of `labels`. */
  observe(labels: Labels, value: number): void {
    const series = this.series(labels, () => ({
      counts: this.buckets.map(() => 0),
      sum: 0,
      count: 0,
    }));
    if (series === null) return;
    for (const [i, bound] of this.buckets.entries()) if (value <= bound) series.counts[i]!++;
    series.sum += value;
    series.count++;
  }

  protected samples(): string[] {
    return this.entries().flatMap(({ labels, value }) => [
      // Cumulative buckets, then +Inf, which equals the count (exposition format, histograms).
      ...this.buckets.map((bound, i) =>
        sample(`${this.name}_bucket`, { ...labels, le: formatNumber(bound) }, value.counts[i]!)
      ),
      sample(`${this.name}_bucket`, { ...labels, le: "+Inf" }, value.count),
      sample(`${this.name}_sum`, labels, value.sum),
      sample(`${this.name}_count`, labels, value.count),
    ]);
  }
}

/** Metrics by name, written together; collectors refresh gauges before each scrape. */
export class Registry {
  readonly #metrics = new Map<string, { render(): string[] }>();
  readonly #collectors: (() => Promise<void> | void)[] = [];

  /** Declares a counter. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }

  /** Declares a gauge. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }

  /** Declares a histogram. */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets: readonly number[] = LATENCY_BUCKETS,
  ): Histogram {
    return this.#add(new Histogram(name, help, labelNames, buckets));
  }

  /** Runs `collect` before every scrape (to read gauges from the database, say). */
  collect(collect: () => Promise<void> | void): void {
    this.#collectors.push(collect);
  }

  /**
   * Runs the collectors, then writes every metric. A collector that fails leaves its gauges as
   * they were and is reported through `onError`; the scrape still answers.
   */
  async render(onError: (error: unknown) => void = () => {}): Promise<string> {
    await Promise.all(this.#collectors.map(async (collect) => {
      try {
        await collect();
      } catch (error) {
        onError(error);
      }
    }));
    return [...this.#metrics.values()].flatMap((m) => m.render()).join("\n") + "\n";
  }

  #add<M extends { readonly name: string; render(): string[] }>(metric: M): M {
    if (this.#metrics.has(metric.name)) {
      throw new RangeError(`Metric ${metric.name} is declared twice`);
    }
    this.#metrics.set(metric.name, metric);
    return metric;
  }
}

/**
 * The events components report. Each is one call at the place it happens; {@link noMetrics}
 * does nothing, so unit tests and fakes need nothing.
 */
export interface Metrics {
  /** A connection was admitted by a listener (smtp, submission, imap, …). */
  connectionOpened(protocol: string): void;
  /** A connection ended; `tls` is its TLS version then ("TLSv1.3"), null without TLS. */
  connectionClosed(protocol: string, tls: string | null): void;
  /** A message was accepted and stored or queued (role: mx or submission). */
  messageReceived(role: string): void;
  /** A message was refused at the end of its content (loop, sender not owned, a filter, …). */
  messageRejected(role: string, reason: string): void;
  /** An outbound attempt for one recipient ended: delivered, deferred or failed. */
  deliveryAttempt(result: "delivered" | "deferred" | "failed"): void;
  /** A sign-in ended (success or failure, with the failure's reason). */
  auth(protocol: string, result: "success" | "failure", reason?: string): void;
  /** A ban was added, automatically or by an administrator. */
  ban(by: "auto" | "admin"): void;
  /** A filter check decided (accept, tag, quarantine, reject, tempfail). */
  filterVerdict(check: string, verdict: string): void;
}

/** Metrics that go nowhere. */
export const noMetrics: Metrics = Object.freeze({
  connectionOpened() {},
  connectionClosed() {},
  messageReceived() {},
  messageRejected() {},
  deliveryAttempt() {},
  auth() {},
  ban() {},
  filterVerdict() {},
});

/** The server's event counters, declared in `registry`. */
export interface ServerMetrics extends Metrics {
  readonly registry: Registry;
}

/**
 * Declares the server's counters in `registry` and returns the {@link Metrics} that feed them.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const metrics = serverMetrics(registry);
 * metrics.messageReceived("mx");
 * (await registry.render()).includes('fumi_messages_received_total{role="mx"} 1'); // true
 * ```
 */
export function serverMetrics(registry: Registry): ServerMetrics {
  const connections = registry.counter(
    "fumi_connections_total",
    "Connections served, by listener and the TLS version they ended with (none: no TLS).",
    ["protocol", "tls"],
  );
  const open = registry.gauge(
    "fumi_connections_open",
    "Connections being served now, by listener.",
    ["protocol"],
  );
  const received = registry.counter(
    "fumi_messages_received_total",
    "Messages accepted by SMTP (stored or queued), by role (mx, submission).",
    ["role"],
  );
  const rejected = registry.counter(
    "fumi_messages_rejected_total",
    "Messages refused at the end of their content, by role and reason.",
    ["role", "reason"],
  );
  const sent = registry.counter(
    "fumi_messages_sent_total",
    "Recipients delivered to remote hosts by the outbound queue.",
  );
  const attempts = registry.counter(
    "fumi_delivery_attempts_total",
    "Outbound delivery attempts per recipient, by result (delivered, deferred, failed).",
    ["result"],
  );
  const auth = registry.counter(
    "fumi_auth_total",
    "Sign-ins, by protocol, result (success, failure) and failure reason.",
    ["protocol", "result", "reason"],
  );
  const bans = registry.counter(
    "fumi_bans_total",
    "Bans added, by who added them (auto, admin).",
    ["by"],
  );
  const verdicts = registry.counter(
    "fumi_filter_verdicts_total",
    "Filter check verdicts, by check and verdict.",
    ["check", "verdict"],
  );
  return {
    registry,
    connectionOpened: (protocol) => open.inc({ protocol }),
    connectionClosed: (protocol, tls) => {
      open.inc({ protocol }, -1);
      connections.inc({ protocol, tls: tls ?? "none" });
    },
    messageReceived: (role) => received.inc({ role }),
    messageRejected: (role, reason) => rejected.inc({ role, reason }),
    deliveryAttempt: (result) => {
      attempts.inc({ result });
      if (result === "delivered") sent.inc();
    },
    auth: (protocol, result, reason) => auth.inc({ protocol, result, reason: reason ?? "" }),
    ban: (by) => bans.inc({ by }),
    filterVerdict: (check, verdict) => verdicts.inc({ check, verdict }),
  };
}

/**
 * Process gauges read at each scrape: resident memory and heap (Deno.memoryUsage) and the
 * event loop's lag, measured by a timer every `intervalMs` (its lateness, the largest since
 * the last scrape). Returns what stops the timer.
 */
export function processMetrics(registry: Registry, intervalMs = 500): { stop(): void } {
  const rss = registry.gauge("fumi_process_resident_memory_bytes", "Resident set size in bytes.");
  const heap = registry.gauge("fumi_process_heap_used_bytes", "V8 heap in use, in bytes.");
  const lag = registry.gauge(
    "fumi_event_loop_lag_seconds",
    "Largest lateness of a timer on the event loop since the previous scrape, in seconds.",
  );
  let worst = 0;
  let expected = performance.now() + intervalMs;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - expected);
    expected = now + intervalMs;
  }, intervalMs);
  // The measurement must never keep a stopping process alive.
  Deno.unrefTimer(timer);
  registry.collect(() => {
    const memory = Deno.memoryUsage();
    rss.set({}, memory.rss);
    heap.set({}, memory.heapUsed);
    lag.set({}, Math.max(0, worst) / 1000);
    worst = 0;
  });
  return { stop: () => clearInterval(timer) };
}

/** A label value or help text in the text format: `\` `"` and line feeds escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function sample(name: string, labels: Labels, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${formatNumber(value)}`;
}

/** Numbers as the format writes them: `+Inf`, `-Inf`, `NaN`, else JavaScript's shortest form. */
function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function sameLabels(a: Labels, b: Labels, names: readonly string[]): boolean {
  return names.every((name) => (a[name] ?? "") === (b[name] ?? ""));
}
