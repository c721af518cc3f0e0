import { assert, assertEquals, assertRejects } from "../../tests/assert.ts";
import { GOOD_PASSWORD, withStore } from "../../tests/store.ts";
import { verifyPassword } from "../crypto/password.ts";
import { parseScram } from "../crypto/scram.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../util/errors.ts";

Deno.test("an account gets its key and default mailboxes; its password is stored one-way twice", async () => {
  await withStore(async ({ store }) => {
    const account = await store.accounts.create({
      address: "Alice@Example.ORG",
      password: GOOD_PASSWORD,
    });
    assertEquals(account.address, "alice@example.org");
    assertEquals(account.quotaBytes, 0);
    const names = (await store.mailboxes.list(account.id)).map((m) =>
      `${m.name}:${m.specialUse ?? ""}`
    );
    assertEquals(names.sort(), [
      "Archive:\\Archive",
      "Drafts:\\Drafts",
      "INBOX:",
      "Junk:\\Junk",
      "Sent:\\Sent",
      "Trash:\\Trash",
    ]);
    const [row] = await store.sql<{ password_hash: string; scram_sha256: string }[]>`
      select password_hash, scram_sha256 from accounts where id = ${account.id}`;
    assert(row!.password_hash.startsWith("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert(await verifyPassword(row!.password_hash, GOOD_PASSWORD));
    assert(parseScram(row!.scram_sha256).iterations >= 4096);
    assert(!JSON.stringify(row).includes(GOOD_PASSWORD));
    const [key] = await store.sql`select 1 from data_keys where account_id = ${account.id}`;
    assert(key);
  });
});

Deno.test("account rules: domain hosted, unique, policy, not an alias", async () => {
  await withStore(async ({ store }) => {
    await assertRejects(
      () => store.accounts.create({ address: "a@elsewhere.example", password: GOOD_PASSWORD }),
      NotFoundError,
      "fumi domain add elsewhere.example",
    );
    await store.accounts.create({ address: "bob@example.org", password: GOOD_PASSWORD });
    await assertRejects(
      () => store.accounts.create({ address: "BOB@example.org", password: GOOD_PASSWORD }),
      ConflictError,
    );
    await assertRejects(
      () => store.accounts.create({ address: "carol@example.org", password: "short" }),
      InvalidInputError,
      "at least 12",
    );
    await assertRejects(
      () => store.accounts.create({ address: "carol@example.org", password: "carol@example.org" }),
      InvalidInputError,
    );
    await store.aliases.add("sales@example.org", ["bob@example.org"]);
    await assertRejects(
      () => store.accounts.create({ address: "sales@example.org", password: GOOD_PASSWORD }),
      ConflictError,
      "is an alias",
    );
    await assertRejects(
      () => store.accounts.create({ address: "no-at-sign", password: GOOD_PASSWORD }),
      InvalidInputError,
    );
  });
});

Deno.test("IDNA domains and UTF-8 local parts (SMTPUTF8)", async () => {
  await withStore(async ({ store }) => {
    const domain = await store.domains.add("Bücher.example");
    assertEquals(domain.name, "xn--bcher-kva.example");
    assertEquals(domain.unicodeName, "bücher.example");
    const account = await store.accounts.create({
      address: "Jürgen@bücher.example",
      password: GOOD_PASSWORD,
    });
    assertEquals(account.address, "jürgen@xn--bcher-kva.example");
    assertEquals((await store.accounts.get("JÜRGEN@XN--BCHER-KVA.EXAMPLE")).id, account.id);
  });
});

Deno.test("password change, disable, quota and removal", async () => {
  await withStore(async ({ store }) => {
    const account = await store.accounts.create({
      address: "dora@example.org",
      password: GOOD_PASSWORD,
    });
    await store.accounts.setPassword("dora@example.org", "a different long passphrase");
    const [row] = await store.sql<
      { password_hash: string }[]
    >`select password_hash from accounts where id = ${account.id}`;
    assert(await verifyPassword(row!.password_hash, "a different long passphrase"));
    await store.accounts.setDisabled("dora@example.org", true);
    assert((await store.accounts.get("dora@example.org")).disabled);
    await store.accounts.setQuota("dora@example.org", 1000);
    assertEquals((await store.accounts.get("dora@example.org")).quotaBytes, 1000);
    await store.accounts.remove("dora@example.org");
    assertEquals(await store.accounts.find("dora@example.org"), null);
    const [left] = await store.sql`select 1 from data_keys where account_id = ${account.id}
                                   union all select 1 from mailboxes where account_id = ${account.id}`;
    assertEquals(left, undefined);
    await assertRejects(() => store.accounts.remove("dora@example.org"), NotFoundError);
  });
});

Deno.test("a domain with accounts cannot be removed", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "erin@example.org", password: GOOD_PASSWORD });
    await assertRejects(
      () => store.domains.remove("example.org"),
      ConflictError,
      "still has 1 account",
    );
    await store.accounts.remove("erin@example.org");
    await store.domains.remove("example.org");
    assertEquals(await store.domains.list(), []);
    await assertRejects(() => store.domains.add("bad domain!"), InvalidInputError);
  });
});

