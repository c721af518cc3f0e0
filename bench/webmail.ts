/**
 * The webmail benchmark: `deno task bench webmail [--count N]`.
 *
 * For each backend (embedded PGlite; real PostgreSQL when one can be reached) it opens a fresh
 * store, creates one account, delivers `distinct` messages (`Messages.deliver`, encrypted as
 * always), then fills the INBOX up to `count` entries by giving those messages more UIDs (as
 * IMAP COPY does: the rows are what a list reads; the bytes are shared), and asks the web app
 * (in process, `app.request`, so the time is the server's: queries, decryption of cached
 * descriptions, rendering) for message-list pages:
 *
 * 1. the newest page, again and again (what a user sees most: warm description cache);
 * 2. "older" pages starting anywhere in the mailbox (cold descriptions, then warm).
 *
 * It prints p50, p95 and the maximum per kind; the target is p95 under 50 ms.
 *
 * @module
 */

import { Bans } from "../src/auth/bans.ts";
import { Login, sqlCredentials } from "../src/auth/login.ts";
import { createLogger } from "../src/ops/log.ts";
import type { Store } from "../src/store/mod.ts";
import { createWebApp } from "../src/web/app.tsx";
import { sanitisedRenderer } from "../src/web/message_view.ts";
import { WebSessions } from "../src/web/sessions.ts";
import { PAGE_SIZE } from "../src/web/mail_pages.ts";
import { messageMaker } from "./_message.ts";
import {
  type Backend,
  DEFAULT_SERVER_URL,
  openEmbeddedBackend,
  openPostgresBackend,
} from "./_store_backends.ts";

interface Options {
  readonly count: number;
  readonly distinct: number;
  readonly requests: number;
  readonly backends: readonly ("embedded" | "postgres")[];
}

const DEFAULTS: Options = {
  count: 100_000,
  distinct: 2_000,
  requests: 200,
  backends: ["embedded", "postgres"],
};
const USAGE = `Usage: deno task bench webmail [options]

  --count N      entries in the INBOX (default ${DEFAULTS.count})
  --distinct N   distinct messages delivered; the rest are further UIDs of them (default ${DEFAULTS.distinct})
  --requests N   pages asked for, per kind (default ${DEFAULTS.requests})
  --only NAME    run one backend: embedded or postgres

PostgreSQL: FUMI_BENCH_DATABASE_URL, or else ${DEFAULT_SERVER_URL}; skipped if unreachable.`;

/** Runs the benchmark; see the module documentation. */
export async function run(args: readonly string[]): Promise<number> {
  const options = parseOptions(args);
  if (typeof options === "string") {
    if (options !== "") console.error(options);
    console.error(USAGE);
    return options === "" ? 0 : 2;
  }
  console.log(
    `webmail message list: ${options.count} entries (${options.distinct} distinct messages), ` +
      `${options.requests} requests per kind, pages of ${PAGE_SIZE}`,
  );
  const log = createLogger({ level: "warn", format: "text" });
  for (const name of options.backends) {
    let backend: Backend | string;
    try {
      backend = name === "embedded" ? await openEmbeddedBackend(log) : await openPostgresBackend(
        Deno.env.get("FUMI_BENCH_DATABASE_URL") ?? DEFAULT_SERVER_URL,
        log,
      );
    } catch (error) {
      backend = (error as Error).message;
    }
    if (typeof backend === "string") {
      console.log(`\n${name}: skipped (${backend})`);
      continue;
    }
    try {
      console.log(`\n${backend.name}: ${backend.where}`);
      await measure(backend.store, options);
    } finally {
      await backend.close();
    }
  }
  return 0;
}

