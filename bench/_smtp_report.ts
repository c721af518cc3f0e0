/**
 * How `deno task bench smtp` prints: the environment, each system's figures, and the two side
 * by side with their ratios.
 *
 * @module
 */

import { count } from "./_phase.ts";
import { mib } from "./_procs.ts";
import { type LoadResult, quantile } from "./_smtp_load.ts";

/** The load, as the report describes it. */
export interface LoadShape {
  readonly sessions: number;
  readonly messages: number;
  readonly users: number;
  readonly size: number;
  readonly budgetSeconds: number;
  readonly domain: string;
}

/** The target: Fumi at least this many times Postfix+Dovecot end to end. */
const TARGET = 1.5;
const print = (line: string) => console.log(line);

/** What one system did. */
export interface SystemResult {
  readonly name: string;
  readonly description: string;
  readonly load: LoadResult;
  readonly delivered: number;
  /** From the first MAIL to the last delivery. */
  readonly deliveredSeconds: number;
  /** MAIL to delivery per message, sorted; null when it cannot be known. */
  readonly deliveryLatenciesMs: Float64Array | null;
  /** Peak summed PSS of the system's processes, sampled. */
  readonly pss: number;
  /** More about memory, for the report. */
  readonly memoryNote: string;
  /** Problems that make the figures doubtful. */
  readonly problems: readonly string[];
}

/** The machine and the load. */
export function printEnvironment(options: LoadShape): void {
  print(
    [
      `Deno ${Deno.version.deno}, ${Deno.build.os}/${Deno.build.arch}, ${navigator.hardwareConcurrency} CPUs, kernel ${Deno.osRelease()}`,
      `Load average: ${loadAverage()} (other work on this machine skews the figures)`,
      `${count(options.messages)} messages of ${
        count(options.size)
      } bytes from ${options.sessions} sessions to ${options.users} users of ${options.domain}, plain SMTP on 127.0.0.1; sending stops after ${options.budgetSeconds} s`,
    ].join("\n"),
  );
}

/** One system's figures, errors and problems. */
export function printResult(r: SystemResult): void {
  const { load } = r;
  const lines = [
    `-- ${r.name}: results --`,
    `sessions: ${load.opened} opened, ${load.pipelined} offered PIPELINING`,
    `accepted:  ${count(load.accepted)} of ${count(load.attempted)} sent, ${
      perSecond(load.accepted, load.seconds)
    } msg/s (${load.seconds.toFixed(1)} s); MAIL to 250 p50 ${
      ms(quantile(load.latenciesMs, 0.5))
    }, p99 ${ms(quantile(load.latenciesMs, 0.99))}`,
    `delivered: ${count(r.delivered)}, ${perSecond(r.delivered, r.deliveredSeconds)} msg/s (${
      r.deliveredSeconds.toFixed(1)
    } s); MAIL to delivery ${latencyPair(r.deliveryLatenciesMs)}`,
    `peak memory: ${mib(r.pss)} PSS, sampled every 0.5 s (${r.memoryNote})`,
  ];
  for (const [what, n] of load.errors) lines.push(`  error ×${count(n)}: ${what}`);
  for (const problem of r.problems) lines.push(`  ! ${problem}`);
  print(lines.join("\n"));
}

/** The two systems side by side, with the ratios and the target. */
export function printComparison(fumi: SystemResult, postfix: SystemResult): void {
  const rate = (r: SystemResult, delivered: boolean) =>
    delivered ? r.delivered / r.deliveredSeconds : r.load.accepted / r.load.seconds;
  const row = (name: string, a: string, b: string, ratio: string) =>
    `${name.padEnd(26)}${a.padStart(14)}${b.padStart(18)}${ratio.padStart(16)}`;
  const ratio = (delivered: boolean) =>
    `${(rate(fumi, delivered) / rate(postfix, delivered)).toFixed(2)}×`;
  const p = (values: Float64Array | null, q: number) =>
    values === null ? "-" : ms(quantile(values, q));
  const endToEnd = rate(fumi, true) / rate(postfix, true);
  print(
    [
      "\n== Side by side ==",
      row("", "Fumi", "Postfix+Dovecot", "Fumi/Postfix"),
      row(
        "accepted, msg/s",
        perSecond(fumi.load.accepted, fumi.load.seconds),
        perSecond(postfix.load.accepted, postfix.load.seconds),
        ratio(false),
      ),
      row(
        "end to end, msg/s",
        perSecond(fumi.delivered, fumi.deliveredSeconds),
        perSecond(postfix.delivered, postfix.deliveredSeconds),
        ratio(true),
      ),
      row("MAIL to 250, p50", p(fumi.load.latenciesMs, 0.5), p(postfix.load.latenciesMs, 0.5), ""),
      row(
        "MAIL to 250, p99",
        p(fumi.load.latenciesMs, 0.99),
        p(postfix.load.latenciesMs, 0.99),
        "",
      ),
      row(
        "MAIL to stored, p50",
        p(fumi.deliveryLatenciesMs, 0.5),
        p(postfix.deliveryLatenciesMs, 0.5),
        "",
      ),
      row(
        "MAIL to stored, p99",
        p(fumi.deliveryLatenciesMs, 0.99),
        p(postfix.deliveryLatenciesMs, 0.99),
        "",
      ),
      row("peak memory (PSS)", mib(fumi.pss), mib(postfix.pss), ""),
      row("errors", count(errorCount(fumi)), count(errorCount(postfix)), ""),
      `Target: Fumi ≥ ${TARGET}× Postfix+Dovecot end to end — ${
        endToEnd >= TARGET ? "met" : "not met"
      } (${endToEnd.toFixed(2)}×)${
        fumi.problems.length + postfix.problems.length > 0 ? "; see the problems above" : ""
      }`,
    ].join("\n"),
  );
}

function errorCount(r: SystemResult): number {
  return [...r.load.errors.values()].reduce((a, b) => a + b, 0);
}

function perSecond(n: number, seconds: number): string {
  return seconds > 0 ? count(Math.round(n / seconds)) : "-";
}

function ms(value: number): string {
  return Number.isNaN(value) ? "-" : `${value.toFixed(value < 10 ? 1 : 0)} ms`;
}

function latencyPair(sorted: Float64Array | null): string {
  if (sorted === null) return "p50/p99 unknown (sealed files)";
  return `p50 ${ms(quantile(sorted, 0.5))}, p99 ${ms(quantile(sorted, 0.99))}`;
}

function loadAverage(): string {
  return Deno.loadavg().map((n) => n.toFixed(2)).join(" ");
}
