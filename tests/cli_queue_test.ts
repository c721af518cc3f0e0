/**
 * `fumi queue list|show|retry|hold|release|remove` and `fumi user hold|unhold`, run in process
 * through the fake terminal of tests/cli.ts, against a database as an administrator's commands
 * reach it (tests/cli.ts withCommandDatabase: PostgreSQL with FUMI_TEST_DATABASE_URL, else a
 * new embedded data directory).
 *
 * @module
 */

import { queueDetail, queueIdArgument, queueListing } from "../src/cli/commands/queue.ts";
import { EXIT_FAILURE, EXIT_USAGE } from "../src/cli/main.ts";
import type { AdminQueueDetail, NewQueueEntry, Store } from "../src/store/mod.ts";
import { UsageError } from "../src/util/errors.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes, assertThrows } from "./assert.ts";
import { assertFails, assertOk, type CliResult, fumi, withCommandDatabase } from "./cli.ts";
import { GOOD_PASSWORD, sampleMessage } from "./store.ts";

type Env = Record<string, string>;

function run(argv: readonly string[], env: Env): Promise<CliResult> {
  return fumi(argv, { env });
}

async function queue(
  store: Store,
  marker: string,
  overrides: Partial<NewQueueEntry> = {},
): Promise<number> {
  const prepared = await store.queue.prepare({
    accountId: null,
    sender: `${marker}@example.org`,
    envid: null,
    ret: null,
    message: sampleMessage(marker),
    recipients: [
      { address: `bob-${marker}@remote.example`, notify: null, orcpt: null },
      { address: `carol-${marker}@other.example`, notify: "FAILURE", orcpt: "rfc822;c@o.example" },
    ],
    ...overrides,
  });
  return await store.sql.begin((tx) => store.queue.insert(tx, prepared));
}

Deno.test("queue ids must be positive integers", () => {
  assertEquals(queueIdArgument("42"), 42);
  for (const bad of ["0", "-1", "1.5", "x", "1e3", "012", "99999999999999999"]) {
    assertThrows(() => queueIdArgument(bad), UsageError, "Invalid queue id");
  }
});

Deno.test("queue listing reads like mailq: id and mark, size, arrival, sender, then recipients", () => {
  const now = new Date("2026-11-28T05:00:00Z");
  const base: AdminQueueDetail = {
    id: 7,
    accountId: 1,
    account: "alice@example.org",
    sender: "alice@example.org",
    envid: "E1",
    ret: "HDRS",
    requireTls: null,
    size: 2048,
    createdAt: new Date("2026-11-28T04:00:00Z"),
    heldAt: null,
    heldReason: null,
    headers: null,
    recipients: [{
      id: 1,
      address: "bob@remote.example",
      notify: "FAILURE,DELAY",
      orcpt: "rfc822;bob@remote.example",
      status: "queued",
      attempts: 2,
      nextAttemptAt: new Date("2026-11-28T05:30:00Z"),
      lastError: "451 4.7.1 Greylisted,\r\n try later",
      remoteHost: "mx.remote.example",
      lastAttemptAt: new Date("2026-11-28T04:30:00Z"),
      finishedAt: null,
      leasedUntil: null,
      failureNotifiedAt: null,
      delayNotifiedAt: new Date("2026-11-28T04:31:00Z"),
    }],
  };
  const held = { ...base, id: 12, sender: "", heldAt: now, heldReason: "account held: phished" };
  assertEquals(queueListing([base, held], now), [
    "ID   SIZE   ARRIVED                  SENDER",
    "7    2 KiB  2026-11-28 04:00:00 UTC  alice@example.org",
    "     bob@remote.example  queued, 2 attempts, next 2026-11-28 05:30:00 UTC",
    "       (mx.remote.example said: 451 4.7.1 Greylisted, try later)",
    "12!  2 KiB  2026-11-28 04:00:00 UTC  <>",
    "     (held: account held: phished)",
    "     bob@remote.example  queued, 2 attempts, next 2026-11-28 05:30:00 UTC",
    "       (mx.remote.example said: 451 4.7.1 Greylisted, try later)",
    "-- 4 KiB in 2 messages, 1 held.",
  ]);
  const sending = {
    ...base,
    recipients: [{ ...base.recipients[0]!, leasedUntil: new Date("2026-11-28T05:01:00Z") }],
  };
  assertEquals(
    queueListing([sending], now)[1],
    "7*  2 KiB  2026-11-28 04:00:00 UTC  alice@example.org",
  );
  assertEquals(
    queueDetail({ ...base, requireTls: true, headers: null }, now)[7],
    "  TLS:       REQUIRETLS: verified TLS to every hop, or none",
  );
  assertEquals(queueDetail({ ...base, headers: "Subject: Hi\r\nFrom: a@b\r\n" }, now), [
    "Message 7",
    "  Sender:    alice@example.org",
    "  Account:   alice@example.org",
    "  Arrived:   2026-11-28 04:00:00 UTC",
    "  Size:      2 KiB",
    "  ENVID:     E1",
    "  RET:       HDRS",
    "  Held:      no",
    "Recipients:",
    "  bob@remote.example",
    "    queued, 2 attempts, next 2026-11-28 05:30:00 UTC",
    "    last attempt 2026-11-28 04:30:00 UTC at mx.remote.example",
    "    last error: 451 4.7.1 Greylisted, try later",
    "    NOTIFY=FAILURE,DELAY ORCPT=rfc822;bob@remote.example",
    "    sender told of the delay 2026-11-28 04:31:00 UTC",
    "Headers:",
    "  Subject: Hi",
    "  From: a@b",
  ]);
});

