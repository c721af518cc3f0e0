import { assertEquals, assertNotEquals, assertRejects } from "../../tests/assert.ts";
import { dkimpyVerify } from "../../tests/dkimpy.ts";
import { withStore } from "../../tests/store.ts";
import { dkimRecordName, dkimRecordText } from "../dkim/record.ts";
import { signMessage } from "../dkim/sign.ts";
import { ConflictError, NotFoundError } from "../util/errors.ts";
import { DkimKeys, nextSelectors } from "./dkim_keys.ts";

/** 2026-11-28T04:00:00Z. */
const NOW = Date.UTC(2026, 10, 28, 4, 0, 0);

Deno.test("selectors: fumi-rsa-/fumi-ed-YYYYMMDD, then -2, -3 on the same day", () => {
  assertEquals(nextSelectors(NOW, new Set()), {
    "rsa-sha256": "fumi-rsa-20261128",
    "ed25519-sha256": "fumi-ed-20261128",
  });
  assertEquals(
    nextSelectors(NOW, new Set(["fumi-rsa-20261128", "fumi-ed-20261128", "fumi-ed-20261128-2"])),
    { "rsa-sha256": "fumi-rsa-20261128-3", "ed25519-sha256": "fumi-ed-20261128-3" },
  );
  assertEquals(
    nextSelectors(NOW + 86_400_000, new Set(["fumi-rsa-20261128"]))["rsa-sha256"],
    "fumi-rsa-20261129",
  );
});

Deno.test("rotate, publish, remove: active keys sign, retired ones stay published", async () => {
  await withStore(async ({ store }) => {
    const keys = new DkimKeys(store.sql, store.vault, store.domains, () => NOW);
    assertEquals(await keys.published("example.org"), []);
    assertEquals(await keys.signingKeys("example.org"), []);

    const first = await keys.rotate("example.org");
    assertEquals(first.retired, []);
    assertEquals(first.created.map((k) => [k.selector, k.algorithm, k.state]), [
      ["fumi-rsa-20261128", "rsa-sha256", "active"],
      ["fumi-ed-20261128", "ed25519-sha256", "active"],
    ]);
    assertEquals(first.created[1]!.publicKey.length, 32);

    // The active keys sign, and dkimpy verifies with the published records.
    const signing = await keys.signingKeys("Example.ORG");
    assertEquals(signing.map((k) => [k.domain, k.selector, k.privateKey.extractable]), [
      ["example.org", "fumi-rsa-20261128", false],
      ["example.org", "fumi-ed-20261128", false],
    ]);
    const records = Object.fromEntries(
      (await keys.published("example.org")).map((k) => [
        dkimRecordName(k.selector, k.domain),
        dkimRecordText(k.algorithm, k.publicKey),
      ]),
    );
    const message = new TextEncoder().encode(
      "From: alice@example.org\r\nTo: bob@remote.example\r\nSubject: hi\r\n\r\nHello.\r\n",
    );
    const signed = await signMessage(message, signing, { now: NOW });
    assertEquals((await dkimpyVerify(signed, records)).map((v) => v.ok), [true, true]);

    // A second rotation the same day: new selectors with a suffix; the first pair retired.
    const second = await keys.rotate("example.org");
    assertEquals(second.created.map((k) => k.selector), [
      "fumi-rsa-20261128-2",
      "fumi-ed-20261128-2",
    ]);
    assertEquals(second.retired.map((k) => [k.selector, k.state]).sort(), [
      ["fumi-ed-20261128", "retired"],
      ["fumi-rsa-20261128", "retired"],
    ]);
    assertEquals((await keys.published("example.org")).map((k) => [k.selector, k.state]), [
      ["fumi-rsa-20261128-2", "active"],
      ["fumi-ed-20261128-2", "active"],
      ["fumi-rsa-20261128", "retired"],
      ["fumi-ed-20261128", "retired"],
    ]);
    assertEquals((await keys.signingKeys("example.org")).map((k) => k.selector), [
      "fumi-rsa-20261128-2",
      "fumi-ed-20261128-2",
    ]);
    // Mail signed before the rotation still verifies: the old records are still published.
    const stillPublished = Object.fromEntries(
      (await keys.published("example.org")).map((k) => [
        dkimRecordName(k.selector, k.domain),
        dkimRecordText(k.algorithm, k.publicKey),
      ]),
    );
    assertEquals((await dkimpyVerify(signed, stillPublished)).map((v) => v.ok), [true, true]);

    // Removing: only retired keys; the private key goes, the selector stays taken.
    await assertRejects(
      () => keys.remove("example.org", "fumi-rsa-20261128-2"),
      ConflictError,
      "is active",
    );
    await assertRejects(
      () => keys.remove("example.org", "nope"),
      NotFoundError,
      "no DKIM selector",
    );
    const removed = await keys.remove("example.org", "FUMI-RSA-20261128");
    assertEquals([removed.selector, removed.state], ["fumi-rsa-20261128", "removed"]);
    await assertRejects(
      () => keys.remove("example.org", "fumi-rsa-20261128"),
      NotFoundError,
      "no DKIM selector",
    );
    assertEquals((await keys.published("example.org")).map((k) => k.selector), [
      "fumi-rsa-20261128-2",
      "fumi-ed-20261128-2",
      "fumi-ed-20261128",
    ]);
    const [row] = await store.sql<{ private_key: Uint8Array | null }[]>`
      select private_key from dkim_keys where selector = 'fumi-rsa-20261128'`;
    assertEquals(row!.private_key, null);
    const third = await keys.rotate("example.org");
    assertEquals(third.created[0]!.selector, "fumi-rsa-20261128-3");

    await assertRejects(() => keys.rotate("nowhere.example"), NotFoundError, "not hosted here");
  });
});

