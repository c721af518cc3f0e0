/**
 * IMAP load for the benchmark (bench/_imap_client.ts underneath):
 *
 * - {@link runMix}: `clients` connections each LOGIN and SELECT INBOX once, then loop until
 *   the time is up (or `operations` are done), choosing at random among the kinds in
 *   {@link KINDS}: SELECT INBOX again, UID FETCH of three header fields of a 50-message UID
 *   range, UID FETCH of one whole message (BODY.PEEK[], so nothing changes), UID STORE
 *   +FLAGS or -FLAGS (\Flagged) on one message, and UID SEARCH, taking turns between FLAGGED
 *   (flags only) and FROM "x" (a substring search of the From field of every message; it
 *   matches all of them, "x" being in "example.net", so every UID comes back). Each command's
 *   latency runs from its write to its tagged status; only OK counts as done, anything else
 *   (or a failed connection, which the client opens again) is an error counted by kind.
 * - {@link openIdle}: `count` connections that LOGIN, SELECT INBOX and IDLE, opened a few at a
 *   time, held until released.
 *
 * @module
 */

import { type Completion, ImapConnection, type ImapTarget } from "./_imap_client.ts";

/** The kinds of command in the mix. */
export const KINDS = ["select", "fetch-headers", "fetch-body", "store", "search"] as const;
export type Kind = typeof KINDS[number];

/** What to run, against what. */
export interface MixOptions {
  readonly target: ImapTarget;
  readonly user: string;
  readonly password: string;
  readonly clients: number;
  readonly seconds: number;
  /** Stop after this many commands in all, if sooner (Infinity for none). */
  readonly operations: number;
  /** Messages in INBOX, with UIDs 1…messages. */
  readonly messages: number;
}

/** What a mix did. */
export interface MixResult {
  readonly seconds: number;
  readonly done: number;
  /** Sorted latencies in ms, per kind. */
  readonly latencies: ReadonlyMap<Kind, Float64Array>;
  readonly errors: ReadonlyMap<string, number>;
  /** FETCH responses that came back with fewer messages than asked for. */
  readonly short: number;
}

const RANGE = 50;
const MAX_FAILURES_IN_A_ROW = 3;
const CHECK_EVERY = 250;

