import { assertEquals, assertRejects } from "../../../tests/assert.ts";
import { GOOD_PASSWORD, withStore } from "../../../tests/store.ts";
import type { LoginContext, SignedIn } from "../login.ts";
import { bytes, failures, services, show } from "./_test_support.ts";
import { parsePlainMessage, PlainMechanism } from "./plain.ts";

const CONTEXT = { protocol: "smtp", ip: "192.0.2.7" };

/** A checkLogin that records its calls and knows one password. */
function fakeLogin() {
  const calls: string[] = [];
  const login = {
    checkLogin: (user: string, password: string, context: LoginContext) => {
      calls.push(`${user} ${password} ${context.protocol}`);
      const account: SignedIn = { id: 1, address: "alice@example.org", isAdmin: false };
      return Promise.resolve(password === "right" ? account : null);
    },
  };
  return { calls, login };
}

Deno.test("PLAIN: the right password signs in, with or without an initial response", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const { sasl, lines } = services(store);
    const message = bytes(`\0alice@example.org\0${GOOD_PASSWORD}`);

    const withInitial = sasl.create("PLAIN", CONTEXT)!;
    assertEquals(show(await withInitial.start(message)), {
      kind: "success",
      address: "alice@example.org",
    });

    const without = sasl.create("plain", CONTEXT)!;
    assertEquals(show(await without.start(null)), { kind: "challenge", text: "" });
    assertEquals(show(await without.next(message)), {
      kind: "success",
      address: "alice@example.org",
    });
    assertEquals(lines.length, 2);
    assertEquals(lines.every((l) => l.includes("auth succeeded protocol=smtp")), true);
  });
});

Deno.test("PLAIN: a wrong password fails and is counted through Login", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const { sasl, lines, sleeps } = services(store);
    const mechanism = sasl.create("PLAIN", CONTEXT)!;
    const step = await mechanism.start(bytes("\0alice@example.org\0wrong password"));
    assertEquals(show(step), { kind: "failure", reason: "bad-credentials" });
    assertEquals(await failures(store), ["alice@example.org bad-password"]);
    assertEquals(sleeps, [0]);
    assertEquals(lines.length, 1);
    // An empty password is a wrong password, not a syntax error: it counts too.
    const empty = sasl.create("PLAIN", CONTEXT)!;
    assertEquals(show(await empty.start(bytes("\0alice@example.org\0"))), {
      kind: "failure",
      reason: "bad-credentials",
    });
    assertEquals(await failures(store), [
      "alice@example.org bad-password",
      "alice@example.org bad-password",
    ]);
  });
});

Deno.test("PLAIN: an authzid naming the user itself is accepted, any other refused", async () => {
  const { calls, login } = fakeLogin();
  const self = new PlainMechanism(login, CONTEXT);
  assertEquals(show(await self.start(bytes("Alice@Example.ORG\0alice@example.org\0right"))), {
    kind: "success",
    address: "alice@example.org",
  });
  const other = new PlainMechanism(login, CONTEXT);
  assertEquals(show(await other.start(bytes("bob@example.org\0alice@example.org\0right"))), {
    kind: "failure",
    reason: "authzid",
  });
  assertEquals(calls, ["alice@example.org right smtp"], "the password is not looked at");
});

Deno.test("PLAIN: malformed messages fail without a password check", async () => {
  const long = "x".repeat(1025);
  const cases: [string, Uint8Array][] = [
    ["no NUL", bytes("alice@example.org right")],
    ["one NUL", bytes("alice@example.org\0right")],
    ["three NULs", bytes("\0alice@example.org\0right\0")],
    ["empty authcid", bytes("\0\0right")],
    ["bad UTF-8", Uint8Array.of(0, 0x61, 0xc3, 0x28, 0, 0x72)],
    ["long authcid", bytes(`\0${long}\0right`)],
    ["long password", bytes(`\0alice@example.org\0${long}`)],
    ["long authzid", bytes(`${long}\0alice@example.org\0right`)],
    ["empty response to the challenge", new Uint8Array(0)],
  ];
  for (const [name, message] of cases) {
    const { calls, login } = fakeLogin();
    const mechanism = new PlainMechanism(login, CONTEXT);
    await mechanism.start(null);
    assertEquals(show(await mechanism.next(message)), {
      kind: "failure",
      reason: "malformed",
    }, name);
    assertEquals(calls, [], name);
  }
  const max = "x".repeat(1024);
  assertEquals(parsePlainMessage(bytes(`${max}\0${max}\0${max}`)), {
    authzid: max,
    authcid: max,
    password: max,
  });
  assertEquals(parsePlainMessage(bytes("\0ü@example.org\0pässword")), {
    authzid: "",
    authcid: "ü@example.org",
    password: "pässword",
  });
});

Deno.test("PLAIN: calls after the end are a bug", async () => {
  const { login } = fakeLogin();
  const mechanism = new PlainMechanism(login, CONTEXT);
  await mechanism.start(bytes("\0a\0right"));
  await assertRejects(() => mechanism.next(bytes("\0a\0right")), Error, "has ended");
  await assertRejects(() => mechanism.start(null), Error, "has ended");
  const fresh = new PlainMechanism(login, CONTEXT);
  await assertRejects(() => fresh.next(bytes("\0a\0right")), Error, "not begun");
});
