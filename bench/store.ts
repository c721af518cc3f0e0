/**
 * The store benchmark: `deno task bench store [--count N]`.
 *
 * For each backend (embedded PGlite; real PostgreSQL when one can be reached) it opens a fresh
 * store the way `fumi serve` does, creates one account, and then, into its INBOX:
 *
 * 1. delivers the first half of `count` messages one after another (`Messages.deliver`);
 * 2. delivers the second half with `concurrency` deliverers at once;
 * 3. lists the mailbox (`Messages.list`), twice;
 * 4. reads every message back (`Messages.read`): the first half one after another, the second
 *    half with `concurrency` readers, checking each against what was delivered.
 *
 * The share of time spent in encryption is not sampled inside the run: sealing and opening
 * the same sizes is timed alone, per operation, and related to the run's wall time.
 *
 * Every phase stops at a time budget, saying so, so a slow backend cannot hold the run for long.
 *
 * @module
 */

import { createLogger } from "../src/ops/log.ts";
import { generatePassword } from "../src/crypto/random_password.ts";
import type { Store } from "../src/store/mod.ts";
import { type CryptoCost, measureCryptoCost } from "./_crypto_cost.ts";
import { checksum, messageMaker } from "./_message.ts";
import { watchStalls } from "./_stall.ts";
import { count, percent, type PhaseResult, rate, runPhase } from "./_phase.ts";
import {
  type Backend,
  DEFAULT_SERVER_URL,
  openEmbeddedBackend,
  openPostgresBackend,
} from "./_store_backends.ts";

interface Options {
  readonly count: number;
  readonly concurrency: number;
  readonly size: number;
  readonly budgetSeconds: number;
  readonly backends: readonly BackendName[];
}

type BackendName = "embedded" | "postgres";

const DEFAULTS: Options = {
  count: 10_000,
  concurrency: 8,
  size: 4096,
  budgetSeconds: 60,
  backends: ["embedded", "postgres"],
};
const USAGE = `Usage: deno task bench store [options]

  --count N        messages delivered into the mailbox, half of them one at a time, half
                   concurrently (default ${DEFAULTS.count})
  --concurrency N  concurrent deliverers and readers (default ${DEFAULTS.concurrency})
  --size BYTES     size of each message (default ${DEFAULTS.size})
  --budget S       seconds a phase may take before it stops early (default ${DEFAULTS.budgetSeconds})
  --only NAME      run one backend: embedded or postgres

PostgreSQL: FUMI_BENCH_DATABASE_URL, or else ${DEFAULT_SERVER_URL}; skipped if unreachable.`;
const print = (line: string) => console.log(line);

/** Runs the benchmark; see the module documentation. */
export async function run(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  if (typeof options === "string") {
    if (options !== "") console.error(options);
    console.error(USAGE);
    return options === "" ? 0 : 2;
  }
  const make = messageMaker(options.size);
  printEnvironment(options);

  print(`\nMeasuring encryption alone (${count(options.count)} operations each)…`);
  const cost = await measureCryptoCost(make, options.count);
  printCost(cost);

  const log = createLogger({ level: "warn", format: "text" });
  for (const name of options.backends) {
    print(`\n== ${name} ==`);
    const backend = name === "embedded"
      ? await openEmbeddedBackend(log)
      : await openPostgresBackend(
        Deno.env.get("FUMI_BENCH_DATABASE_URL") || DEFAULT_SERVER_URL,
        log,
      );
    if (typeof backend === "string") {
      print(`PostgreSQL skipped: ${backend}`);
      continue;
    }
    try {
      print(
        `${backend.where}; opened in ${
          backend.openSeconds.toFixed(1)
        } s (database start, migrations, key check)`,
      );
      const result = await benchStore(backend, options, make);
      printResult(backend, result, cost, options);
      print(`load average now: ${loadAverage()}`);
    } finally {
      await backend.close();
    }
  }
  return 0;
}

