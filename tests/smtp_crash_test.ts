/**
 * Crash durability of the SMTP server (RFC 5321 §4.1.1.4, §6.1): the real `fumi serve` is
 * killed with SIGKILL while eight MX sessions send mail, then started again on the same data
 * directory (embedded PGlite) or database (FUMI_TEST_DATABASE_URL). Every message that got its
 * 250 must be in each recipient's INBOX exactly once; a message that did not may be there, at
 * most once and for all of its recipients or none (its commit can land just before the kill).
 *
 * Each message carries `X-Crash-Id: <session>-<n>`; every fourth goes to two users, so a
 * half-committed delivery would show. The store is read back, decrypted, from the test process
 * beside the restarted server (it joins the embedded database over its socket).
 *
 * @module
 */

import { LISTENER_NAMES } from "../src/config/schema.ts";
import { generateMasterKey } from "../src/crypto/master_key.ts";
import type { Store } from "../src/store/mod.ts";
import { assert, assertEquals } from "./assert.ts";
import {
  assertOk,
  type Env,
  freePort,
  fumi,
  type FumiChild,
  newDataDir,
  spawnFumi,
  storeFor,
  withTempDir,
} from "./cli.ts";
import { openTestDatabase } from "./db.ts";
import { Wire } from "./smtp_wire.ts";

const DOMAIN = "crash.example";
const USERS = ["ann", "ben", "cat"].map((name) => `${name}@${DOMAIN}`);
const SESSIONS = 8;
/** Acknowledged messages before the kill: enough that every session is well into its loop. */
const ACKNOWLEDGED_BEFORE_KILL = 150;
/** Both starts and the sending, together; the stops take at most {@link KILL_AFTER_MS} more. */
const BUDGET_MS = 45_000;
const KILL_AFTER_MS = 5_000;

/** What the clients saw, by X-Crash-Id. */
interface Outcome {
  /** Ids whose final dot was (or was being) sent, with their recipients. */
  readonly attempted: Map<string, readonly string[]>;
  /** Ids that got 250 to DATA. */
  readonly acknowledged: Set<string>;
  /** Sessions between MAIL and the reply to the final dot. */
  busy: number;
  killed: boolean;
}

