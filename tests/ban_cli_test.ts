/**
 * `fumi ban list|add|remove`, run in process through the fake terminal of tests/cli.ts.
 *
 * The commands reach the database as an administrator's would: with FUMI_TEST_DATABASE_URL, a
 * fresh PostgreSQL database through FUMI_DATABASE_URL; otherwise a new embedded data directory,
 * owned by a store the test opens (the commands join it over its socket, as beside `fumi serve`).
 *
 * @module
 */

import { Bans } from "../src/auth/bans.ts";
import { banTable, durationArgument } from "../src/cli/commands/ban.ts";
import { EXIT_FAILURE, EXIT_USAGE } from "../src/cli/main.ts";
import type { Store } from "../src/store/mod.ts";
import { UsageError } from "../src/util/errors.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes, assertThrows } from "./assert.ts";
import { assertFails, assertOk, type CliResult, fumi, withCommandDatabase } from "./cli.ts";

type Env = Record<string, string>;

/** Runs `fumi ban ARGV…` in process, through the CLI's own dispatch and error mapping. */
function ban(argv: readonly string[], env: Env = {}): Promise<CliResult> {
  return fumi(["ban", ...argv], { env });
}

/** A database and store for the commands (tests/cli.ts); a host name for the ban log lines. */
function withBanDatabase(fn: (env: Env, store: Store) => Promise<void>): Promise<void> {
  return withCommandDatabase("fumi-ban-", (env, store) => fn(env, store), {
    FUMI_HOSTNAME: "mail.example.org",
  });
}

Deno.test("durations for --for", () => {
  assertEquals(durationArgument("90s"), 90_000);
  assertEquals(durationArgument("30m"), 1_800_000);
  assertEquals(durationArgument("30min"), 1_800_000);
  assertEquals(durationArgument("12h"), 43_200_000);
  assertEquals(durationArgument("7d"), 604_800_000);
  assertEquals(durationArgument("2w"), 1_209_600_000);
  assertEquals(durationArgument("1h30m"), 5_400_000);
  for (const bad of ["", "0m", "10", "h", "1.5h", "1h 30m", "-1h", "1y", "h1", "1hx"]) {
    assertThrows(() => durationArgument(bad), UsageError, "Invalid duration");
  }
});

Deno.test("usage errors exit 2 with one line, before any database is opened", async () => {
  // No database anywhere: reaching one would fail differently.
  const env = {
    FUMI_DATA_DIR: "/nonexistent/fumi",
    FUMI_DATABASE_URL: "postgres://nowhere.invalid/x",
  };
  const missing = await ban([], env);
  assertFails(missing, EXIT_USAGE, "Missing subcommand; usage: fumi ban list|add|remove");
  assertEquals(missing.out[0], "Usage:");
  const help = assertOk(await ban(["help"], env)).join("\n");
  for (const usage of ["fumi ban list", "fumi ban add CIDR", "fumi ban remove CIDR"]) {
    assertStringIncludes(help, `  ${usage}`);
  }
  const cases: [string[], string][] = [
    [["frob"], 'Unknown command "fumi ban frob"'],
    [["list", "x"], 'Unexpected argument "x"; usage: fumi ban list'],
    [["list", "--verbose"], 'Unknown option "--verbose"'],
    [["add"], "Missing CIDR; usage: fumi ban add CIDR"],
    [["add", "192.0.2.1", "192.0.2.2"], 'Unexpected argument "192.0.2.2"'],
    [
      ["add", "192.0.2.7/24"],
      'Cannot parse CIDR "192.0.2.7/24": bits are set after the prefix; did you mean 192.0.2.0/24?',
    ],
    [["add", "example.org"], 'Cannot parse CIDR "example.org"'],
    [["add", "fe80::1%eth0"], "zone ids are not accepted"],
    [["add", "192.0.2.1", "--for", "forever"], 'Invalid duration "forever"'],
    [["add", "192.0.2.1", "--for"], "Option --for needs a value"],
    [["remove"], "Missing CIDR; usage: fumi ban remove CIDR"],
    [["remove", "::1/129"], "the prefix length must be 0 to 128"],
  ];
  for (const [argv, message] of cases) assertFails(await ban(argv, env), EXIT_USAGE, message);
});

