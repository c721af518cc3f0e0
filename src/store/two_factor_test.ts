import { Secret } from "otpauth";
import {
  assert,
  assertEquals,
  assertMatch,
  assertNotEquals,
  assertRejects,
} from "../../tests/assert.ts";
import { GOOD_PASSWORD, withStore } from "../../tests/store.ts";
import { totpCode } from "../crypto/totp.ts";
import { ConflictError, NotFoundError } from "../util/errors.ts";
import { TwoFactor } from "./two_factor.ts";

const LABEL = { issuer: "Fumi mail.example.org", account: "alice@example.org" };

function bytesOf(base32: string): Uint8Array {
  return new Uint8Array(Secret.fromBase32(base32).buffer);
}

Deno.test("two-factor enrolment: off, pending until a code is confirmed, on, off again", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const clock = { t: Date.parse("2026-11-28T04:00:00Z") };
    const twoFactor = new TwoFactor(store.sql, store.vault, () => clock.t);
    assertEquals(await twoFactor.state(alice.id), "off");
    await assertRejects(
      () => twoFactor.confirm(alice.id, "123456"),
      ConflictError,
      "No two-factor enrolment is pending",
    );

    const first = await twoFactor.begin(alice.id, LABEL);
    assertMatch(first.secret, /^[A-Z2-7]{32}$/);
    assertEquals(
      first.uri,
      `otpauth://totp/Fumi%20mail.example.org:alice%40example.org?issuer=Fumi%20mail.example.org&secret=${first.secret}&algorithm=SHA1&digits=6&period=30`,
    );
    assertEquals(await twoFactor.state(alice.id), "pending");
    // Beginning again replaces the pending secret: the first one's codes no longer confirm.
    const second = await twoFactor.begin(alice.id, LABEL);
    assertNotEquals(second.secret, first.secret);
    assertEquals(
      await twoFactor.confirm(alice.id, totpCode(bytesOf(first.secret), clock.t)),
      false,
    );
    // A pending secret verifies nothing.
    assertEquals(
      await twoFactor.verify(alice.id, totpCode(bytesOf(second.secret), clock.t)),
      false,
    );
    assertEquals(await twoFactor.state(alice.id), "pending");

    const secret = bytesOf(second.secret);
    assertEquals(
      await twoFactor.confirm(
        alice.id,
        "000000" === totpCode(secret, clock.t) ? "111111" : "000000",
      ),
      false,
    );
    assertEquals(await twoFactor.confirm(alice.id, totpCode(secret, clock.t - 30_000)), true);
    assertEquals(await twoFactor.state(alice.id), "on");
    await assertRejects(() => twoFactor.begin(alice.id, LABEL), ConflictError, "on already");
    await assertRejects(
      () => twoFactor.confirm(alice.id, totpCode(secret, clock.t)),
      ConflictError,
      "on already",
    );

    // verify: a code once, never again, nor an earlier step's (RFC 6238 §5.2).
    assertEquals(await twoFactor.verify(alice.id, totpCode(secret, clock.t - 30_000)), false);
    assertEquals(await twoFactor.verify(alice.id, totpCode(secret, clock.t)), true);
    assertEquals(await twoFactor.verify(alice.id, totpCode(secret, clock.t)), false);
    clock.t += 30_000;
    assertEquals(await twoFactor.verify(alice.id, "12345"), false);
    assertEquals(await twoFactor.verify(alice.id, totpCode(secret, clock.t)), true);

    // The secret is sealed, bound to alice's row.
    const [row] = await store.sql<{ totp_secret: Uint8Array }[]>`
      select totp_secret from accounts where id = ${alice.id}`;
    assert(!new TextDecoder("latin1").decode(row!.totp_secret).includes(second.secret));
    assertEquals(row!.totp_secret.length > 20, true);

    assertEquals(await twoFactor.disable(alice.id), "on");
    assertEquals(await twoFactor.state(alice.id), "off");
    assertEquals(await twoFactor.verify(alice.id, totpCode(secret, clock.t + 30_000)), false);
    assertEquals(await twoFactor.disable(alice.id), "off");
    await assertRejects(() => twoFactor.state(999999), NotFoundError);
    await assertRejects(() => twoFactor.disable(999999), NotFoundError);
    await assertRejects(() => twoFactor.begin(999999, LABEL), Error);
  });
});

Deno.test("a TOTP secret moved to another account's row does not open", async () => {
  await withStore(async ({ store }) => {
    const alice = await store.accounts.create({
      address: "alice@example.org",
      password: GOOD_PASSWORD,
    });
    const bob = await store.accounts.create({
      address: "bob@example.org",
      password: GOOD_PASSWORD,
    });
    const clock = { t: Date.parse("2026-11-28T04:00:00Z") };
    const twoFactor = new TwoFactor(store.sql, store.vault, () => clock.t);
    const { secret } = await twoFactor.begin(alice.id, LABEL);
    await twoFactor.begin(bob.id, { ...LABEL, account: "bob@example.org" });
    await store
      .sql`update accounts set totp_secret = (select totp_secret from accounts where id = ${alice.id})
                    where id = ${bob.id}`;
    await assertRejects(() => twoFactor.confirm(bob.id, totpCode(bytesOf(secret), clock.t)));
  });
});
