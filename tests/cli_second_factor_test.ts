/**
 * `fumi user 2fa …` and `fumi user app-password …` in process through `runCli` (tests/cli.ts),
 * on a fresh database (embedded, or PostgreSQL with FUMI_TEST_DATABASE_URL): the enrolment's
 * two steps, app passwords made once, listed, revoked, and what sign-in then accepts.
 *
 * @module
 */

import { Secret } from "otpauth";
import { Bans } from "../src/auth/bans.ts";
import { Login, sqlCredentials } from "../src/auth/login.ts";
import { totpCode } from "../src/crypto/totp.ts";
import { silentLogger } from "../src/ops/log.ts";
import type { Store } from "../src/store/mod.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import { assertFails, assertOk, type CliResult, fumi, table, withCommandDatabase } from "./cli.ts";
import { GOOD_PASSWORD } from "./store.ts";

type Env = Record<string, string>;

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

function user(argv: readonly string[], env: Env): Promise<CliResult> {
  return fumi(["user", ...argv], { env });
}

function signIn(store: Store) {
  const login = new Login({
    bans: new Bans(store.sql),
    credentials: sqlCredentials(store.sql),
    log: silentLogger,
    sleep: () => Promise.resolve(),
  });
  return (password: string, protocol: string) =>
    login.checkLogin("alice@example.org", password, { protocol, ip: "192.0.2.1" });
}

Deno.test("usage errors exit 2 with one line, before any database is opened", async () => {
  const env = {
    FUMI_DATA_DIR: "/nonexistent/fumi",
    FUMI_DATABASE_URL: "postgres://nowhere.invalid/x",
  };
  for (
    const [sub, children] of [["2fa", "enable|confirm|disable|status"], [
      "app-password",
      "add|list|revoke",
    ]]
  ) {
    const missing = await user([sub!], env);
    assertFails(missing, EXIT_USAGE, `Missing subcommand; usage: fumi user ${sub} ${children} …`);
    assertEquals(missing.out[0], "Usage:");
    assertFails(
      await user([sub!, "frob"], env),
      EXIT_USAGE,
      `Unknown command "fumi user ${sub} frob"`,
    );
  }
  const help = assertOk(await user(["2fa", "help"], env)).join("\n");
  for (
    const usage of ["enable ADDRESS", "confirm ADDRESS CODE", "disable ADDRESS", "status ADDRESS"]
  ) {
    assertStringIncludes(help, `  fumi user 2fa ${usage}\n`);
  }
  const appHelp = assertOk(await user(["app-password", "--help"], env)).join("\n");
  for (
    const usage of ["add ADDRESS NAME [--scope imap,smtp]", "list ADDRESS", "revoke ADDRESS NAME"]
  ) {
    assertStringIncludes(appHelp, `  fumi user app-password ${usage}\n`);
  }
  const cases: [string[], string][] = [
    [["2fa", "enable"], "Missing ADDRESS; usage: fumi user 2fa enable ADDRESS"],
    [
      ["2fa", "confirm", "a@example.org"],
      "Missing CODE; usage: fumi user 2fa confirm ADDRESS CODE",
    ],
    [["2fa", "disable", "a@example.org", "x"], 'Unexpected argument "x"'],
    [["2fa", "enable", "a@example.org", "--force"], 'Unknown option "--force"'],
    [
      ["app-password", "add", "a@example.org"],
      "Missing NAME; usage: fumi user app-password add ADDRESS NAME",
    ],
    [["app-password", "add", "a@example.org", "Phone", "--scope", "pop3"], 'Unknown scope "pop3"'],
    [["app-password", "add", "a@example.org", "Phone", "--scope"], "Option --scope needs a value"],
    [["app-password", "list"], "Missing ADDRESS; usage: fumi user app-password list ADDRESS"],
    [
      ["app-password", "revoke", "a@example.org"],
      "Missing NAME; usage: fumi user app-password revoke",
    ],
  ];
  for (const [argv, message] of cases) assertFails(await user(argv, env), EXIT_USAGE, message);
});

