/**
 * Two real `fumi serve` processes on one PostgreSQL database, each with its own data directory
 * and the same master key: what several Fumi nodes share goes through the database (bans,
 * mailbox change notifications). Used by tests/two_servers_*_test.ts.
 *
 * Two servers cannot share the embedded database (`serve` owns it), so this needs PostgreSQL:
 * FUMI_TEST_DATABASE_URL when set (the CI's PostgreSQL pass), otherwise the local server on
 * 127.0.0.1:5432 that the CI starts for both passes. Either way a test creates a database of
 * its own (named like tests/db.ts's, so a killed run's is dropped by a later one), lets the
 * first command migrate it, and drops it afterwards. Without any PostgreSQL, {@link SERVER_URL}
 * is null and the tests are ignored.
 *
 * @module
 */

import postgres from "postgres";
import { LISTENER_NAMES, type ListenerName } from "../src/config/schema.ts";
import { generateMasterKey } from "../src/crypto/master_key.ts";
import { assertEquals } from "./assert.ts";
import { assertOk, type Env, freePort, fumi, type FumiChild, spawnFumi } from "./cli.ts";
import { GOOD_PASSWORD } from "./store.ts";
import type { TestPki } from "./tls.ts";

const LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres";

/** The PostgreSQL server the two servers use, or null when there is none. */
export const SERVER_URL = Deno.env.get("FUMI_TEST_DATABASE_URL") ||
  (await answers(LOCAL_POSTGRES) ? LOCAL_POSTGRES : null);

/** One running server: its process and the ports of the listeners it was asked for. */
export interface RunningServer {
  readonly child: FumiChild;
  readonly ports: Readonly<Partial<Record<ListenerName, number>>>;
}

/** A new database, set up for two servers: certificate, domain and user made by the CLI. */
export interface SharedDatabase {
  readonly env: Env;
  /** Starts `fumi serve --dev` with only `listeners`, on free ports; waits until it runs. */
  serve(name: string, listeners: readonly ListenerName[], config?: string): Promise<RunningServer>;
}

/**
 * Runs `fn` with a new database on {@link SERVER_URL} that has a certificate for
 * mail.example.org, localhost and 127.0.0.1 from `pki` (assigned as the default, so neither
 * server makes a self-signed one), the domain example.org and `user` with the password
 * GOOD_PASSWORD; stops every server it started and drops the database afterwards.
 */
export async function withSharedDatabase(
  tmp: string,
  pki: TestPki,
  user: string,
  timeoutMs: number,
  fn: (shared: SharedDatabase) => Promise<void>,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  const left = () => Math.max(1, until - Date.now());
  const database = await createDatabase(SERVER_URL!);
  const children: FumiChild[] = [];
  try {
    const env: Env = {
      FUMI_DATABASE_URL: database.url,
      FUMI_MASTER_KEY: generateMasterKey(),
      FUMI_DATA_DIR: `${tmp}/cli`,
    };
    const leaf = await pki.issue(["mail.example.org", "localhost", "127.0.0.1"]);
    // The chain as a CA hands it out: the certificate, then the CA's (`fumi cert import`
    // refuses a chain that stops short of its issuer). The first command migrates.
    await Deno.writeTextFile(`${tmp}/chain.pem`, leaf.certPem + pki.caPem);
    await Deno.writeTextFile(`${tmp}/key.pem`, leaf.keyPem);
    const importing = ["cert", "import", "test", "--cert", `${tmp}/chain.pem`];
    assertOk(await fumi([...importing, "--key", `${tmp}/key.pem`], { env }));
    assertOk(await fumi(["cert", "assign", "default", "test"], { env }));
    assertOk(await fumi(["domain", "add", "example.org"], { env }));
    const stdin = `${GOOD_PASSWORD}\n`;
    assertOk(await fumi(["user", "add", user, "--password-stdin"], { env, stdin }));
    await fn({
      env,
      serve: async (name, listeners, extra = "") => {
        const ports = Object.fromEntries(listeners.map((n) => [n, freePort()]));
        const config = `${tmp}/fumi-${name}.toml`;
        await Deno.writeTextFile(
          config,
          [
            extra,
            ...listeners.map((n) =>
              `[listeners.${n}]\naddresses = ["127.0.0.1"]\nport = ${ports[n]}\n`
            ),
            ...LISTENER_NAMES.filter((n) => !listeners.includes(n)).map((n) =>
              `[listeners.${n}]\nenabled = false\n`
            ),
          ].join("\n"),
        );
        const child = spawnFumi(["serve", "--dev", "--config", config], {
          env: { ...env, FUMI_DATA_DIR: `${tmp}/${name}` },
        });
        children.push(child);
        await child.waitForOut(/^Fumi \S+ is running for /, left());
        assertEquals(
          await child.waitForOut(/^ {2}database: /, 1000),
          "  database:       PostgreSQL",
        );
        return { child, ports };
      },
    });
  } finally {
    for (const child of children) await child.stop(KILL_AFTER_MS);
    await database.drop();
  }
}

/** How long a server may take to stop before it is killed. */
const KILL_AFTER_MS = 5_000;

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