Deno.test("smtp: a SIGKILL during concurrent sends loses no acknowledged message and stores none twice", async () => {
  await withTempDir(async (tmp) => {
    const dataDir = `${tmp}/data`;
    const test = Deno.env.get("FUMI_TEST_DATABASE_URL") ? await openTestDatabase() : null;
    const children: FumiChild[] = [];
    const clients: Wire[] = [];
    let store: Store | null = null;
    const until = Date.now() + BUDGET_MS;
    const left = () => Math.max(1, until - Date.now());
    try {
      const env: Env = {
        FUMI_DATA_DIR: dataDir,
        FUMI_MASTER_KEY: generateMasterKey(),
        ...(test?.url ? { FUMI_DATABASE_URL: test.url } : {}),
      };
      if (test === null) await newDataDir(dataDir);

      const database = test === null ? "embedded PGlite in the data directory" : "PostgreSQL";
      const first = await serve(tmp, env, children, database, left());
      assertOk(await fumi(["domain", "add", DOMAIN], { env }));
      for (const user of USERS) assertOk(await fumi(["user", "add", user], { env }));

      const outcome: Outcome = {
        attempted: new Map(),
        acknowledged: new Set(),
        busy: 0,
        killed: false,
      };
      for (let session = 0; session < SESSIONS; session++) {
        clients.push(await Wire.connect(first.port));
      }
      const sessions = clients.map((client, session) => sendLoop(client, session, outcome));
      while (outcome.acknowledged.size < ACKNOWLEDGED_BEFORE_KILL) {
        if (Date.now() > until) {
          throw new Error(
            `Only ${outcome.acknowledged.size} messages acknowledged in the time allowed: ${
              first.child.stderr.slice(-5).join(" | ")
            }`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      outcome.killed = true;
      const busyAtKill = outcome.busy;
      first.child.process.kill("SIGKILL");
      const killed = await first.child.finished();
      assertEquals(killed.signal, "SIGKILL");
      // Each loop ends when its connection closes; a failure before the kill rejects here.
      await Promise.all(sessions);
      assert(busyAtKill > 0, "no transaction was in flight at the kill");

      const second = await serve(tmp, env, children, database, left());
      store = await storeFor(env);
      const stored = await crashIds(store);
      await store.close();
      store = null;
      second.child.process.kill("SIGTERM");
      const stopped = await second.child.finished();
      assertEquals(stopped.code, 0, second.child.stderr.slice(-5).join("\n"));

      const { attempted, acknowledged } = outcome;
      const counts = `acknowledged ${acknowledged.size}, attempted ${attempted.size}, ` +
        `stored ${new Set(stored.map((s) => s.id)).size} messages in ${stored.length} copies, ` +
        `${busyAtKill} in flight at the kill`;
      const copies = new Map<string, number>();
      for (const { id, address } of stored) {
        const key = `${id} ${address}`;
        copies.set(key, (copies.get(key) ?? 0) + 1);
        assert(attempted.get(id)?.includes(address), `${key} was never sent (${counts})`);
      }
      const twice = [...copies].filter(([, n]) => n > 1).map(([key]) => key);
      assertEquals(twice, [], `copies stored more than once (${counts})`);
      const missing = [...acknowledged].flatMap((id) =>
        attempted.get(id)!.filter((address) => !copies.has(`${id} ${address}`))
          .map((address) => `${id} ${address}`)
      );
      assertEquals(missing, [], `acknowledged copies missing (${counts})`);
      const partial = [...attempted].filter(([id, recipients]) => {
        const present = recipients.filter((address) => copies.has(`${id} ${address}`)).length;
        return present !== 0 && present !== recipients.length;
      }).map(([id]) => id);
      assertEquals(partial, [], `messages stored for only some recipients (${counts})`);
    } finally {
      for (const client of clients) client.close();
      await store?.close();
      for (const child of children) await child.stop(KILL_AFTER_MS);
      await test?.close();
    }
  });
});

/**
 * Sends messages on one connection until it breaks: each to one user, every fourth to two.
 * Errors are the test's failure unless the server was killed.
 */
async function sendLoop(client: Wire, session: number, outcome: Outcome): Promise<void> {
  try {
    await client.expect("220");
    await client.command("EHLO client.example", "250");
    for (let n = 0;; n++) {
      const id = `${session}-${n}`;
      const first = (session + n) % USERS.length;
      const recipients = n % 4 === 0
        ? [USERS[first]!, USERS[(first + 1) % USERS.length]!]
        : [USERS[first]!];
      outcome.busy++;
      await client.command("MAIL FROM:<sender@client.example>", "250 2.1.0");
      for (const address of recipients) await client.command(`RCPT TO:<${address}>`, "250 2.1.5");
      await client.command("DATA", "354");
      outcome.attempted.set(id, recipients);
      await client.send(`${message(id, recipients, n)}.\r\n`);
      const reply = await client.reply();
      if (reply === null) return;
      if (!reply.startsWith("250 ")) throw new Error(`DATA of ${id}: ${reply}`);
      outcome.acknowledged.add(id);
      outcome.busy--;
    }
  } catch (error) {
    if (!outcome.killed) throw error;
  }
}

/** A message of one to a few kilobytes, marked with its id. */
function message(id: string, recipients: readonly string[], n: number): string {
  const body = Array.from(
    { length: 16 + (n % 5) * 16 },
    (_, line) => `Line ${line} of message ${id}: the quick brown fox jumps over the lazy dog.`,
  );
  return [
    "From: Sender <sender@client.example>",
    `To: ${recipients.join(", ")}`,
    `Subject: Crash test ${id}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${id}.crash@client.example>`,
    `X-Crash-Id: ${id}`,
    "",
    ...body,
    "",
  ].join("\r\n");
}

/** Every stored copy's X-Crash-Id and the address whose INBOX holds it. */
async function crashIds(store: Store): Promise<{ id: string; address: string }[]> {
  const decoder = new TextDecoder();
  const out: { id: string; address: string }[] = [];
  for (const address of USERS) {
    const account = await store.accounts.get(address);
    const inbox = await store.mailboxes.get(account.id, "INBOX");
    for (const info of await store.messages.list(inbox.id)) {
      const raw = decoder.decode(await store.messages.read(account.id, info.messageId));
      const id = /^X-Crash-Id: (\S+)\r$/m.exec(raw)?.[1];
      assert(id, `a message in ${address}'s INBOX has no X-Crash-Id`);
      out.push({ id, address });
    }
  }
  return out;
}

/**
 * Starts `fumi serve --dev` with only the MX listener, on a free port, and waits until it runs
 * on `database`. The child is added to `children` at once, so the test stops it whatever happens.
 */
async function serve(
  tmp: string,
  env: Env,
  children: FumiChild[],
  database: string,
  timeoutMs: number,
): Promise<{ child: FumiChild; port: number }> {
  const port = freePort();
  const config = `${tmp}/fumi-${children.length}.toml`;
  await Deno.writeTextFile(
    config,
    [
      `[listeners.smtp]\naddresses = ["127.0.0.1"]\nport = ${port}\n`,
      ...LISTENER_NAMES.filter((name) => name !== "smtp").map((name) =>
        `[listeners.${name}]\nenabled = false\n`
      ),
    ].join("\n"),
  );
  const child = spawnFumi(["serve", "--dev", "--config", config], { env });
  children.push(child);
  await child.waitForOut(/^Fumi \S+ is running for /, timeoutMs);
  assertEquals(
    await child.waitForOut(/^ {2}database: /, 1000),
    `  database:       ${database}`,
  );
  return { child, port };
}
