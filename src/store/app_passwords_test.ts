import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertThrows,
} from "../../tests/assert.ts";
import { GOOD_PASSWORD, withStore } from "../../tests/store.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../util/errors.ts";
import { normalizeAppPasswordName, parseScopes } from "./app_passwords.ts";

Deno.test("app passwords: created once, listed without secrets, verified by scope, revoked", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const bob = await store.accounts.create({
      address: "bob@example.org",
      password: GOOD_PASSWORD,
    });
    const { appPasswords } = store;
    const phone = await appPasswords.create(alice.id, "Phone");
    assertMatch(phone.password, /^[a-z]{4}(-[a-z]{4}){6}$/);
    assertEquals(phone.appPassword.name, "Phone");
    assertEquals(phone.appPassword.scopes, ["imap", "smtp"]);
    assertEquals(phone.appPassword.lastUsedAt, null);
    const laptop = await appPasswords.create(alice.id, "  Laptop (Thunderbird) ", ["imap"]);
    assertEquals(laptop.appPassword.name, "Laptop (Thunderbird)");
    assertEquals(laptop.appPassword.scopes, ["imap"]);
    await assertRejects(
      () => appPasswords.create(alice.id, "Phone"),
      ConflictError,
      '"Phone" exists already',
    );
    // Names are per account.
    await appPasswords.create(bob.id, "Phone");

    const listed = await appPasswords.list(alice.id);
    assertEquals(listed.map((p) => [p.name, p.scopes]), [["Laptop (Thunderbird)", ["imap"]], [
      "Phone",
      ["imap", "smtp"],
    ]]);
    assert(!JSON.stringify(listed).includes(phone.password.slice(0, 9)), "no secret listed");

    // The database keeps only a digest.
    const rows = await store.sql<
      { password_sha256: Uint8Array }[]
    >`select password_sha256 from app_passwords`;
    for (const row of rows) assertEquals(row.password_sha256.length, 32);

    assertEquals(
      await appPasswords.verify(alice.id, laptop.password, "smtp"),
      null,
      "out of scope",
    );
    assertEquals(
      await appPasswords.verify(bob.id, laptop.password, "imap"),
      null,
      "another account",
    );
    assertEquals(await appPasswords.verify(alice.id, GOOD_PASSWORD, "imap"), null);
    const used = await appPasswords.verify(
      alice.id,
      laptop.password.toUpperCase().replaceAll("-", " "),
      "imap",
    );
    assertEquals(used?.name, "Laptop (Thunderbird)");
    const after = (await appPasswords.list(alice.id)).find((p) =>
      p.name === "Laptop (Thunderbird)"
    )!;
    assert(after.lastUsedAt !== null, "marked used");
    assertEquals((await appPasswords.verify(alice.id, phone.password, "smtp"))?.name, "Phone");

    await appPasswords.revoke(alice.id, "Phone");
    assertEquals(await appPasswords.verify(alice.id, phone.password, "smtp"), null);
    await assertRejects(
      () => appPasswords.revoke(alice.id, "Phone"),
      NotFoundError,
      'No app password named "Phone"',
    );
    assertEquals((await appPasswords.list(bob.id)).length, 1, "bob's Phone stays");

    // Deleting the account deletes its app passwords.
    await store.accounts.remove("alice@example.org");
    const [left] = await store.sql<{ n: number }[]>`select count(*)::int as n from app_passwords`;
    assertEquals(left!.n, 1);
  });
});

Deno.test("app passwords: scopes and names are checked", async () => {
  assertEquals(parseScopes("smtp,imap"), ["imap", "smtp"]);
  assertEquals(parseScopes(" IMAP "), ["imap"]);
  assertEquals(parseScopes(["smtp", "smtp"]), ["smtp"]);
  for (const bad of ["", "pop3", "imap,,smtp", "imap,web"]) {
    assertThrows(() => parseScopes(bad), InvalidInputError);
  }
  assertThrows(() => parseScopes([]), InvalidInputError, "at least one scope");
  for (const bad of ["", "   ", "a\nb", "tab\there", "x".repeat(65)]) {
    assertThrows(() => normalizeAppPasswordName(bad), InvalidInputError);
  }
  assertEquals(normalizeAppPasswordName("x".repeat(64)).length, 64);
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    await assertRejects(
      () => store.appPasswords.create(alice.id, "x", ["pop3"]),
      InvalidInputError,
      'Unknown scope "pop3"',
    );
    await assertRejects(() => store.appPasswords.create(alice.id, "x", []), InvalidInputError);
  });
});
