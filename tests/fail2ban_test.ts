/**
 * The fail2ban filter and jail of contrib/fail2ban/ against real log output: sign-ins run
 * through src/auth/login.ts, logged by src/ops/log.ts in both its formats, written to a file and
 * read by the real `fail2ban-regex`. Every failure must match, with the right address, and
 * nothing else: not a success, not a ban notice, not an address a client typed as its account.
 * The account password of an account with 2FA on (reason `app-password-required`) is a failure.
 *
 * Needs fail2ban (Debian: `apt-get install fail2ban`); without /usr/bin/fail2ban-regex these
 * tests are reported as ignored.
 *
 * @module
 */

import { Bans } from "../src/auth/bans.ts";
import { Login, sqlCredentials } from "../src/auth/login.ts";
import { createLogger, type Logger } from "../src/ops/log.ts";
import type { Store } from "../src/store/mod.ts";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { REPO_ROOT } from "./cli.ts";
import { enableTwoFactor, GOOD_PASSWORD, withStore } from "./store.ts";

const FAIL2BAN_REGEX = "/usr/bin/fail2ban-regex";
const FAIL2BAN_CLIENT = "/usr/bin/fail2ban-client";
const FILTER = `${REPO_ROOT}/contrib/fail2ban/filter.d/fumi.conf`;
const JAIL = `${REPO_ROOT}/contrib/fail2ban/jail.d/fumi.conf`;
const installed = await Deno.stat(FAIL2BAN_REGEX).then(() => true, () => false);

async function run(command: string, args: string[]): Promise<{ code: number; out: string }> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return { code: output.code, out: text };
}

/**
 * Signs in and fails in every way through a logger of `format`; returns the lines written and
 * the addresses of the failures, in order.
 */
async function produceLog(
  store: Store,
  format: "json" | "text",
): Promise<{ lines: string[]; failed: string[] }> {
  const lines: string[] = [];
  const log: Logger = createLogger({ level: "info", format, write: (line) => lines.push(line) });
  const bans = new Bans(store.sql, { log });
  const login = new Login({
    bans,
    credentials: sqlCredentials(store.sql),
    log,
    sleep: () => Promise.resolve(),
  });
  const conn = new Login({
    bans,
    credentials: sqlCredentials(store.sql),
    log: log.child({ conn: "c-42", listener: "imaps" }),
    sleep: () => Promise.resolve(),
  });
  const failed: string[] = [];
  const attempt = async (
    who: Login,
    account: string,
    password: string,
    protocol: string,
    ip: string,
    expected: string | null,
  ) => {
    const result = await who.checkLogin(account, password, { protocol, ip });
    if (expected === null) {
      assert(result !== null, `${account} signs in`);
    } else {
      assertEquals(result, null, `${account} from ${ip}`);
      failed.push(expected);
    }
  };
  await attempt(login, "alice@example.org", "wrong", "imap", "192.0.2.7", "192.0.2.7");
  await attempt(conn, "nobody@example.org", "x", "smtp", "2001:db8::7", "2001:db8::7");
  await attempt(
    login,
    "dave@example.org",
    GOOD_PASSWORD,
    "web",
    "::ffff:198.51.100.3",
    "198.51.100.3",
  );
  // The account password of an account with 2FA on (app passwords only): a failure like any.
  await attempt(login, "erin@example.org", GOOD_PASSWORD, "smtp", "192.0.2.12", "192.0.2.12");
  // A client typing another address into the account: the line still names the real client.
  await attempt(conn, "x ip=10.0.0.1", "x", "imap", "192.0.2.8", "192.0.2.8");
  await attempt(login, 'x" ip=10.0.0.2 "', "x", "imap", "192.0.2.9", "192.0.2.9");
  await attempt(login, '","ip":"10.0.0.3","a":"', "x", "submission", "192.0.2.10", "192.0.2.10");
  await attempt(login, "ip=10.0.0.4", "x", "imap", "2001:db8:1:2::99", "2001:db8:1:2::99");
  // Successes, ban notices and other warnings quoting the words do not match.
  await attempt(login, "alice@example.org", GOOD_PASSWORD, "imap", "192.0.2.11", null);
  await attempt(conn, "Alice@Example.ORG", GOOD_PASSWORD, "imap", "2001:db8::11", null);
  await bans.add("203.0.113.0/24", { reason: "auth failed protocol=imap ip=10.0.0.5" });
  log.warn("unknown command", { line: "auth failed protocol=imap ip=10.0.0.6 account=a" });
  log.warn(`unknown command auth failed protocol=imap ip=10.0.0.7`); // client text in a message
  // A banned client's attempt is a failure too.
  await attempt(login, "alice@example.org", GOOD_PASSWORD, "imap", "203.0.113.5", "203.0.113.5");
  return { lines, failed };
}

