import { assertEquals, assertRejects } from "../../../tests/assert.ts";
import { GOOD_PASSWORD, withStore } from "../../../tests/store.ts";
import { bytes, failures, services, show } from "./_test_support.ts";
import { LoginMechanism } from "./login.ts";

const CONTEXT = { protocol: "smtp", ip: "192.0.2.7" };

Deno.test("LOGIN: Username:, Password:, signed in; the name may come as the initial response", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const { sasl } = services(store);

    const plainFlow = sasl.create("LOGIN", CONTEXT)!;
    assertEquals(show(await plainFlow.start(null)), { kind: "challenge", text: "Username:" });
    assertEquals(show(await plainFlow.next(bytes("alice@example.org"))), {
      kind: "challenge",
      text: "Password:",
    });
    assertEquals(show(await plainFlow.next(bytes(GOOD_PASSWORD))), {
      kind: "success",
      address: "alice@example.org",
    });

    const initial = sasl.create("LOGIN", CONTEXT)!;
    assertEquals(show(await initial.start(bytes("Alice@example.org"))), {
      kind: "challenge",
      text: "Password:",
    });
    assertEquals(show(await initial.next(bytes(GOOD_PASSWORD))), {
      kind: "success",
      address: "alice@example.org",
    });
    await assertRejects(() => initial.next(bytes("again")), Error, "has ended");
  });
});

Deno.test("LOGIN: a wrong password fails and is counted; a malformed answer is not", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const { sasl, lines, sleeps } = services(store);
    const wrong = sasl.create("LOGIN", CONTEXT)!;
    await wrong.start(bytes("alice@example.org"));
    assertEquals(show(await wrong.next(bytes("wrong password"))), {
      kind: "failure",
      reason: "bad-credentials",
    });
    assertEquals(await failures(store), ["alice@example.org bad-password"]);
    assertEquals(sleeps, [0]);
    assertEquals(lines.length, 1);

    const cases: [string, Uint8Array | null, Uint8Array][] = [
      ["empty user name", null, new Uint8Array(0)],
      ["user name not UTF-8", null, Uint8Array.of(0xff)],
      ["user name too long", null, bytes("a".repeat(1025))],
      ["password not UTF-8", bytes("alice@example.org"), Uint8Array.of(0xc3, 0x28)],
      ["password too long", bytes("alice@example.org"), bytes("p".repeat(1025))],
    ];
    for (const [name, initial, answer] of cases) {
      const mechanism = new LoginMechanism(
        { checkLogin: () => Promise.reject(new Error("not reached")) },
        CONTEXT,
      );
      await mechanism.start(initial);
      assertEquals(show(await mechanism.next(answer)), {
        kind: "failure",
        reason: "malformed",
      }, name);
    }
    assertEquals((await failures(store)).length, 1);
  });
});
