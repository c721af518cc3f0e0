/**
 * A ban made by one server process is enforced by another on the same database (issue 3): two
 * real `fumi serve` processes, each with its own data directory but the same master key and
 * the same PostgreSQL database. Failed AUTH PLAIN over implicit TLS on server A's submissions
 * port bans the client; server B then refuses the client's first connection with `421 4.7.0`
 * (its flow control looks the ban up in the table), and `fumi ban list` shows the ban with the
 * failures behind it.
 *
 * Two servers cannot share the embedded database (`serve` owns it), so this needs PostgreSQL:
 * FUMI_TEST_DATABASE_URL when set (the CI's PostgreSQL pass), otherwise the local server on
 * 127.0.0.1:5432 that the CI starts for both passes. Either way the test creates a database of
 * its own (named like tests/db.ts's, so a killed run's is dropped by a later one), lets the
 * first command migrate it, and drops it afterwards. Without any PostgreSQL it is ignored.
 *
 * @module
 */

import postgres from "postgres";
import { LISTENER_NAMES } from "../src/config/schema.ts";
import { generateMasterKey } from "../src/crypto/master_key.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./assert.ts";
import {
  assertOk,
  type Env,
  freePort,
  fumi,
  type FumiChild,
  spawnFumi,
  table,
  withTempDir,
} from "./cli.ts";
import { plain, statusOf, Wire } from "./smtp_wire.ts";
import { makeTestPki } from "./tls.ts";

const LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres";
const SERVER_URL = Deno.env.get("FUMI_TEST_DATABASE_URL") ||
  (await answers(LOCAL_POSTGRES) ? LOCAL_POSTGRES : null);
/** Failures that ban a client: low, so the test is quick (the default is 20). */
const BAN_AFTER = 3;
const USER = "alice@example.org";
/** Both starts, the failures and the checks; stopping takes at most {@link KILL_AFTER_MS} more. */
const BUDGET_MS = 45_000;
const KILL_AFTER_MS = 5_000;

Deno.test({
  name: "a ban made by one server process is enforced by another on the same database",
  ignore: SERVER_URL === null,
  fn: async () => {
    await withTempDir(async (tmp) => {
      const until = Date.now() + BUDGET_MS;
      const left = () => Math.max(1, until - Date.now());
      const pki = await makeTestPki();
      const database = await createDatabase(SERVER_URL!);
      const children: FumiChild[] = [];
      const wires: Wire[] = [];
      try {
        const env: Env = {
          FUMI_DATABASE_URL: database.url,
          FUMI_MASTER_KEY: generateMasterKey(),
          FUMI_DATA_DIR: `${tmp}/cli`,
        };
        // A certificate the client can verify, for the name and address it connects to; the
        // first command also migrates the new database. Assigned as the default, so neither
        // server creates a self-signed one.
        const leaf = await pki.issue(["mail.example.org", "127.0.0.1"]);
        // The chain as a CA hands it out: the certificate, then the CA's (`fumi cert import`
        // refuses a chain that stops short of its issuer).
        await Deno.writeTextFile(`${tmp}/chain.pem`, leaf.certPem + pki.caPem);
        await Deno.writeTextFile(`${tmp}/key.pem`, leaf.keyPem);
        assertOk(
          await fumi([
            "cert",
            "import",
            "test",
            "--cert",
            `${tmp}/chain.pem`,
            "--key",
            `${tmp}/key.pem`,
          ], {
            env,
          }),
        );
        assertOk(await fumi(["cert", "assign", "default", "test"], { env }));
        assertOk(await fumi(["domain", "add", "example.org"], { env }));
        assertOk(await fumi(["user", "add", USER], { env }));

        const [a, b] = await Promise.all(
          ["a", "b"].map((name) => serve(tmp, name, env, children, left())),
        );

        // Server A: wrong passwords over implicit TLS until the ban (RFC 4954 §6: 535 5.7.8).
        const tls = await Wire.connectTls(a!.submissions, pki.caPem);
        wires.push(tls);
        await tls.expect("220");
        await tls.command("EHLO client.example", "250");
        for (let i = 1; i <= BAN_AFTER; i++) {
          await tls.command(`AUTH PLAIN ${plain("", USER, `wrong password ${i}`)}`, "535 5.7.8");
        }

        // Server B has never seen this client, so nothing is cached: its flow control reads
        // the ban from the table and refuses the client's first connection (RFC 5321 §3.1).
        const refused = await Wire.connect(b!.submission);
        wires.push(refused);
        const reply = await refused.reply();
        assert(reply !== null, "server B closed without a reply");
        assertEquals(statusOf(reply), "421 4.7.0", reply);
        assertStringIncludes(reply, "Too many failed logins from your address");
        await refused.assertClosed();
        // On implicit TLS there is no reply to give before the handshake: B closes the socket
        // without a greeting. (Deno's node:tls answers the ClientHello before flow control has
        // decided, so the client's handshake may complete first; no session runs either way.)
        const silent = await Wire.connectTls(b!.submissions, pki.caPem).catch(() => null);
        if (silent !== null) {
          wires.push(silent);
          assert(await silent.closedByServer(), "server B greeted a banned client on TLS");
        }

        // The ban as administrators see it, with the failures behind it.
        const listed = assertOk(await fumi(["ban", "list", "--details"], { env }));
        const [header, row] = table(listed.slice(0, 2));
        assertEquals(header, ["NETWORK", "EXPIRES", "BY", "REASON"]);
        assertEquals(row?.[0], "127.0.0.1/32");
        assertEquals(row?.[2], "auto");
        assertEquals(
          row?.[3],
          `${BAN_AFTER} failed sign-ins within 1 h from 127.0.0.1/32: ${USER} ×${BAN_AFTER}`,
        );
        const failures = listed.filter((line) => /^ {4}\d{4}-/.test(line));
        assertEquals(failures.length, BAN_AFTER, listed.join("\n"));
        for (const line of failures) {
          assertMatch(
            line,
            /^ {4}\S+ \S+ UTC {2}smtp {2}127\.0\.0\.1 {2}"alice@example\.org" {2}bad-password$/,
          );
        }
        // Server A logged the ban it made; B refused the connection.
        assert(
          a!.child.stderr.some((line) => line.includes("ban added")),
          a!.child.stderr.join("\n"),
        );
        assert(
          b!.child.stderr.some((line) =>
            line.includes("connection refused") && line.includes("banned")
          ),
          b!.child.stderr.join("\n"),
        );
      } finally {
        for (const wire of wires) wire.close();
        for (const child of children) await child.stop(KILL_AFTER_MS);
        await database.drop();
        await pki.remove();
      }
    });
  },
});

