/**
 * A store over a fresh test database, with a master key of its own.
 *
 * @module
 */

import { Secret } from "otpauth";
import { generateMasterKey } from "../src/crypto/master_key.ts";
import { totpCode } from "../src/crypto/totp.ts";
import { type Config, loadConfig } from "../src/config/mod.ts";
import { silentLogger } from "../src/ops/log.ts";
import type { Store } from "../src/store/mod.ts";
import { openServices } from "../src/store/open.ts";
import { openTestDatabase, type TestDatabase } from "./db.ts";

/** A store for one test, and what it was opened with. */
export interface TestStore {
  readonly store: Store;
  readonly db: TestDatabase;
  readonly config: Config;
  readonly masterKey: string;
  /** Opens the services again over the same database with another key ring (a "restart"). */
  reopen(masterKey: string): Promise<Store>;
}

/** The configuration tests use: defaults of `--dev`, with `overrides` for accounts. */
export async function testConfig(dataDir = "/nonexistent"): Promise<Config> {
  return await loadConfig({
    dev: true,
    env: { FUMI_DATA_DIR: dataDir },
    cwd: "/",
    readTextFile: () => Promise.reject(new Deno.errors.NotFound()),
    systemHostname: () => "localhost",
  });
}

/** Runs `fn` with a fresh store holding the domain example.org. */
export async function withStore(fn: (t: TestStore) => Promise<void>): Promise<void> {
  const db = await openTestDatabase();
  try {
    const config = await testConfig();
    const masterKey = generateMasterKey();
    const open = (key: string) =>
      openServices(
        { sql: db.sql, kind: db.kind, close: () => Promise.resolve() },
        config,
        { FUMI_MASTER_KEY: key },
        silentLogger,
      );
    const store = await open(masterKey);
    await store.domains.add("example.org");
    await fn({ store, db, config, masterKey, reopen: open });
  } finally {
    await db.close();
  }
}

/** A plausible message with markers a test can search for. */
export function sampleMessage(marker = "zebra", size = 0): Uint8Array {
  const head = [
    `From: Sender ${marker} <sender-${marker}@remote.example>`,
    `To: alice@example.org, list-${marker}@lists.example`,
    `Cc: other-${marker}@else.example`,
    `Subject: Secret subject ${marker}`,
    "Date: Fri, 27 Nov 2026 12:00:00 +0000",
    `Message-ID: <${marker}@remote.example>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    `Body line with the marker ${marker}-body.`,
  ].join("\r\n");
  const padding = size > head.length ? "\r\n" + "x".repeat(size - head.length - 4) : "";
  return new TextEncoder().encode(head + padding + "\r\n");
}

/** A password the policy accepts. */
export const GOOD_PASSWORD = "purple elephants dance 42";

/**
 * Turns the second factor of account `accountId` on, as a user would (enrol, then confirm the
 * authenticator's current code); returns the TOTP secret.
 */
export async function enableTwoFactor(store: Store, accountId: number): Promise<Uint8Array> {
  const { secret } = await store.twoFactor.begin(accountId, {
    issuer: "Fumi test",
    account: `account ${accountId}`,
  });
  const bytes = new Uint8Array(Secret.fromBase32(secret).buffer);
  if (!await store.twoFactor.confirm(accountId, totpCode(bytes, Date.now()))) {
    throw new Error(`Cannot confirm the second factor of account ${accountId}`);
  }
  return bytes;
}