interface StoreResult {
  readonly deliverSequential: PhaseResult;
  readonly deliverConcurrent: PhaseResult;
  readonly listed: number;
  readonly listMs: readonly [number, number];
  readonly listStallMs: number;
  readonly readSequential: PhaseResult;
  readonly readConcurrent: PhaseResult;
}

async function benchStore(
  backend: Backend,
  options: Options,
  make: (index: number) => Uint8Array,
): Promise<StoreResult> {
  const { store } = backend;
  const label = (what: string) => `[${backend.name}] ${what}`;
  const { accountId, mailboxId } = await createAccount(store);
  const expected = new Map<number, number>(); // message id → checksum
  const phase = (what: string, total: number, workers: number) => ({
    label: label(what),
    total,
    workers,
    budgetSeconds: options.budgetSeconds,
    progressEvery: 1000,
    print,
  });

  const deliverAll = async (what: string, offset: number, total: number, workers: number) => {
    // Messages are made before the clock starts, so only the store is timed.
    const batch = Array.from({ length: total }, (_, i) => {
      const raw = make(offset + i);
      return { raw, sum: checksum(raw) };
    });
    return await runPhase(phase(what, total, workers), async (i) => {
      const { raw, sum } = batch[i]!;
      const [delivered] = await store.messages.deliver(raw, [{ accountId }]);
      expected.set(delivered!.messageId, sum);
    });
  };
  const first = Math.ceil(options.count / 2);
  const deliverSequential = await deliverAll("deliver, sequential", 0, first, 1);
  const deliverConcurrent = await deliverAll(
    `deliver, ${options.concurrency} concurrent`,
    first,
    options.count - first,
    options.concurrency,
  );

  const listMs: number[] = [];
  let listed: { messageId: number }[] = [];
  const listStalls = watchStalls();
  for (let i = 0; i < 2; i++) {
    const start = performance.now();
    listed = await store.messages.list(mailboxId);
    listMs.push(performance.now() - start);
  }
  const listStallMs = listStalls();
  if (listed.length !== expected.size) {
    throw new Error(`Listed ${listed.length} messages, delivered ${expected.size}`);
  }
  print(`  ${label("list")}: ${count(listed.length)} messages in ${listMs[0]!.toFixed(0)} ms`);

  const readAll = (what: string, ids: readonly number[], workers: number) =>
    runPhase(phase(what, ids.length, workers), async (i) => {
      const id = ids[i]!;
      const raw = await store.messages.read(accountId, id);
      if (checksum(raw) !== expected.get(id)) throw new Error(`Message ${id} reads back wrong`);
    });
  const ids = listed.map((m) => m.messageId);
  const half = Math.ceil(ids.length / 2);
  const readSequential = await readAll("read, sequential", ids.slice(0, half), 1);
  const readConcurrent = await readAll(
    `read, ${options.concurrency} concurrent`,
    ids.slice(half),
    options.concurrency,
  );
  return {
    deliverSequential,
    deliverConcurrent,
    listed: listed.length,
    listMs: [listMs[0]!, listMs[1]!],
    listStallMs,
    readSequential,
    readConcurrent,
  };
}

async function createAccount(store: Store): Promise<{ accountId: number; mailboxId: number }> {
  await store.domains.add("bench.example");
  const account = await store.accounts.create({
    address: "bench@bench.example",
    password: generatePassword(),
  });
  const inbox = await store.mailboxes.get(account.id, "INBOX");
  return { accountId: account.id, mailboxId: inbox.id };
}

function printEnvironment(options: Options): void {
  print(
    [
      `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), ${Deno.build.os}/${Deno.build.arch}`,
      `CPUs: ${navigator.hardwareConcurrency}, kernel ${Deno.osRelease()}`,
      `Message size: ${count(options.size)} bytes (headers and a text/plain body)`,
      `Messages: ${
        count(options.count)
      } into one INBOX, the first half delivered one at a time, the second by ${options.concurrency} concurrent deliverers; then listed, and all read back (half one at a time, half by ${options.concurrency} concurrent readers)`,
      `Load average: ${loadAverage()} (other work on this machine skews the figures)`,
      `Each phase stops early after ${options.budgetSeconds} s (--budget)`,
    ].join("\n"),
  );
}