Deno.test("fumi queue: usage errors exit 2 before any database is opened", async () => {
  const env = {
    FUMI_DATA_DIR: "/nonexistent/fumi",
    FUMI_DATABASE_URL: "postgres://nowhere.invalid/x",
  };
  const missing = await run(["queue"], env);
  assertFails(
    missing,
    EXIT_USAGE,
    "Missing subcommand; usage: fumi queue list|show|retry|hold|release|remove",
  );
  const help = assertOk(await run(["queue", "help"], env)).join("\n");
  for (
    const usage of [
      "fumi queue list [--held] [--failed]",
      "fumi queue show ID [--headers]",
      "fumi queue retry ID|--all",
      "fumi queue hold ID [--reason TEXT]",
      "fumi queue release ID|--account ADDRESS",
      "fumi queue remove ID",
    ]
  ) {
    assertStringIncludes(help, `  ${usage}`);
  }
  const cases: [string[], string][] = [
    [["queue", "list", "x"], 'Unexpected argument "x"; usage: fumi queue list'],
    [["queue", "list", "--deferred"], 'Unknown option "--deferred"'],
    [["queue", "show"], "Missing ID; usage: fumi queue show ID"],
    [["queue", "show", "abc"], 'Invalid queue id "abc"'],
    [["queue", "retry"], "Missing ID or --all; usage: fumi queue retry ID|--all"],
    [["queue", "retry", "3", "--all"], "Give ID or --all, not both"],
    [["queue", "retry", "3", "4"], 'Unexpected argument "4"'],
    [["queue", "hold"], "Missing ID; usage: fumi queue hold ID"],
    [["queue", "hold", "1", "--reason"], "Option --reason needs a value"],
    [["queue", "release"], "Missing ID or --account"],
    [["queue", "release", "1", "--account", "a@example.org"], "Give ID or --account, not both"],
    [["queue", "remove", "0"], 'Invalid queue id "0"'],
    [["user", "hold"], "Missing ADDRESS; usage: fumi user hold ADDRESS"],
    [["user", "unhold", "a@example.org", "b"], 'Unexpected argument "b"'],
  ];
  for (const [argv, message] of cases) assertFails(await run(argv, env), EXIT_USAGE, message);
});

