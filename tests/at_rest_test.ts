/**
 * What an attacker with the database sees: no message body, subject or address list of a
 * delivered message, neither in the embedded database's files nor in any table's contents; no
 * TOTP secret and no app password in any table.
 */

import { assert, assertEquals } from "./assert.ts";
import { openStore } from "../src/store/mod.ts";
import { silentLogger } from "../src/ops/log.ts";
import { generateMasterKey } from "../src/crypto/master_key.ts";
import type { Sql } from "../src/store/db.ts";
import { Secret } from "otpauth";
import { enableTwoFactor, GOOD_PASSWORD, sampleMessage, testConfig, withStore } from "./store.ts";

const encoder = new TextEncoder();

function markersOf(marker: string): string[] {
  return [
    `Secret subject ${marker}`, // subject
    `${marker}-body`, // body
    `list-${marker}@lists.example`, // To: list
    `other-${marker}@else.example`, // Cc: list
    `sender-${marker}@remote.example`, // From:
  ];
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

async function* filesUnder(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* filesUnder(path);
    else if (entry.isFile) yield path;
  }
}

/** Every row of every table of the public schema, as PostgreSQL's text form of the row. */
async function tableText(sql: Sql): Promise<string> {
  const tables = await sql<{ name: string }[]>`
    select tablename as name from pg_tables where schemaname = 'public'`;
  let text = "";
  for (const { name } of tables) {
    const rows = await sql.unsafe<{ row: string }[]>(`select t::text as row from "${name}" t`);
    // bytea columns print as hex; decode those too so a plaintext stored as bytes is found.
    for (const { row } of rows) text += row + decodeHexRuns(row);
  }
  return text;
}

function decodeHexRuns(text: string): string {
  return [...text.matchAll(/\\\\x([0-9a-f]+)/g)].map((m) => {
    const hex = m[1]!;
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    return new TextDecoder("latin1").decode(bytes);
  }).join("\n");
}

Deno.test("embedded: the database files and tables hold no plaintext of a delivered message", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "fumi-at-rest-" });
  try {
    const marker = `m${crypto.randomUUID().slice(0, 8)}`;
    const config = await testConfig(dataDir);
    const env = { FUMI_MASTER_KEY: generateMasterKey() };
    const store = await openStore(config, env, silentLogger);
    let messageId = 0;
    let accountId = 0;
    try {
      await store.domains.add("example.org");
      const account = await store.accounts.create({
        address: "alice@example.org",
        password: GOOD_PASSWORD,
      });
      accountId = account.id;
      const [copy] = await store.messages.deliver(sampleMessage(marker), [{ accountId }]);
      messageId = copy!.messageId;
      const text = await tableText(store.sql);
      for (const m of markersOf(marker)) assert(!text.includes(m), `table contents include "${m}"`);
    } finally {
      await store.close();
    }
    let files = 0;
    let controlFound = false;
    for await (const path of filesUnder(`${dataDir}/pg`)) {
      const bytes = await Deno.readFile(path);
      files++;
      // The control: account addresses are stored in clear, so the search must find this one.
      controlFound ||= contains(bytes, encoder.encode("alice@example.org"));
      for (const m of markersOf(marker)) {
        assert(!contains(bytes, encoder.encode(m)), `${path} contains "${m}"`);
      }
    }
    assert(files > 100, `expected PGlite's files under ${dataDir}/pg, found ${files}`);
    assert(controlFound, "the file search did not find the account address it should find");
    // And the message is really there: reopened with the key, it reads back.
    const again = await openStore(config, env, silentLogger);
    try {
      assertEquals(await again.messages.read(accountId, messageId), sampleMessage(marker));
    } finally {
      await again.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("test database (PGlite or FUMI_TEST_DATABASE_URL): no plaintext in any table", async () => {
  await withStore(async ({ store }) => {
    const marker = `t${crypto.randomUUID().slice(0, 8)}`;
    const a = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const b = await store.accounts.create({ address: "bob@example.org", password: GOOD_PASSWORD });
    await store.messages.deliver(sampleMessage(marker), [{ accountId: a.id }, { accountId: b.id }]);
    const text = await tableText(store.sql);
    assert(text.length > 1000);
    for (const m of markersOf(marker)) assert(!text.includes(m), `table contents include "${m}"`);
    // The sanity check that the search works: account addresses are stored in clear.
    assert(text.includes("alice@example.org"));
  });
});

Deno.test("test database: no TOTP secret and no app password in any table", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const secret = await enableTwoFactor(store, alice.id);
    const { password } = await store.appPasswords.create(alice.id, "Phone");
    const text = await tableText(store.sql);
    const latin1 = new TextDecoder("latin1");
    for (
      const needle of [
        latin1.decode(secret),
        new Secret({ buffer: secret.slice().buffer }).base32,
        secret.toHex(), // as bytea prints
        password,
        password.replaceAll("-", ""),
      ]
    ) {
      assert(!text.includes(needle), `table contents include ${JSON.stringify(needle)}`);
    }
    // The control: the app password's name is stored in clear.
    assert(text.includes("Phone"));
  });
});