function loadAverage(): string {
  return Deno.loadavg().map((n) => n.toFixed(2)).join(" ");
}

function printCost(cost: CryptoCost): void {
  const { raw, envelope, structure } = cost.sizes;
  print(
    [
      `  seal per delivery (raw ${raw} + envelope ${envelope} + structure ${structure} bytes, AES-256-GCM): ${
        ms(cost.sealMs)
      }`,
      `  open per read (raw ${raw} bytes): ${ms(cost.openMs)}`,
      `  for comparison, MIME parse per delivery (describe): ${ms(cost.parseMs)}`,
    ].join("\n"),
  );
}

function printResult(
  backend: Backend,
  result: StoreResult,
  cost: CryptoCost,
  options: Options,
): void {
  const r = result;
  const c = `${options.concurrency} concurrent`;
  const line = (name: string, p: PhaseResult) =>
    `${name.padEnd(26)}${rate(p.done, p.seconds).padStart(7)} msg/s  (${count(p.done)} in ${
      p.seconds.toFixed(1)
    } s${p.cutShort === null ? "" : `; ${p.cutShort}`})`;
  const share = (p: PhaseResult, perOpMs: number) => percent(perOpMs * p.done, p.seconds * 1000);
  const stall = (p: PhaseResult) => `${p.stallMs.toFixed(0)} ms`;
  print(
    [
      `\n-- ${backend.name}: results --`,
      line("deliveries, sequential:", r.deliverSequential),
      line(`deliveries, ${c}:`, r.deliverConcurrent),
      line("reads, sequential:", r.readSequential),
      line(`reads, ${c}:`, r.readConcurrent),
      `${`listing ${count(r.listed)} messages:`.padEnd(26)}${r.listMs[0].toFixed(0)} ms (again: ${
        r.listMs[1].toFixed(0)
      } ms)`,
      "share of wall time in encryption (seal or open cost measured alone, × operations ÷ wall",
      "time of the phase; for concurrent phases an upper bound, as the work may overlap):",
      `  deliveries: sequential ${share(r.deliverSequential, cost.sealMs)}, ${c} ${
        share(r.deliverConcurrent, cost.sealMs)
      }`,
      `  reads:      sequential ${share(r.readSequential, cost.openMs)}, ${c} ${
        share(r.readConcurrent, cost.openMs)
      }`,
      `  (MIME parsing at delivery, measured the same way: ${
        share(r.deliverSequential, cost.parseMs)
      } of sequential delivery time)`,
      `longest event-loop stall: deliveries ${stall(r.deliverSequential)} / ${
        stall(r.deliverConcurrent)
      }, listing ${r.listStallMs.toFixed(0)} ms, reads ${stall(r.readSequential)} / ${
        stall(r.readConcurrent)
      } (sequential / concurrent)`,
    ].join("\n"),
  );
}

function ms(value: number): string {
  return `${value.toFixed(3)} ms`;
}

/** The options, "" for --help, or an error message. */
function parseOptions(args: readonly string[]): Options | string {
  let options: Options = DEFAULTS;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") return "";
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = inline ?? args[++i];
    if (value === undefined) return `Option ${flag} needs a value`;
    const number = Number(value);
    const positive = Number.isInteger(number) && number > 0;
    switch (flag) {
      case "--count":
      case "--concurrency":
      case "--size":
      case "--budget": {
        if (!positive) return `Option ${flag} expects a positive integer, got "${value}"`;
        const key = flag === "--budget" ? "budgetSeconds" : flag.slice(2) as keyof Options;
        options = { ...options, [key]: number };
        break;
      }
      case "--only":
        if (value !== "embedded" && value !== "postgres") {
          return `Option --only expects embedded or postgres, got "${value}"`;
        }
        options = { ...options, backends: [value] };
        break;
      default:
        return `Unknown option "${arg}"`;
    }
  }
  return options;
}