/** True when a PostgreSQL server answers at `url`. */
async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * A new empty database on the server of `serverUrl`, named as tests/db.ts names its own
 * (`fumi_t_<pid>_<time>_…`), so a run killed before dropping it is cleaned up by a later run.
 */
async function createDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `fumi_t_${Deno.pid}_${Date.now().toString(36)}_servers`;
  const admin = (statement: string) => {
    const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
    return sql.unsafe(statement).then(() => {}).finally(() => sql.end());
  };
  await admin(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin(`drop database if exists ${name} with (force)`),
  };
}

/**
 * Starts `fumi serve --dev` with only submission and submissions, on free ports, its own data
 * directory and the shared database, and waits until it runs. The child is added to `children`
 * at once, so the test stops it whatever happens.
 */
async function serve(
  tmp: string,
  name: string,
  env: Env,
  children: FumiChild[],
  timeoutMs: number,
): Promise<{ child: FumiChild; submission: number; submissions: number }> {
  const submission = freePort();
  const submissions = freePort();
  const config = `${tmp}/fumi-${name}.toml`;
  await Deno.writeTextFile(
    config,
    [
      `[auth]\nban_after = ${BAN_AFTER}\n`,
      `[listeners.submission]\naddresses = ["127.0.0.1"]\nport = ${submission}\n`,
      `[listeners.submissions]\naddresses = ["127.0.0.1"]\nport = ${submissions}\n`,
      ...LISTENER_NAMES.filter((n) => n !== "submission" && n !== "submissions").map((n) =>
        `[listeners.${n}]\nenabled = false\n`
      ),
    ].join("\n"),
  );
  const child = spawnFumi(["serve", "--dev", "--config", config], {
    env: { ...env, FUMI_DATA_DIR: `${tmp}/${name}` },
  });
  children.push(child);
  await child.waitForOut(/^Fumi \S+ is running for /, timeoutMs);
  assertEquals(await child.waitForOut(/^ {2}database: /, 1000), "  database:       PostgreSQL");
  return { child, submission, submissions };
}
