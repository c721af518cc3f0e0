/**
 * How `deno task bench imap` prints: each system's mix and IDLE figures, and the two side by
 * side with their ratio.
 *
 * @module
 */

import { count } from "./_phase.ts";
import { mib } from "./_procs.ts";
import { KINDS, type MixResult } from "./_imap_load.ts";
import { quantile } from "./_smtp_load.ts";

/** What one system did. */
export interface ImapSystemResult {
  readonly name: string;
  readonly description: string;
  /** Filling the mailbox: how, and how long it took. */
  readonly fill: string;
  readonly mix: MixResult | null;
  readonly idle: {
    readonly asked: number;
    readonly idling: number;
    readonly rss: number;
    readonly rssBefore: number;
    readonly errors: ReadonlyMap<string, number>;
    readonly seconds: number;
    readonly stopped: string | null;
    readonly note: string;
  } | null;
  readonly problems: readonly string[];
}

/** The issue's targets. */
const IDLE_TARGET_BYTES = 1024 ** 3;
const print = (line: string) => console.log(line);
const ms = (v: number) => Number.isNaN(v) ? "-" : v < 10 ? v.toFixed(2) : v.toFixed(1);

/** Operations per second of a mix. */
export function opsPerSecond(mix: MixResult): number {
  return mix.seconds > 0 ? mix.done / mix.seconds : 0;
}

/** Prints one system's figures. */
export function printImapResult(r: ImapSystemResult): void {
  print(`  mailbox: ${r.fill}`);
  if (r.mix !== null) {
    const mix = r.mix;
    print(
      `  mix: ${count(mix.done)} commands OK in ${mix.seconds.toFixed(1)} s = ${
        opsPerSecond(mix).toFixed(0)
      } ops/s`,
    );
    print(
      `    ${"kind".padEnd(14)} ${"count".padStart(8)} ${"p50 ms".padStart(8)} ${
        "p99 ms".padStart(8)
      }`,
    );
    const all = Float64Array.from([...mix.latencies.values()].flatMap((v) => [...v])).sort();
    for (
      const [kind, values] of [
        ...KINDS.map((k) => [k, mix.latencies.get(k)!] as const),
        ["all", all] as const,
      ]
    ) {
      print(
        `    ${kind.padEnd(14)} ${String(values.length).padStart(8)} ${
          ms(quantile(values, 0.5)).padStart(8)
        } ${ms(quantile(values, 0.99)).padStart(8)}`,
      );
    }
    const errors = [...mix.errors].reduce((sum, [, n]) => sum + n, 0);
    print(`    errors: ${errors}${errors ? "" : " (none)"}`);
    for (const [what, n] of mix.errors) print(`      ${n} × ${what}`);
    if (mix.short > 0) print(`    FETCH answered with fewer messages than asked: ${mix.short}`);
  }
  if (r.idle !== null) {
    const idle = r.idle;
    const per = idle.idling > 0 && idle.rss > 0
      ? (idle.rss - idle.rssBefore) / idle.idling / 1024
      : NaN;
    print(
      `  IDLE: ${count(idle.idling)} of ${count(idle.asked)} connections in IDLE (opened in ${
        idle.seconds.toFixed(1)
      } s); server RSS ${mib(idle.rss)} (${mib(idle.rssBefore)} before, ~${
        per.toFixed(1)
      } KiB per connection)`,
    );
    print(`    ${idle.note}`);
    if (idle.stopped !== null) print(`    ${idle.stopped}`);
    for (const [what, n] of idle.errors) print(`      ${n} × ${what}`);
  }
  for (const p of r.problems) print(`  ! ${p}`);
}

/** Prints the targets and, with both systems measured, the ratio Fumi / Dovecot. */
export function printImapComparison(results: readonly ImapSystemResult[]): void {
  const fumi = results.find((r) => r.name === "Fumi");
  const dovecot = results.find((r) => r.name === "Dovecot");
  print("\n== Summary ==");
  for (const r of results) {
    if (r.mix === null) continue;
    const all = Float64Array.from([...r.mix.latencies.values()].flatMap((v) => [...v])).sort();
    print(
      `  ${r.name.padEnd(8)} ${opsPerSecond(r.mix).toFixed(0).padStart(7)} ops/s, p99 ${
        ms(quantile(all, 0.99))
      } ms${r.idle === null ? "" : `; ${count(r.idle.idling)} IDLE in ${mib(r.idle.rss)} RSS`}`,
    );
  }
  if (fumi?.mix && dovecot?.mix) {
    const ratio = opsPerSecond(fumi.mix) / opsPerSecond(dovecot.mix);
    print(
      `  Fumi / Dovecot: ${ratio.toFixed(2)}× ops/s (target ≥ 1: ${
        ratio >= 1 ? "met" : "not met"
      })`,
    );
  }
  if (fumi?.idle && fumi.idle.rss === 0) {
    print("  Fumi IDLE: the server had ended when its memory was read (target: not met)");
  } else if (fumi?.idle && fumi.idle.idling > 0) {
    const { idling, rss, rssBefore } = fumi.idle;
    // Extrapolated linearly from what the connections opened added.
    const at10k = rssBefore + (rss - rssBefore) / idling * 10_000;
    const met = idling >= 10_000 ? rss < IDLE_TARGET_BYTES : at10k < IDLE_TARGET_BYTES;
    print(
      `  Fumi IDLE: ${count(idling)} connections in ${mib(rss)}${
        idling < 10_000 ? `, ~${mib(at10k)} at 10,000 extrapolated` : ""
      } (target: 10,000 under 1 GiB: ${met ? "met" : "not met"})`,
    );
  }
}
