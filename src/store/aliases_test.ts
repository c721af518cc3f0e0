import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { GOOD_PASSWORD, withStore } from "../../tests/store.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../util/errors.ts";

Deno.test("recipient resolution: account, alias, plus-address, catch-all, remote, chains and loops", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const bob = await store.accounts.create({
      address: "bob@example.org",
      password: GOOD_PASSWORD,
    });
    await store.aliases.add("team@example.org", [
      "alice@example.org",
      "bob@example.org",
      "carol@remote.example",
    ]);
    await store.aliases.add("sales@example.org", ["team@example.org"]);
    await store.aliases.add("loop1@example.org", ["loop2@example.org"]);
    await store.aliases.add("loop2@example.org", ["loop1@example.org", "alice@example.org"]);

    const resolve = async (address: string) => await store.aliases.resolve(address);
    assertEquals(await resolve("ALICE@example.org"), { accountIds: [alice.id], remote: [] });
    assertEquals(await resolve("alice+news@example.org"), { accountIds: [alice.id], remote: [] });
    assertEquals(await resolve("ALICE+News@example.org"), { accountIds: [alice.id], remote: [] });
    assertEquals(await resolve("sales@example.org"), {
      accountIds: [alice.id, bob.id],
      remote: ["carol@remote.example"],
    });
    assertEquals(await resolve("team+x@example.org"), {
      accountIds: [alice.id, bob.id],
      remote: ["carol@remote.example"],
    });
    assertEquals(await resolve("loop1@example.org"), { accountIds: [alice.id], remote: [] });
    assertEquals(await resolve("nobody@example.org"), null);
    assertEquals(await resolve("alice@not-hosted.example"), null);

    await store.aliases.add("@example.org", ["bob@example.org"]);
    assertEquals(await resolve("nobody@example.org"), { accountIds: [bob.id], remote: [] });
    assertEquals(await resolve("alice@example.org"), { accountIds: [alice.id], remote: [] });

    await store.accounts.setDisabled("bob@example.org", true);
    assertEquals(await resolve("bob@example.org"), null);
  });
});

Deno.test("alias administration", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    await store.aliases.add("Info@Example.org", ["alice@example.org", "x@remote.example"]);
    await store.aliases.add("info@example.org", ["alice@example.org"]); // idempotent
    assertEquals(await store.aliases.list(), [
      { source: "info@example.org", destinations: ["alice@example.org", "x@remote.example"] },
    ]);
    assertEquals((await store.aliases.list("example.org")).length, 1);
    await assertRejects(
      () => store.aliases.add("alice@example.org", ["x@remote.example"]),
      ConflictError,
    );
    await assertRejects(
      () => store.aliases.add("a@other.example", ["alice@example.org"]),
      NotFoundError,
    );
    await assertRejects(
      () => store.aliases.add("me@example.org", ["me@example.org"]),
      InvalidInputError,
    );
    await assertRejects(() => store.aliases.add("me@example.org", []), InvalidInputError);
    await store.aliases.remove("info@example.org", ["x@remote.example"]);
    assertEquals((await store.aliases.get("info@example.org")).destinations, ["alice@example.org"]);
    await store.aliases.remove("info@example.org");
    await assertRejects(() => store.aliases.get("info@example.org"), NotFoundError);
    await assertRejects(() => store.aliases.remove("info@example.org"), NotFoundError);
  });
});
