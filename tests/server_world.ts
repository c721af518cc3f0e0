/**
 * What the protocol test fixtures (tests/smtp.ts, tests/imap.ts) share: a test store with the
 * users alice and bob, sign-in with the brute-force defence (its delays recorded, not slept),
 * and a certificate from the test CA.
 *
 * @module
 */

import { Bans } from "../src/auth/bans.ts";
import { Login, sqlCredentials } from "../src/auth/login.ts";
import { ScramLogin, sqlScramCredentials } from "../src/auth/scram_login.ts";
import { TlsContexts } from "../src/net/tls_contexts.ts";
import type { Logger } from "../src/ops/log.ts";
import { GOOD_PASSWORD, type TestStore, withStore } from "./store.ts";
import { makeTestPki, type TestPki } from "./tls.ts";

/** A test account. */
export interface TestUser {
  readonly id: number;
  readonly address: string;
}

/** The shared world of a protocol test. */
export interface ServerWorld extends TestStore {
  readonly hostname: string;
  /** The CA that signed the server certificate (PEM file and text). */
  readonly caFile: string;
  readonly caPem: string;
  /** The server's own certificate (PEM), for tests that pin it (DANE's TLSA records). */
  readonly certPem: string;
  readonly tls: TlsContexts;
  /** alice@example.org and bob@example.org, both with {@link GOOD_PASSWORD}. */
  readonly alice: TestUser;
  readonly bob: TestUser;
  readonly bans: Bans;
  readonly login: Login;
  readonly scram: ScramLogin;
  /** Sleeps the brute-force defence asked for (the test does not wait for them). */
  readonly delays: number[];
}

let pki: TestPki | undefined;
let leaf: { certPem: string; keyPem: string } | undefined;

/** Runs `fn` in a fresh world. */
export async function withServerWorld(
  fn: (world: ServerWorld) => Promise<void>,
  log: Logger,
): Promise<void> {
  pki ??= await makeTestPki();
  leaf ??= await pki.issue(["mail.example.org", "localhost", "127.0.0.1"]);
  await withStore(async (t) => {
    const { store } = t;
    const delays: number[] = [];
    const sleep = (ms: number) => {
      delays.push(ms);
      return Promise.resolve();
    };
    const user = async (address: string) => {
      const account = await store.accounts.create({ address, password: GOOD_PASSWORD });
      return { id: account.id, address: account.address };
    };
    const alice = await user("alice@example.org");
    const bob = await user("bob@example.org");
    const bans = new Bans(store.sql, { log });
    await fn({
      ...t,
      hostname: "mail.example.org",
      caFile: pki!.caFile,
      caPem: pki!.caPem,
      certPem: leaf!.certPem,
      tls: new TlsContexts({ fallback: leaf!, byName: new Map() }),
      alice,
      bob,
      bans,
      login: new Login({ bans, credentials: sqlCredentials(store.sql), log, sleep }),
      scram: new ScramLogin({ bans, credentials: sqlScramCredentials(store.sql), log, sleep }),
      delays,
    });
  });
}