async function measure(store: Store, options: Options): Promise<void> {
  await store.domains.add("example.org");
  const account = await store.accounts.create({
    address: "bench@example.org",
    password: "purple elephants dance 42",
    quotaBytes: 0,
  });
  const inbox = await store.mailboxes.get(account.id, "INBOX");
  const make = messageMaker(4096);
  let started = performance.now();
  const workers = 8;
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < options.distinct) {
      const index = next++;
      await store.messages.deliver(make(index), [{ accountId: account.id }]);
    }
  }));
  console.log(`  delivered ${options.distinct} messages in ${seconds(started)}`);
  started = performance.now();
  const more = options.count - options.distinct;
  if (more > 0) {
    await store.sql`
      with source as (
        select message_id, size, row_number() over (order by uid) - 1 as i
        from mailbox_messages where mailbox_id = ${inbox.id}
      ),
      box as (select uid_next, highest_modseq from mailboxes where id = ${inbox.id})
      insert into mailbox_messages (mailbox_id, uid, message_id, flags, modseq, size, internal_date)
      select ${inbox.id}, box.uid_next + g, s.message_id,
             case when g % 100 = 0 then '{}'::text[] else array['\\Seen'] end,
             box.highest_modseq, s.size, now() - make_interval(secs => ${more} - g)
      from generate_series(0, ${more - 1}) g, box
      join source s on true
      where s.i = g % ${options.distinct}`;
    await store.sql`
      update mailboxes set uid_next = uid_next + ${more} where id = ${inbox.id}`;
    await store.sql`analyze mailbox_messages`;
  }
  console.log(`  filled the INBOX to ${options.count} entries in ${seconds(started)}`);

  const silent = createLogger({ level: "error", format: "text" });
  const sessions = new WebSessions(store.sql);
  const app = await createWebApp({
    store,
    login: new Login({
      bans: new Bans(store.sql, { log: silent }),
      credentials: sqlCredentials(store.sql),
      log: silent,
    }),
    sessions,
    render: sanitisedRenderer,
    log: silent,
    hostname: "bench.example.org",
    staticDir: new URL("../static/", import.meta.url),
  });
  const { token } = await sessions.create(account.id, "full", { ip: "127.0.0.1", userAgent: "" });
  const ask = async (before: number | null): Promise<number> => {
    const start = performance.now();
    const response = await app.request(
      `https://bench.example.org/mail?folder=INBOX${before === null ? "" : `&before=${before}`}`,
      { headers: { cookie: `__Host-fumi=${token}`, accept: "text/html" } },
      { ip: "127.0.0.1" },
    );
    const body = await response.text();
    const ms = performance.now() - start;
    if (response.status !== 200 || !body.includes('class="messages"')) {
      throw new Error(`Page before ${before}: status ${response.status}`);
    }
    return ms;
  };
  await ask(null); // first use: prepared statements, the app's first render
  const first: number[] = [];
  for (let i = 0; i < options.requests; i++) first.push(await ask(null));
  report("newest page (warm)", first);
  const random: number[] = [];
  for (let i = 0; i < options.requests; i++) {
    random.push(await ask(PAGE_SIZE + 1 + Math.floor(Math.random() * options.count)));
  }
  report("older page anywhere", random);
}

function report(what: string, times: number[]): void {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const p95 = at(0.95);
  console.log(
    `  ${what.padEnd(22)} p50 ${at(0.5).toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, ` +
      `max ${sorted.at(-1)!.toFixed(1)} ms ${p95 < 50 ? "(p95 under 50 ms)" : "(p95 over 50 ms)"}`,
  );
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

function parseOptions(args: readonly string[]): Options | string {
  let options: Options = DEFAULTS;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") return "";
    const value = args[++i];
    if (value === undefined) return `${arg} needs a value`;
    const number = Number(value);
    switch (arg) {
      case "--count":
      case "--distinct":
      case "--requests":
        if (!Number.isSafeInteger(number) || number < 1) {
          return `${arg}: expected a positive whole number, got "${value}"`;
        }
        options = { ...options, [arg.slice(2)]: number };
        break;
      case "--only":
        if (value !== "embedded" && value !== "postgres") {
          return `--only: expected embedded or postgres, got "${value}"`;
        }
        options = { ...options, backends: [value] };
        break;
      default:
        return `Unknown option "${arg}"`;
    }
  }
  if (options.distinct > options.count) return "--distinct cannot exceed --count";
  return options;
}