Deno.test("private keys are stored sealed and bound to their row", async () => {
  await withStore(async ({ store }) => {
    const keys = new DkimKeys(store.sql, store.vault, store.domains, () => NOW);
    await keys.rotate("example.org");
    const rows = await store.sql<{ id: number; private_key: Uint8Array }[]>`
      select id, private_key from dkim_keys order by id`;
    assertEquals(rows.length, 2);
    for (const row of rows) {
      // PKCS#8 starts with a DER SEQUENCE (0x30); the sealed form starts with version 1.
      assertEquals(row.private_key[0], 1);
      assertNotEquals(row.private_key[17], 0x30);
    }
    // Swapping the two sealed keys between rows makes both unusable, not exchanged.
    await store.sql`update dkim_keys set private_key = case id
      when ${rows[0]!.id} then ${rows[1]!.private_key}::bytea
      else ${rows[0]!.private_key}::bytea end`;
    const fresh = new DkimKeys(store.sql, store.vault, store.domains, () => NOW);
    await assertRejects(() => fresh.signingKeys("example.org"), Error, "Cannot decrypt");
  });
});

Deno.test("two rotations at once give two distinct pairs, and one active key per algorithm", async () => {
  await withStore(async ({ store }) => {
    const keys = new DkimKeys(store.sql, store.vault, store.domains, () => NOW);
    const [a, b] = await Promise.all([keys.rotate("example.org"), keys.rotate("example.org")]);
    const selectors = [...a.created, ...b.created].map((k) => k.selector);
    assertEquals(new Set(selectors).size, 4);
    const published = await keys.published("example.org");
    assertEquals(published.filter((k) => k.state === "active").length, 2);
    assertEquals(published.filter((k) => k.state === "retired").length, 2);
    // Deleting the domain deletes its keys.
    await store.domains.remove("example.org");
    const [count] = await store.sql<{ n: number }[]>`select count(*)::int as n from dkim_keys`;
    assertEquals(count!.n, 0);
  });
});