/** Runs the mix; see the module documentation. */
export async function runMix(options: MixOptions): Promise<MixResult> {
  const errors = new Map<string, number>();
  const fail = (what: string) => errors.set(what, (errors.get(what) ?? 0) + 1);
  const latencies = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
  let issued = 0;
  let short = 0;
  const n = options.messages;
  const uid = () => 1 + Math.floor(Math.random() * n);

  const open = async () => {
    const connection = await ImapConnection.open(options.target);
    try {
      await connection.login(options.user, options.password);
      const selected = await connection.select();
      if (selected.done.status !== "OK") throw new Error(`SELECT: ${selected.done.line}`);
      if (selected.exists < n) throw new Error(`INBOX has ${selected.exists} of ${n} messages`);
      return connection;
    } catch (error) {
      connection.close();
      throw error;
    }
  };
  const commandOf = (kind: Kind, turn: number): [string, number] => {
    switch (kind) {
      case "select":
        return ["SELECT INBOX", 0];
      case "fetch-headers": {
        const first = 1 + Math.floor(Math.random() * Math.max(1, n - RANGE + 1));
        const last = Math.min(n, first + RANGE - 1);
        const items = "(UID BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])";
        return [`UID FETCH ${first}:${last} ${items}`, last - first + 1];
      }
      case "fetch-body":
        return [`UID FETCH ${uid()} (UID BODY.PEEK[])`, 1];
      case "store":
        return [`UID STORE ${uid()} ${turn % 2 ? "-" : "+"}FLAGS (\\Flagged)`, 0];
      case "search":
        return [turn % 2 ? 'UID SEARCH FROM "x"' : "UID SEARCH FLAGGED", 0];
    }
  };

  const opened = await Promise.all(
    Array.from({ length: options.clients }, () => open().catch((e) => e)),
  );
  const first = opened.filter((c): c is ImapConnection => c instanceof ImapConnection);
  for (const e of opened) if (!(e instanceof ImapConnection)) fail(`connect: ${describe(e)}`);
  if (first.length === 0) {
    throw new Error(`No client could log in: ${[...errors.keys()].join("; ")}`);
  }
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  let last = started;

  const worker = async (initial: ImapConnection) => {
    let connection: ImapConnection | null = initial;
    let failures = 0;
    let turn = 0;
    while (performance.now() < deadline && issued < options.operations) {
      if (connection === null) {
        connection = await open().catch((error) => {
          fail(`connect: ${describe(error)}`);
          return null;
        });
        if (connection === null) {
          if (++failures >= MAX_FAILURES_IN_A_ROW) break;
          continue;
        }
      }
      const kind = KINDS[Math.floor(Math.random() * KINDS.length)]!;
      const [command, expected] = commandOf(kind, turn++);
      issued++;
      const start = performance.now();
      let done: Completion;
      try {
        done = await connection.command(command);
      } catch (error) {
        fail(`${kind}: connection: ${describe(error)}`);
        connection.close();
        connection = null;
        if (++failures >= MAX_FAILURES_IN_A_ROW) break;
        continue;
      }
      last = performance.now();
      failures = 0;
      if (done.status !== "OK") {
        fail(`${kind}: ${done.line.replace(/^\S+ /, "").slice(0, 80)}`);
        continue;
      }
      if (done.untagged < expected) short++;
      latencies.get(kind)!.push(last - start);
    }
    connection?.close();
  };
  await Promise.all(first.map(worker));
  const sorted = new Map<Kind, Float64Array>(
    [...latencies].map(([k, v]) => [k, Float64Array.from(v).sort()]),
  );
  const done = [...latencies.values()].reduce((sum, v) => sum + v.length, 0);
  return { seconds: (last - started) / 1000, done, latencies: sorted, errors, short };
}

/** Idle connections, and how opening them went. */
export interface IdleSet {
  readonly idling: number;
  readonly errors: ReadonlyMap<string, number>;
  readonly seconds: number;
  /** Why it stopped opening before `count`, or null. */
  readonly stopped: string | null;
  /** Closes them all. */
  close(): void;
}

/**
 * Opens `count` connections, `parallel` at a time, each in IDLE on INBOX. Stops opening after
 * `maxErrors` failures (a limit reached: file descriptors, the server's connection limits), or
 * when `tooMuch`, asked every {@link CHECK_EVERY} connections, answers with a reason (the
 * server's memory above what the machine can spare).
 */
export async function openIdle(
  target: ImapTarget,
  user: string,
  password: string,
  count: number,
  print: (line: string) => void,
  tooMuch: () => Promise<string | null> = () => Promise.resolve(null),
  parallel = 50,
  maxErrors = 200,
): Promise<IdleSet> {
  const connections: ImapConnection[] = [];
  const errors = new Map<string, number>();
  let failed = 0;
  let next = 0;
  let stopped: string | null = null;
  const started = performance.now();
  const worker = async () => {
    while (next < count && failed < maxErrors && stopped === null) {
      next++;
      let connection: ImapConnection | null = null;
      try {
        connection = await ImapConnection.open(target);
        await connection.login(user, password);
        const selected = await connection.select();
        if (selected.done.status !== "OK") throw new Error(`SELECT: ${selected.done.line}`);
        await connection.idle();
        connections.push(connection);
        if (connections.length % 1000 === 0) print(`  ${connections.length} idling`);
        if (connections.length % CHECK_EVERY === 0) {
          const reason = await tooMuch();
          if (reason !== null) stopped ??= `stopped at ${connections.length}: ${reason}`;
        }
      } catch (error) {
        connection?.close();
        failed++;
        const what = describe(error).slice(0, 100);
        errors.set(what, (errors.get(what) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return {
    idling: connections.length,
    errors,
    seconds: (performance.now() - started) / 1000,
    stopped: stopped ?? (failed >= maxErrors ? `stopped after ${failed} failures` : null),
    close: () => connections.forEach((c) => c.close()),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