Deno.test("fumi queue list, show, retry, hold, release and remove", async () => {
  await withCommandDatabase("fumi-queue-", async (env, store) => {
    assertEquals(assertOk(await run(["queue", "list"], env)), ["The queue is empty."]);
    const one = await queue(store, "one", { envid: "ENV-1", ret: "FULL" });
    const two = await queue(store, "two", { sender: "" });
    const [bob] = (await store.queueAdmin.show(one)).recipients;
    await store.queueWork.record([bob!.id], {
      kind: "failed",
      remoteHost: "mx.remote.example",
      error: "550 5.1.1 No such user",
    });

    const listed = assertOk(await run(["queue", "list"], env));
    assertMatch(listed[0]!, /^ID +SIZE +ARRIVED +SENDER$/);
    assertMatch(
      listed[1]!,
      new RegExp(`^${one} +\\d+ B +\\d{4}-\\d\\d-\\d\\d .* UTC  one@example.org$`),
    );
    assertMatch(listed[2]!, /^ +bob-one@remote.example +failed, 1 attempt, \d{4}-/);
    assertMatch(listed[3]!, /^ +\(mx.remote.example said: 550 5.1.1 No such user\)$/);
    assertMatch(listed[4]!, /^ +carol-one@other.example +queued, next /);
    assertMatch(listed[5]!, new RegExp(`^${two} .* <>$`));
    assertMatch(listed.at(-1)!, /^-- \d+ B in 2 messages\.$/);
    const failed = assertOk(await run(["queue", "list", "--failed"], env));
    assertEquals(failed.filter((l) => /^\d/.test(l)).length, 1);
    assertEquals(assertOk(await run(["queue", "list", "--held"], env)), [
      "No queued message matches.",
    ]);
    const byRecipient = assertOk(await run(["queue", "list", "--recipient", "CAROL-TWO"], env));
    assertMatch(byRecipient[1]!, new RegExp(`^${two} `));

    const shown = assertOk(await run(["queue", "show", String(one)], env));
    assertEquals(shown[0], `Message ${one}`);
    assertStringIncludes(
      shown.join("\n"),
      "  ENVID:     ENV-1\n  RET:       FULL\n  Held:      no",
    );
    assertStringIncludes(shown.join("\n"), "    last error: 550 5.1.1 No such user");
    assertStringIncludes(shown.join("\n"), "    NOTIFY=FAILURE ORCPT=rfc822;c@o.example");
    assert(!shown.some((l) => l.includes("Secret subject")), "no header without --headers");
    const withHeaders = assertOk(await run(["queue", "show", String(one), "--headers"], env));
    assertStringIncludes(
      withHeaders.join("\n"),
      "Headers:\n  From: Sender one <sender-one@remote.example>",
    );
    assertStringIncludes(withHeaders.join("\n"), "  Subject: Secret subject one");
    assert(!withHeaders.some((l) => l.includes("one-body")), "never the body");

    await store.sql`update queue_recipients set next_attempt_at = now() + interval '1 hour'`;
    assertEquals(assertOk(await run(["queue", "retry", String(one)], env)), [
      `Message ${one}: 1 recipient is due now.`,
    ]);
    assertEquals(assertOk(await run(["queue", "retry", "--all"], env)), [
      "3 recipients are due now.",
    ]);

    assertEquals(assertOk(await run(["queue", "hold", String(two), "--reason", "check it"], env)), [
      `Held message ${two} from <>: check it.`,
    ]);
    assertEquals(assertOk(await run(["queue", "hold", String(two)], env)), [
      `Already held: message ${two} from <>: check it.`,
    ]);
    const heldList = assertOk(await run(["queue", "list", "--held"], env));
    assertMatch(heldList[1]!, new RegExp(`^${two}! `));
    assertMatch(heldList[2]!, /^ +\(held: check it\)$/);
    assertEquals(assertOk(await run(["queue", "retry", String(two)], env)), [
      `Message ${two}: 2 recipients are due now.`,
      `Message ${two} is on hold: it is sent once released (fumi queue release ${two}).`,
    ]);
    assertEquals(assertOk(await run(["queue", "release", String(two)], env)), [
      `Released message ${two}.`,
    ]);
    assertEquals(assertOk(await run(["queue", "release", String(two)], env)), [
      `Message ${two} was not on hold.`,
    ]);

    assertEquals(assertOk(await run(["queue", "remove", String(two)], env)), [
      `Removed message ${two} from <> to 2 recipients (bob-two@remote.example, carol-two@other.example).`,
    ]);
    for (
      const argv of [
        ["queue", "show", String(two)],
        ["queue", "remove", String(two)],
        ["queue", "hold", String(two)],
        ["queue", "release", String(two)],
        ["queue", "retry", String(two)],
      ]
    ) {
      assertFails(await run(argv, env), EXIT_FAILURE, `No queued message ${two}`);
    }
  });
});

Deno.test("fumi user hold and unhold, and fumi queue release --account", async () => {
  await withCommandDatabase("fumi-queue-hold-", async (env, store) => {
    await store.domains.add("example.org");
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    await store.accounts.create({ address: "bob@example.org", password: GOOD_PASSWORD });
    const before = await queue(store, "before", { accountId: alice.id });

    assertEquals(
      assertOk(await run(["user", "hold", "Alice@example.org", "--reason", "phished"], env)),
      [
        "alice@example.org is on outbound hold (phished): what it sends is queued held.",
        `Held 1 queued message: ${before}.`,
      ],
    );
    const users = assertOk(await run(["user", "list"], env));
    assertMatch(users.find((l) => l.startsWith("alice@"))!, /active,held$/);
    assertMatch(users.find((l) => l.startsWith("bob@"))!, /active$/);
    const after = await queue(store, "after", { accountId: alice.id });
    const shown = assertOk(await run(["queue", "show", String(after)], env)).join("\n");
    assertMatch(shown, / {2}Held: +since .* UTC: account held: phished/);

    // Releasing the messages while the account is still held says so.
    assertEquals(assertOk(await run(["queue", "release", "--account", "alice@example.org"], env)), [
      `Released 2 messages of alice@example.org: ${before}, ${after}.`,
      "alice@example.org is still on hold: what it sends now is held (fumi user unhold alice@example.org).",
    ]);
    const third = await queue(store, "third", { accountId: alice.id });
    assertEquals(assertOk(await run(["user", "unhold", "alice@example.org"], env)), [
      `Lifted the outbound hold of alice@example.org. Still held: message ${third}; release with fumi queue release --account alice@example.org.`,
    ]);
    assertEquals(assertOk(await run(["queue", "release", "--account", "alice@example.org"], env)), [
      `Released 1 message of alice@example.org: ${third}.`,
    ]);
    assertEquals(assertOk(await run(["queue", "release", "--account", "alice@example.org"], env)), [
      "alice@example.org has no held messages.",
    ]);
    assertEquals(assertOk(await run(["user", "unhold", "bob@example.org"], env)), [
      "Lifted the outbound hold of bob@example.org.",
    ]);
    assertFails(
      await run(["user", "hold", "nobody@example.org"], env),
      EXIT_FAILURE,
      'No account "nobody@example.org"',
    );
    assertFails(
      await run(["queue", "release", "--account", "nobody@example.org"], env),
      EXIT_FAILURE,
      'No account "nobody@example.org"',
    );
  });
});