Deno.test("quota headroom: the ids a message would take over quota", async () => {
  await withStore(async ({ store }) => {
    const free = await store.accounts.create({ address: "f@example.org", password: GOOD_PASSWORD });
    const tight = await store.accounts.create({
      address: "t@example.org",
      password: GOOD_PASSWORD,
      quotaBytes: 1000,
    });
    const used = await store.accounts.create({
      address: "u@example.org",
      password: GOOD_PASSWORD,
      quotaBytes: 1000,
    });
    await store.sql`update accounts set used_bytes = 600 where id = ${used.id}`;
    const all = [free.id, tight.id, used.id];
    assertEquals(await store.accounts.roomFor(all, 400), []);
    assertEquals(await store.accounts.roomFor(all, 401), [used.id]);
    assertEquals(await store.accounts.roomFor(all, 1000), [used.id]);
    assertEquals(await store.accounts.roomFor(all, 1001), [tight.id, used.id]);
    assertEquals(await store.accounts.roomFor([], 1_000_000), []);
  });
});

Deno.test("allowed senders: normalised, replaced as a whole; administrators listed", async () => {
  await withStore(async ({ store }) => {
    const a = await store.accounts.create({ address: "a@example.org", password: GOOD_PASSWORD });
    assertEquals(await store.accounts.allowedSenders(a.id), []);
    assertEquals(
      await store.accounts.setAllowedSenders("a@example.org", [
        "Team@Example.ORG",
        "@Bücher.Example",
        "team@example.org",
      ]),
      ["@xn--bcher-kva.example", "team@example.org"],
    );
    assertEquals(await store.accounts.allowedSenders(a.id), [
      "@xn--bcher-kva.example",
      "team@example.org",
    ]);
    await store.accounts.setAllowedSenders("a@example.org", []);
    assertEquals(await store.accounts.allowedSenders(a.id), []);
    await assertRejects(
      () => store.accounts.setAllowedSenders("a@example.org", ["not an address"]),
      InvalidInputError,
    );
    await assertRejects(
      () => store.accounts.setAllowedSenders("a@example.org", ["@bad domain"]),
      InvalidInputError,
    );
    await assertRejects(() => store.accounts.allowedSenders(999_999), NotFoundError);

    const boss = await store.accounts.create({
      address: "boss@example.org",
      password: GOOD_PASSWORD,
      isAdmin: true,
    });
    const old = await store.accounts.create({
      address: "old@example.org",
      password: GOOD_PASSWORD,
      isAdmin: true,
    });
    await store.accounts.setDisabled("old@example.org", true);
    assertEquals(await store.accounts.administratorIds(), [boss.id]);
    assert(!(await store.accounts.administratorIds()).includes(old.id));
  });
});