Deno.test("fumi ban add, list and remove, seen by every node", async () => {
  await withBanDatabase(async (env, store) => {
    const node = new Bans(store.sql);
    assertEquals(assertOk(await ban(["list"], env)), ["No bans."]);

    const before = Date.now();
    const added = assertOk(
      await ban(["add", "::ffff:198.51.100.0/120", "--for", "2h", "--reason", "port scanner"], env),
    );
    assertEquals(added.length, 1);
    assertMatch(
      added[0]!,
      /^Banned 198\.51\.100\.0\/24 until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: port scanner\.$/,
    );
    const [stored] = await node.list();
    assertEquals(stored!.network, "198.51.100.0/24");
    assertEquals(stored!.createdBy, "admin");
    const expires = stored!.expiresAt!.getTime();
    assert(expires >= before + 2 * 3600_000 && expires <= Date.now() + 2 * 3600_000);
    assert(await node.isBanned("198.51.100.200"), "the other node enforces it");

    assertEquals(assertOk(await ban(["add", "2001:DB8:BAD::/48"], env)), [
      "Banned 2001:db8:bad::/48 until removed: banned by an administrator.",
    ]);

    // An automatic ban made by the other node, with the failures behind it.
    const auto = new Bans(store.sql, { banAfter: 2 });
    await auto.recordFailure({
      protocol: "imap",
      ip: "192.0.2.7",
      account: "Alice@Example.org",
      reason: "bad-password",
    });
    await auto.recordFailure({
      protocol: "smtp",
      ip: "192.0.2.7",
      account: "x y",
      reason: "unknown-account",
    });

    const table = assertOk(await ban(["list"], env));
    assertEquals(table.length, 4);
    assertMatch(table[0]!, /^NETWORK +EXPIRES +BY +REASON$/);
    assertMatch(
      table[1]!,
      /^198\.51\.100\.0\/24 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC +admin +port scanner$/,
    );
    assertMatch(table[2]!, /^2001:db8:bad::\/48 +never +admin +banned by an administrator$/);
    assertMatch(
      table[3]!,
      /^192\.0\.2\.7\/32 +\d{4}-.* UTC +auto +2 failed sign-ins within 1 h from 192\.0\.2\.7\/32: alice@example\.org ×1, x y ×1$/,
    );
    const detailed = assertOk(await ban(["list", "--details"], env));
    const autoAt = detailed.findIndex((l) => l.startsWith("192.0.2.7/32"));
    assertMatch(detailed[autoAt + 1]!, /^ {4}created \d{4}-.* UTC$/);
    assertMatch(
      detailed[autoAt + 2]!,
      /^ {4}\d{4}-.* UTC {2}smtp {2}192\.0\.2\.7 {2}"x y" {2}unknown-account$/,
    );
    assertMatch(
      detailed[autoAt + 3]!,
      /^ {4}\d{4}-.* UTC {2}imap {2}192\.0\.2\.7 {2}"alice@example\.org" {2}bad-password$/,
    );

    // Remove: exactly the network given; a covered address gets a hint and exit 1.
    assertFails(
      await ban(["remove", "198.51.100.9"], env),
      EXIT_FAILURE,
      "No ban on 198.51.100.9/32; it is covered by 198.51.100.0/24",
    );
    assertEquals(assertOk(await ban(["remove", "198.51.100.0/24"], env)), [
      "Removed the ban on 198.51.100.0/24.",
    ]);
    assertEquals(await node.isBanned("198.51.100.200"), false);
    assertEquals(assertOk(await ban(["remove", "192.0.2.7"], env)), [
      "Removed the ban on 192.0.2.7/32.",
    ]);
    assertFails(await ban(["remove", "192.0.2.7"], env), EXIT_FAILURE, "No ban on 192.0.2.7/32");

    // Expired bans: hidden, unless --all.
    const past = new Bans(store.sql, { now: () => Date.now() - 2 * 3600_000 });
    await past.add("203.0.113.0/24", { reason: "old", expiresAt: new Date(Date.now() - 3600_000) });
    const listed = assertOk(await ban(["list"], env));
    assertEquals(listed.length, 2);
    assert(!listed.join("\n").includes("203.0.113.0/24"));
    assertStringIncludes(assertOk(await ban(["list", "--all"], env)).join("\n"), "203.0.113.0/24");
  });
});

Deno.test("the table lines up and shows permanent bans as never", () => {
  const lines = banTable([
    {
      id: 1,
      network: "192.0.2.7/32",
      reason: "r",
      details: [],
      createdAt: new Date("2026-11-27T12:00:00Z"),
      expiresAt: null,
      createdBy: "admin",
    },
    {
      id: 2,
      network: "2001:db8::/32",
      reason: "longer reason",
      details: [],
      createdAt: new Date("2026-11-27T12:00:00Z"),
      expiresAt: new Date("2026-11-27T13:00:00.123Z"),
      createdBy: "auto",
    },
  ]);
  assertEquals(lines, [
    "NETWORK        EXPIRES                  BY     REASON",
    "192.0.2.7/32   never                    admin  r",
    "2001:db8::/32  2026-11-27 13:00:00 UTC  auto   longer reason",
  ]);
});