/** Runs fail2ban-regex over `lines`; returns the matched addresses and the summary counts. */
async function fail2banRegex(lines: readonly string[]) {
  const file = await Deno.makeTempFile({ prefix: "fumi-f2b-", suffix: ".log" });
  try {
    await Deno.writeTextFile(file, lines.join("\n") + "\n");
    const ips = await run(FAIL2BAN_REGEX, ["-o", "ip", file, FILTER]);
    assertEquals(ips.code, 0, ips.out);
    const summary = await run(FAIL2BAN_REGEX, [file, FILTER]);
    assertEquals(summary.code, 0, summary.out);
    const counts = /Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/.exec(
      summary.out,
    );
    assert(counts, summary.out);
    // Every line's own timestamp was found (hits of all date templates together).
    const dates = summary.out.slice(summary.out.indexOf("Date template hits:"));
    const hits = [...dates.slice(0, dates.indexOf("`-")).matchAll(/^\| {2}\[(\d+)\] /gm)]
      .reduce((sum, m) => sum + Number(m[1]), 0);
    return {
      ips: ips.out.split("\n").filter((l) => l !== ""),
      dated: hits,
      lines: Number(counts[1]),
      matched: Number(counts[3]),
      missed: Number(counts[4]),
      output: summary.out,
    };
  } finally {
    await Deno.remove(file);
  }
}

for (const format of ["text", "json"] as const) {
  Deno.test({
    name: `fail2ban-regex matches exactly the failures in the ${format} log`,
    ignore: !installed,
    fn: async () => {
      await withStore(async ({ store }) => {
        await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
        await store.accounts.create({ address: "dave@example.org", password: GOOD_PASSWORD });
        await store.accounts.setDisabled("dave@example.org", true);
        const erin = await store.accounts.create({
          address: "erin@example.org",
          password: GOOD_PASSWORD,
        });
        await enableTwoFactor(store, erin.id);
        const { lines, failed } = await produceLog(store, format);
        const logged = lines.filter((l) =>
          format === "json"
            ? JSON.parse(l).msg === "auth failed"
            : /^\S+ WARN {2}auth failed /.test(l)
        );
        assertEquals(logged.length, failed.length, "one line per failure");
        if (format === "json") { for (const line of lines) JSON.parse(line); }

        const result = await fail2banRegex(lines);
        assertEquals(result.ips, failed, result.output);
        assertEquals(result.matched, failed.length, result.output);
        assertEquals(result.missed, lines.length - failed.length, result.output);
        assertEquals(result.dated, lines.length, result.output);

        // Read from the journal, every line comes after "host fumi[pid]: " (and the journal
        // gives the time, so the date templates do not matter there).
        const journal = await fail2banRegex(lines.map((l) => `mail fumi[4242]: ${l}`));
        assertEquals(journal.ips, failed, journal.output);
        assertEquals(journal.missed, lines.length - failed.length, journal.output);
      });
    },
  });
}

Deno.test({
  name: "the jail loads: fail2ban-client tests a configuration holding only the Fumi jail",
  ignore: !installed,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "fumi-f2b-conf-" });
    try {
      // Fail2ban's own configuration, without the distribution's enabled jails, plus ours.
      const copy = await run("cp", ["-r", "/etc/fail2ban/.", dir]);
      assertEquals(copy.code, 0, copy.out);
      await Deno.remove(`${dir}/jail.d`, { recursive: true });
      await Deno.mkdir(`${dir}/jail.d`);
      await Deno.copyFile(FILTER, `${dir}/filter.d/fumi.conf`);
      await Deno.copyFile(JAIL, `${dir}/jail.d/fumi.conf`);
      const test = await run(FAIL2BAN_CLIENT, ["-c", dir, "-t"]);
      assertEquals(test.code, 0, test.out);
      assertMatch(test.out, /OK: configuration test is successful/);
      const dump = await run(FAIL2BAN_CLIENT, ["-c", dir, "-d"]);
      assertEquals(dump.code, 0, dump.out);
      for (
        const expected of [
          "['add', 'fumi', 'systemd']",
          "['set', 'fumi', 'maxretry', 20]",
          "['set', 'fumi', 'addjournalmatch', '_SYSTEMD_UNIT=fumi.service']",
        ]
      ) {
        assert(dump.out.includes(expected), `${expected} in\n${dump.out}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