Deno.test("2fa enable, confirm, status and disable; app passwords add, list, revoke", async () => {
  await withCommandDatabase("fumi-2fa-", async (env, store) => {
    await store.domains.add("example.org");
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const check = signIn(store);
    const run = (argv: string[]) => user(argv, { ...env, FUMI_HOSTNAME: "mail.example.org" });

    // App passwords, 2FA off.
    const added = assertOk(await run(["app-password", "add", "Alice@example.org", "Phone"]));
    assertEquals(added[0], 'Created app password "Phone" for alice@example.org (imap, smtp).');
    const phone = /^Password: ([a-z]{4}(?:-[a-z]{4}){6})$/.exec(added[1] ?? "")?.[1];
    assert(phone, JSON.stringify(added));
    assertStringIncludes(added[2]!, "shown only this once");
    const reader = /^Password: (\S+)$/.exec(
      assertOk(
        await run(["app-password", "add", "alice@example.org", "Mail reader", "--scope", "imap"]),
      )[1] ?? "",
    )?.[1];
    assert(reader);
    assertFails(
      await run(["app-password", "add", "alice@example.org", "Phone"]),
      EXIT_FAILURE,
      '"Phone" exists already',
    );
    assertFails(
      await run(["app-password", "add", "nobody@example.org", "Phone"]),
      EXIT_FAILURE,
      'No account "nobody@example.org"',
    );
    assert(await check(phone, "smtp"));
    assertEquals(await check(reader, "smtp"), null);

    const listed = assertOk(await run(["app-password", "list", "alice@example.org"]));
    const rows = table(listed);
    assertEquals(rows[0], ["NAME", "SCOPES", "CREATED", "LAST USED"]);
    assertEquals(rows.slice(1).map((r) => [r[0], r[1], r[3]]), [["Mail reader", "imap", "never"], [
      "Phone",
      "imap,smtp",
      rows[2]![3],
    ]]);
    assertMatch(rows[2]![3]!, /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/, "Phone was used");
    assert(!listed.join("\n").includes(phone), "no secret listed");

    // 2FA: enable prints the secret and URI; pending changes nothing.
    assertEquals(assertOk(await run(["2fa", "status", "alice@example.org"])), [
      "Two-factor authentication for alice@example.org: off.",
      "App passwords: 2.",
    ]);
    const enabled = assertOk(await run(["2fa", "enable", "alice@example.org"]));
    assertEquals(
      enabled[0],
      "Two-factor enrolment begun for alice@example.org; it is pending until confirmed.",
    );
    const secret = /^Secret: ([A-Z2-7]{32})$/.exec(enabled[1] ?? "")?.[1];
    assert(secret, JSON.stringify(enabled));
    assertEquals(
      enabled[2],
      `URI: otpauth://totp/mail.example.org:alice%40example.org?issuer=mail.example.org&secret=${secret}&algorithm=SHA1&digits=6&period=30`,
    );
    assertEquals(
      enabled[3],
      "Add it to an authenticator app, then run: fumi user 2fa confirm alice@example.org CODE",
    );
    assertStringIncludes(
      assertOk(await run(["2fa", "status", "alice@example.org"]))[0]!,
      ": pending",
    );
    assert(await check(GOOD_PASSWORD, "imap"), "pending: the account password still works");

    const bytes = new Uint8Array(Secret.fromBase32(secret).buffer);
    const code = totpCode(bytes, Date.now());
    const wrong = code === "000000" ? "111111" : "000000";
    assertFails(
      await run(["2fa", "confirm", "alice@example.org", wrong]),
      EXIT_FAILURE,
      "The code does not match",
    );
    assertEquals(assertOk(await run(["2fa", "confirm", "alice@example.org", code])), [
      "Two-factor authentication is on for alice@example.org.",
      "IMAP and SMTP now accept app passwords only: fumi user app-password add alice@example.org NAME",
    ]);
    assertEquals(await store.twoFactor.state(alice.id), "on");
    assertFails(await run(["2fa", "enable", "alice@example.org"]), EXIT_FAILURE, "on already");
    assertFails(
      await run(["2fa", "confirm", "alice@example.org", code]),
      EXIT_FAILURE,
      "on already",
    );
    assertStringIncludes(
      assertOk(await run(["2fa", "status", "alice@example.org"]))[0]!,
      ": on (IMAP and SMTP accept app passwords only)",
    );

    // On: the account password is refused on IMAP and SMTP; app passwords work by scope.
    assertEquals(await check(GOOD_PASSWORD, "imap"), null);
    assertEquals(await check(GOOD_PASSWORD, "smtp"), null);
    assert(await check(phone, "imap"));
    assert(await check(reader, "imap"));

    assertEquals(assertOk(await run(["app-password", "revoke", "alice@example.org", "Phone"])), [
      'Revoked app password "Phone" of alice@example.org.',
    ]);
    assertEquals(await check(phone, "imap"), null);
    assertFails(
      await run(["app-password", "revoke", "alice@example.org", "Phone"]),
      EXIT_FAILURE,
      'No app password named "Phone"',
    );

    assertEquals(assertOk(await run(["2fa", "disable", "alice@example.org"])), [
      "Two-factor authentication is off for alice@example.org.",
    ]);
    assertEquals(assertOk(await run(["2fa", "disable", "alice@example.org"])), [
      "Two-factor authentication was not on for alice@example.org.",
    ]);
    assert(await check(GOOD_PASSWORD, "imap"), "off: the account password works again");
    assertEquals(
      assertOk(await run(["app-password", "revoke", "alice@example.org", "Mail reader"])).length,
      1,
    );
    assertEquals(assertOk(await run(["app-password", "list", "alice@example.org"])), [
      "alice@example.org has no app passwords.",
    ]);
  });
});
