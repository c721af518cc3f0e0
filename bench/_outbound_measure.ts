/**
 * How `deno task bench outbound` measures a sender and prints what it did: the submission
 * load (bench/_smtp_load.ts) runs while the peer's Maildirs are counted; then each arrival is
 * matched to its message by the index in its Message-ID (bench/_message.ts writes `<index +
 * 1.…>`) and timed from the 250 its submission got (or from a release, for a backlog).
 *
 * @module
 */

import { count, rate } from "./_phase.ts";
import type { PostfixPeer } from "./_postfix_peer.ts";
import { type LoadOptions, type LoadResult, quantile, runLoad } from "./_smtp_load.ts";

/** What a sender did. */
export interface Measured {
  readonly name: string;
  readonly load: LoadResult;
  readonly arrived: number;
  /** From the first MAIL to the last arrival. */
  readonly endSeconds: number;
  /** For a backlog: first to last arrival, and release to last arrival; else null. */
  readonly backlog: { readonly seconds: number; readonly fromRelease: number } | null;
  /** Per message, 250 (or release) to arrival, sorted. */
  readonly latenciesMs: Float64Array;
  /** Postfix's own share of each delivery (its delay= field), sorted. */
  readonly peerDelaysMs: Float64Array;
  /** The peer's TLS sessions. */
  readonly tlsSessions: number;
  /** More lines for the report. */
  readonly notes: string[];
  /** Problems that make the figures doubtful. */
  readonly problems: string[];
}

/** What the sender under test does around the load. */
export interface Hooks {
  /** Before the first message (e.g. put the sender on hold). */
  before?(): Promise<void>;
  /** After the last 250 (e.g. release everything); resolves once released. */
  afterLoad?(): Promise<void>;
}

const POLL_MS = 200;
const PROGRESS_EVERY_MS = 5_000;
const print = (line: string) => console.log(line);
const now = () => performance.timeOrigin + performance.now();

/**
 * Runs the load against the sender and waits until every accepted message has arrived at the
 * peer, or none has for `drainSeconds`.
 */
