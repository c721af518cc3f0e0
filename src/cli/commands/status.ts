/**
 * `fumi status`: one screen about the running server, read from where an operator would look:
 * - listeners: each enabled listener's port, probed over TCP on this machine (a wildcard
 *   address is probed on loopback), up or down;
 * - certificates from the store, with their expiry;
 * - the queue (waiting, held, oldest), active bans;
 * - the last errors the servers logged. Every `fumi serve` keeps its error lines in the
 *   database (error_events, trimmed to the newest few hundred: src/store/status.ts), so this
 *   shows them for every node and across restarts, without reading journald.
 *
 * `--dev` reads the configuration as `fumi serve --dev` does (loopback, high ports), so the
 * listeners probed are the ones such a server opened.
 *
 * Exit code 1 when a listener is down or a certificate in use has expired, so that scripts and
 * monitoring can call it; the summary is printed either way.
 *
 * @module
 */

import { type Config, LISTENER_NAMES } from "../../config/mod.ts";
import { activeBans, ErrorEvents, openStore, queueGauges, type Store } from "../../store/mod.ts";
import { ConfigError, FumiError } from "../../util/errors.ts";
import { expectPositional, parseArgs } from "../args.ts";
import type { Command } from "../command.ts";
import { commandLogger, configFor } from "../context.ts";

const USAGE = "fumi status [--dev] [--config FILE]";
/** How long a listener may take to accept the probe. */
const PROBE_TIMEOUT_MS = 2_000;
/** Errors shown. */
const ERRORS_SHOWN = 5;
/** A certificate in use that expires sooner than this is flagged. */
const EXPIRY_WARNING_DAYS = 14;
const DAY_MS = 86_400_000;

/** One probed endpoint. */
export interface ProbeResult {
  readonly listener: string;
  readonly address: string;
  readonly port: number;
  /** Null when up, else why it is down. */
  readonly problem: string | null;
}

/** `fumi status`. */
export const statusCommand: Command = {
  name: "status",
  usage: USAGE,
  summary: "Summarise the running server: listeners, certificates, queue, bans, last errors.",
  run: async (io, argv) => {
    const args = parseArgs(argv, { boolean: ["dev"], string: ["config"] });
    expectPositional(args, [], USAGE);
    const problems: string[] = [];
    // --dev: the defaults `fumi serve --dev` runs with (loopback, high ports).
    const config = await configFor(io, args, { dev: args.booleans.has("dev") });
    const now = new Date();
    io.out(`Fumi on ${config.hostname}, ${now.toISOString().replace(/\.\d+Z$/, "Z")}`);
    io.out("Listeners:");
    for (const probe of await probeListeners(config)) {
      const where = hostPort(probe.address, probe.port);
      io.out(`  ${probe.listener.padEnd(12)} ${where.padEnd(22)} ${probe.problem ?? "up"}`);
      if (probe.problem !== null) problems.push(`${probe.listener} is down`);
    }
    // The listeners are shown even when the database is what is down.
    let store: Store;
    try {
      store = await openStore(config, io.env, commandLogger(io));
    } catch (error) {
      if (error instanceof ConfigError) throw error; // a wrong master key: a usage error
      const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
      io.out(`Database: cannot be opened (${why})`);
      throw new FumiError(`Not healthy: ${[...problems, "the database is down"].join("; ")}`);
    }
    try {
      io.out("Certificates:");
      const certificates = await store.certificates.list();
      if (certificates.length === 0) io.out("  none");
      for (const c of certificates) {
        const days = c.notAfter === null
          ? null
          : Math.floor((c.notAfter.getTime() - now.getTime()) / DAY_MS);
        const expiry = c.notAfter === null
          ? "CSR pending"
          : days! < 0
          ? `EXPIRED ${day(c.notAfter)}`
          : `expires ${day(c.notAfter)} (${days} days${
            days! < EXPIRY_WARNING_DAYS && c.usedBy.length > 0 ? ", renew soon" : ""
          })`;
        const used = c.usedBy.length > 0 ? `used by ${c.usedBy.join(", ")}` : "unused";
        io.out(`  ${c.name.padEnd(20)} ${expiry.padEnd(36)} ${used}`);
        if (days !== null && days < 0 && c.usedBy.length > 0) {
          problems.push(`certificate ${c.name} has expired`);
        }
      }
      const queue = await queueGauges(store.sql);
      io.out(
        `Queue: ${queue.queued} waiting, ${queue.held} held${
          queue.oldest === null ? "" : `, oldest ${age(now.getTime() - queue.oldest.getTime())}`
        }`,
      );
      io.out(`Bans: ${await activeBans(store.sql, now)} active`);
      const errors = await new ErrorEvents(store.sql).recent(ERRORS_SHOWN);
      io.out(errors.length === 0 ? "Last errors: none" : "Last errors (newest first):");
      for (const e of errors) {
        const fields = Object.entries(e.fields).map(([k, v]) =>
          `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`
        ).join(" ");
        io.out(
          `  ${e.at.toISOString().replace(/\.\d+Z$/, "Z")} ${e.node}: ${e.message}${
            fields ? ` (${fields})` : ""
          }`.slice(0, 200),
        );
      }
    } finally {
      await store.close();
    }
    if (problems.length > 0) throw new FumiError(`Not healthy: ${problems.join("; ")}`);
  },
};

/**
 * Probes every enabled listener's addresses with a TCP connection (wildcards on loopback,
 * 0.0.0.0 as 127.0.0.1 and :: as ::1); each result is up or names the error.
 */
export async function probeListeners(config: Config): Promise<ProbeResult[]> {
  const targets: { listener: string; address: string; port: number }[] = [];
  for (const name of LISTENER_NAMES) {
    const listener = config.listeners[name];
    if (!listener.enabled) continue;
    const addresses = new Set(listener.addresses.map(loopbackFor));
    for (const address of addresses) targets.push({ listener: name, address, port: listener.port });
  }
  return await Promise.all(targets.map(async (t) => ({ ...t, problem: await probe(t) })));
}

async function probe(target: { address: string; port: number }): Promise<string | null> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
  try {
    const conn = await Deno.connect({
      hostname: target.address,
      port: target.port,
      signal: controller.signal,
    });
    conn.close();
    return null;
  } catch (error) {
    if (controller.signal.aborted) return `down (no answer in ${PROBE_TIMEOUT_MS / 1000} s)`;
    if (error instanceof Deno.errors.ConnectionRefused) return "down (connection refused)";
    return `down (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    clearTimeout(timer);
  }
}

function loopbackFor(address: string): string {
  if (address === "0.0.0.0") return "127.0.0.1";
  if (address === "::") return "::1";
  return address;
}

function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** A duration for people: 45s, 12m, 3h 5m, 2d 4h. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
