import { assertEquals } from "../../tests/assert.ts";
import { GOOD_PASSWORD, type TestStore, withStore } from "../../tests/store.ts";
import { parseAddress } from "../util/address.ts";
import { type RecipientResolution, Recipients } from "./recipients.ts";

/** alice and bob (admin) at example.org, carol disabled; aliases; example.net's catch-all. */
async function setUp({ store }: TestStore) {
  const alice = await store.accounts.create({
    address: "alice@example.org",
    password: GOOD_PASSWORD,
  });
  const bob = await store.accounts.create({
    address: "bob@example.org",
    password: GOOD_PASSWORD,
    isAdmin: true,
  });
  const carol = await store.accounts.create({
    address: "carol@example.org",
    password: GOOD_PASSWORD,
  });
  await store.accounts.setDisabled("carol@example.org", true);
  await store.aliases.add("team@example.org", ["alice@example.org", "bob@example.org"]);
  await store.aliases.add("fwd@example.org", ["x@remote.example", "alice@example.org"]);
  await store.aliases.add("away@example.org", ["y@remote.example"]);
  await store.domains.add("example.net");
  await store.aliases.add("@example.net", ["alice@example.org"]);
  return { alice, bob, carol, recipients: new Recipients(store) };
}

const at = parseAddress;

Deno.test("resolve: accounts, subaddresses, aliases, forwards, catch-all, unknown, remote", async () => {
  await withStore(async (t) => {
    const { alice, bob, recipients } = await setUp(t);
    const local = (accountIds: number[], remote: string[] = []): RecipientResolution => ({
      kind: "local",
      accountIds,
      remote,
    });
    assertEquals(await recipients.resolve(at("Alice@Example.ORG")), local([alice.id]));
    assertEquals(await recipients.resolve(at("alice+news@example.org")), local([alice.id]));
    const team = await recipients.resolve(at("team@example.org"));
    assertEquals(team.kind === "local" ? [...team.accountIds].sort() : team, [alice.id, bob.id]);
    assertEquals(
      await recipients.resolve(at("fwd@example.org")),
      local([alice.id], ["x@remote.example"]),
    );
    assertEquals(await recipients.resolve(at("away@example.org")), local([], ["y@remote.example"]));
    assertEquals(await recipients.resolve(at("anyone@example.net")), local([alice.id]));
    assertEquals(await recipients.resolve(at("nobody@example.org")), { kind: "unknown" });
    assertEquals(await recipients.resolve(at("carol@example.org")), { kind: "unknown" });
    assertEquals(await recipients.resolve(at("carol+x@example.org")), { kind: "unknown" });
    assertEquals(await recipients.resolve(at("someone@elsewhere.example")), { kind: "remote" });
  });
});

Deno.test("resolve: postmaster reaches the administrators unless it is an account or alias", async () => {
  await withStore(async (t) => {
    const { alice, bob, recipients } = await setUp(t);
    const admins: RecipientResolution = { kind: "local", accountIds: [bob.id], remote: [] };
    assertEquals(await recipients.resolve("postmaster"), admins); // RFC 5321 §4.1.1.3
    assertEquals(await recipients.resolve(at("postmaster@example.org")), admins);
    assertEquals(await recipients.resolve(at("PostMaster@example.org")), admins);
    // example.net has a catch-all: that decides, as for any other name there.
    assertEquals(await recipients.resolve(at("postmaster@example.net")), {
      kind: "local",
      accountIds: [alice.id],
      remote: [],
    });
    assertEquals(await recipients.resolve(at("postmaster@elsewhere.example")), { kind: "remote" });
    await t.store.aliases.add("postmaster@example.org", ["alice@example.org"]);
    assertEquals(await recipients.resolve(at("postmaster@example.org")), {
      kind: "local",
      accountIds: [alice.id],
      remote: [],
    });
    // Without an enabled administrator there is nobody to reach.
    await t.store.accounts.setDisabled("bob@example.org", true);
    assertEquals(await recipients.resolve("postmaster"), { kind: "unknown" });
  });
});

Deno.test("overQuota names the accounts a message would overfill", async () => {
  await withStore(async (t) => {
    const { alice, bob, recipients } = await setUp(t);
    await t.store.accounts.setQuota("alice@example.org", 10_000);
    assertEquals(await recipients.overQuota([alice.id, bob.id], 10_000), []);
    assertEquals(await recipients.overQuota([alice.id, bob.id], 10_001), [alice.id]);
  });
});

Deno.test("ownsSender: own address, subaddresses, aliases reaching it, allowed senders; not a catch-all", async () => {
  await withStore(async (t) => {
    const { alice, bob, carol, recipients } = await setUp(t);
    const owns = (id: number, address: string | null) =>
      recipients.ownsSender(id, address === null ? null : at(address));
    assertEquals(await owns(alice.id, "alice@example.org"), true);
    assertEquals(await owns(alice.id, "ALICE@example.org"), true);
    assertEquals(await owns(alice.id, "alice+lists@example.org"), true);
    assertEquals(await owns(alice.id, "team@example.org"), true, "alias that reaches alice");
    assertEquals(await owns(alice.id, "team+x@example.org"), true);
    assertEquals(await owns(alice.id, "fwd@example.org"), true);
    assertEquals(await owns(alice.id, "away@example.org"), false, "alias that does not reach her");
    assertEquals(await owns(alice.id, "bob@example.org"), false);
    assertEquals(await owns(alice.id, "bob+x@example.org"), false);
    // Owning the catch-all of example.net is no licence to send as anyone there.
    assertEquals(await owns(alice.id, "anyone@example.net"), false);
    assertEquals(await owns(alice.id, "someone@elsewhere.example"), false);
    assertEquals(await owns(alice.id, null), false, "<> is nobody's on submission");
    assertEquals(await owns(carol.id, "carol@example.org"), false, "disabled");

    await t.store.accounts.setAllowedSenders("bob@example.org", [
      "newsletter@example.net",
      "@elsewhere.example",
    ]);
    assertEquals(await owns(bob.id, "newsletter@example.net"), true);
    assertEquals(await owns(bob.id, "Newsletter+x@example.net"), true);
    assertEquals(await owns(bob.id, "anyone@elsewhere.example"), true);
    assertEquals(await owns(bob.id, "anyone@sub.elsewhere.example"), false);
    assertEquals(await owns(bob.id, "other@example.net"), false);
    assertEquals(await owns(alice.id, "newsletter@example.net"), false);
  });
});