export async function measure(
  name: string,
  peer: PostfixPeer,
  loadOptions: LoadOptions,
  drainSeconds: number,
  hooks: Hooks = {},
): Promise<Measured> {
  await hooks.before?.();
  // Arrivals are counted while the load runs, to print them with its progress.
  let delivered = 0;
  let lastChange = performance.now();
  let loading = true;
  let accepted = Infinity;
  const progress = setInterval(() => {
    if (!loading) print(`  ${count(delivered)} / ${count(loadOptions.messages)} arrived`);
  }, PROGRESS_EVERY_MS);
  const watch = (async () => {
    while (loading || performance.now() - lastChange < drainSeconds * 1000) {
      const found = await peer.delivered();
      if (found !== delivered) lastChange = performance.now();
      delivered = found;
      if (!loading && delivered >= accepted) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  let load: LoadResult;
  try {
    load = await runLoad({
      ...loadOptions,
      print: (line) => print(`${line}; ${count(delivered)} arrived`),
    });
  } finally {
    accepted = 0;
    loading = false;
  }
  accepted = load.accepted;
  let releasedAt: number | null = null;
  if (hooks.afterLoad !== undefined) {
    // Before the release starts: its own time counts against the drain, not for it.
    releasedAt = now();
    await hooks.afterLoad();
  }
  lastChange = performance.now();
  await watch.finally(() => clearInterval(progress));

  const arrivals = await peer.arrivals();
  const latencies: number[] = [];
  let unmatched = 0;
  let first = Infinity;
  let last = load.startedAt;
  for (const { messageId, at } of arrivals) {
    last = Math.max(last, at);
    first = Math.min(first, at);
    const index = Number(/^<(\d+)\./.exec(messageId ?? "")?.[1]) - 1;
    const acceptedAt = load.acceptedAt[index];
    if (acceptedAt === undefined || Number.isNaN(acceptedAt)) unmatched++;
    else latencies.push(at - (releasedAt ?? acceptedAt));
  }
  const figures = await peer.logFigures();
  const errors = [...load.errors.values()].reduce((a, b) => a + b, 0);
  const problems: string[] = [];
  if (errors > 0) problems.push(`${count(errors)} submission errors`);
  if (load.cutShort !== null) problems.push(load.cutShort);
  if (arrivals.length !== load.accepted) {
    problems.push(`the peer holds ${count(arrivals.length)} messages for ${count(load.accepted)}`);
  }
  if (unmatched > 0) problems.push(`${count(unmatched)} arrivals match no accepted message`);
  return {
    name,
    load,
    arrived: arrivals.length,
    endSeconds: (last - load.startedAt) / 1000,
    backlog: releasedAt === null
      ? null
      : { seconds: (last - first) / 1000, fromRelease: (last - releasedAt) / 1000 },
    latenciesMs: Float64Array.from(latencies).sort(),
    peerDelaysMs: figures.delaysMs,
    tlsSessions: figures.tlsSessions,
    notes: [],
    problems,
  };
}

/** One sender's figures. */
export function printMeasured(m: Measured): void {
  const { load, backlog } = m;
  const lines = [
    `-- ${m.name}: results --`,
    `submission: ${count(load.accepted)} of ${
      count(load.attempted)
    } accepted over ${load.opened} sessions (${load.pipelined} pipelined), ${
      rate(load.accepted, load.seconds)
    } msg/s (${load.seconds.toFixed(1)} s); MAIL to 250 p50 ${
      ms(quantile(load.latenciesMs, 0.5))
    }, p99 ${ms(quantile(load.latenciesMs, 0.99))}`,
    `end to end: ${count(m.arrived)} arrived at the peer, ${rate(m.arrived, m.endSeconds)} msg/s (${
      m.endSeconds.toFixed(1)
    } s from the first MAIL to the last arrival)`,
    ...(backlog === null ? [] : [
      `delivery alone: ${rate(m.arrived - 1, backlog.seconds)} msg/s (${
        backlog.seconds.toFixed(1)
      } s from the first arrival to the last; ${
        backlog.fromRelease.toFixed(1)
      } s from the release)`,
    ]),
    `queue to delivery (${backlog === null ? "250" : "release"} to arrival): p50 ${
      ms(quantile(m.latenciesMs, 0.5))
    }, p99 ${ms(quantile(m.latenciesMs, 0.99))}, max ${ms(m.latenciesMs.at(-1) ?? NaN)}`,
    `  of which the peer's own (receipt to Maildir, its delay=): p50 ${
      ms(quantile(m.peerDelaysMs, 0.5))
    }, p99 ${ms(quantile(m.peerDelaysMs, 0.99))}`,
    `the peer set up ${count(m.tlsSessions)} TLS sessions`,
    ...m.notes,
  ];
  for (const [what, n] of load.errors) lines.push(`  error ×${count(n)}: ${what}`);
  for (const problem of m.problems) lines.push(`  ! ${problem}`);
  print(lines.join("\n"));
}

/** Two senders side by side. */
export function printSideBySide(a: Measured, b: Measured): void {
  const row = (what: string, x: string, y: string) =>
    `${what.padEnd(30)}${x.padStart(14)}${y.padStart(14)}`;
  const p = (m: Measured, q: number) => ms(quantile(m.latenciesMs, q));
  print(
    [
      "\n== Side by side ==",
      row("", a.name, b.name),
      row(
        "submission, msg/s",
        rate(a.load.accepted, a.load.seconds),
        rate(b.load.accepted, b.load.seconds),
      ),
      row("MAIL to 250, p50", mq(a, 0.5), mq(b, 0.5)),
      row("end to end, msg/s", rate(a.arrived, a.endSeconds), rate(b.arrived, b.endSeconds)),
      row("250 to arrival, p50", p(a, 0.5), p(b, 0.5)),
      row("250 to arrival, p99", p(a, 0.99), p(b, 0.99)),
      row("250 to arrival, max", ms(a.latenciesMs.at(-1) ?? NaN), ms(b.latenciesMs.at(-1) ?? NaN)),
      row("TLS sessions at the peer", count(a.tlsSessions), count(b.tlsSessions)),
    ].join("\n"),
  );
}

function mq(m: Measured, q: number): string {
  return ms(quantile(m.load.latenciesMs, q));
}

/** Milliseconds, for people. */
export function ms(value: number): string {
  return Number.isNaN(value) ? "-" : `${value.toFixed(value < 10 ? 1 : 0)} ms`;
}
