import { assert, assertEquals, assertMatch, assertRejects } from "../../../tests/assert.ts";
import { GOOD_PASSWORD, withStore } from "../../../tests/store.ts";
import { deriveScramCredentials, formatScram } from "../../crypto/scram.ts";
import type { Store } from "../../store/mod.ts";
import type { ScramCredentialLookup } from "../scram_login.ts";
import type { SaslStep } from "./_common.ts";
import { bytes, failures, ScramClient, services, show, text } from "./_test_support.ts";
import { decodeSaslName, ScramMechanism } from "./scram.ts";

const CONTEXT = { protocol: "smtp", ip: "192.0.2.7" };

function challengeText(step: SaslStep): string {
  if (step.kind !== "challenge") throw new Error(`Expected a challenge, got ${step.kind}`);
  return text(step.data);
}

/** Runs a whole exchange; returns the last step and what the client expected of it. */
async function exchange(
  store: Store,
  user: string,
  password: string,
  options: { gs2?: string } = {},
) {
  const s = services(store);
  const mechanism = s.sasl.create("SCRAM-SHA-256", CONTEXT)!;
  const client = new ScramClient(user, password, options);
  const serverFirst = challengeText(await mechanism.start(bytes(client.first())));
  const final = await client.final(serverFirst);
  const step = await mechanism.next(bytes(final.message));
  return { ...s, step, serverFirst, final };
}

Deno.test("SCRAM-SHA-256: the right password signs in and the server's signature verifies", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const { step, final, lines, sleeps } = await exchange(
      store,
      "alice@example.org",
      GOOD_PASSWORD,
    );
    assertEquals(show(step), {
      kind: "success",
      address: "alice@example.org",
      text: `v=${final.expectedSignature}`,
    });
    assertEquals(sleeps, []);
    assertEquals(lines.length, 1);
    assertMatch(lines[0]!, /INFO {2}auth succeeded protocol=smtp ip=192\.0\.2\.7 account=alice@/);
    // "y": the client could bind but sees no -PLUS offered (RFC 5802 §6); an authzid naming
    // the user itself is fine.
    for (const gs2 of ["y,,", "n,a=ALICE@example.org,"]) {
      const again = await exchange(store, "alice@example.org", GOOD_PASSWORD, { gs2 });
      assertEquals(again.step.kind, "success", gs2);
    }
  });
});

Deno.test("SCRAM-SHA-256: an empty initial response is answered with an empty challenge", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const { sasl } = services(store);
    const mechanism = sasl.create("scram-sha-256", CONTEXT)!;
    assertEquals(show(await mechanism.start(null)), { kind: "challenge", text: "" });
    const client = new ScramClient("alice@example.org", GOOD_PASSWORD);
    const serverFirst = challengeText(await mechanism.next(bytes(client.first())));
    const final = await client.final(serverFirst);
    const step = await mechanism.next(bytes(final.message));
    assertEquals(step.kind, "success");
    await assertRejects(() => mechanism.next(new Uint8Array(0)), Error, "has ended");
  });
});

Deno.test("SCRAM-SHA-256: a wrong password fails, is recorded and delayed", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const s = services(store, { backoffAfter: 0 });
    const mechanism = s.sasl.create("SCRAM-SHA-256", CONTEXT)!;
    const client = new ScramClient("alice@example.org", "wrong password");
    const final = await client.final(challengeText(await mechanism.start(bytes(client.first()))));
    assertEquals(show(await mechanism.next(bytes(final.message))), {
      kind: "failure",
      reason: "bad-credentials",
    });
    assertEquals(await failures(store), ["alice@example.org bad-password"]);
    assertEquals(s.sleeps, [250], "the delay of the first failure past backoffAfter");
    assertEquals(s.lines, [
      "1970-01-01T00:00:00.000Z WARN  auth failed protocol=smtp ip=192.0.2.7 account=alice@example.org reason=bad-password",
    ]);
  });
});

Deno.test("SCRAM-SHA-256: an unknown user sees a server-first-message shaped like a real one", async () => {
  await withStore(async ({ store }) => {
    await store.accounts.create({ address: "alice@example.org", password: GOOD_PASSWORD });
    const known = await exchange(store, "alice@example.org", GOOD_PASSWORD);
    const unknown = await exchange(store, "nobody@example.org", GOOD_PASSWORD);
    const shape = (serverFirst: string) =>
      serverFirst.replace(/[A-Za-z0-9+/]/g, "x").replace(/r=[^,]*/, "r=…");
    assertEquals(shape(unknown.serverFirst), shape(known.serverFirst));
    assertMatch(unknown.serverFirst, /^r=[^,]{48},s=[A-Za-z0-9+/]{22}==,i=10000$/);
    assertEquals(show(unknown.step), { kind: "failure", reason: "bad-credentials" });
    assertEquals(await failures(store), ["nobody@example.org unknown-account"]);
  });
});

// RFC 7677 §3: the SCRAM-SHA-256 exchange for user "user", password "pencil".
const RFC = {
  clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
  serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
  serverFirst:
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
  clientFinal:
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
  serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
} as const;

/** The RFC's user, stored under a real account's id (auth_successes refers to accounts). */
async function rfcUser(store: Store): Promise<ScramCredentialLookup> {
  const owner = await store.accounts.create({
    address: "owner@example.org",
    password: GOOD_PASSWORD,
  });
  const scram = formatScram(
    await deriveScramCredentials("pencil", {
      iterations: 4096,
      salt: Uint8Array.fromBase64("W22ZaJ0SNY7soEsUEjb6gQ=="),
    }),
  );
  return (account) =>
    Promise.resolve(
      account === "user"
        ? {
          id: owner.id,
          address: "user",
          scram,
          disabled: false,
          isAdmin: false,
          twoFactor: false,
        }
        : null,
    );
}

Deno.test("SCRAM-SHA-256: the RFC 7677 §3 exchange, message for message", async () => {
  await withStore(async ({ store }) => {
    const { scram } = services(store, { credentials: await rfcUser(store) });
    const mechanism = new ScramMechanism(scram, CONTEXT, { nonce: () => RFC.serverNonce });
    assertEquals(show(await mechanism.start(bytes(RFC.clientFirst))), {
      kind: "challenge",
      text: RFC.serverFirst,
    });
    assertEquals(show(await mechanism.next(bytes(RFC.clientFinal))), {
      kind: "success",
      address: "user",
      text: RFC.serverFinal,
    });
  });
});

Deno.test("SCRAM-SHA-256: malformed messages fail as malformed and are not counted", async () => {
  await withStore(async ({ store }) => {
    const { scram, lines } = services(store, { credentials: await rfcUser(store) });
    const withoutProof = RFC.clientFinal.slice(0, RFC.clientFinal.indexOf(",p="));
    const proof = RFC.clientFinal.slice(RFC.clientFinal.indexOf(",p="));
    const firsts: [string, string | Uint8Array][] = [
      ["channel binding asked for", "p=tls-unique,,n=user,r=abc"],
      ["unknown gs2 flag", "x,,n=user,r=abc"],
      ["no gs2 header", "n=user,r=abc"],
      ["bad authzid field", "n,b=user,n=user,r=abc"],
      ["reserved m= extension", "n,,m=ext,n=user,r=abc"],
      ["m= among the extensions", "n,,n=user,r=abc,m=ext"],
      ["bad extension", "n,,n=user,r=abc,12"],
      ["missing nonce", "n,,n=user"],
      ["empty nonce", "n,,n=user,r="],
      ["nonce with a control character", "n,,n=user,r=a\tb"],
      ["empty user name", "n,,n=,r=abc"],
      ["bad saslname escape", "n,,n=us=2Xer,r=abc"],
      ["user name that cannot be prepared", "n,,n=us\u0007er,r=abc"],
      ["user name too long", `n,,n=${"u".repeat(1025)},r=abc`],
      ["not UTF-8", Uint8Array.of(0x6e, 0x2c, 0x2c, 0x6e, 0x3d, 0xff, 0x2c, 0x72, 0x3d, 0x61)],
      ["too big", `n,,n=user,r=abc,x=${"y".repeat(5000)}`],
    ];
    for (const [name, message] of firsts) {
      const mechanism = new ScramMechanism(scram, CONTEXT);
      const step = await mechanism.start(typeof message === "string" ? bytes(message) : message);
      assertEquals(show(step), { kind: "failure", reason: "malformed" }, name);
    }
    const finals: [string, string][] = [
      ["no proof", withoutProof],
      ["proof not base64", `${withoutProof},p=!!!!`],
      ["nonce mismatch", RFC.clientFinal.replace("hNlF$k0", "hNlF$k1")],
      ["nonce missing", `c=biws${proof}`],
      ["binding data of another header", RFC.clientFinal.replace("c=biws", "c=eSws")],
      ["binding not base64", RFC.clientFinal.replace("c=biws", "c=biw")],
      ["attributes out of order", RFC.clientFinal.replace(/^c=biws,(r=[^,]*)/, "$1,c=biws")],
      ["m= extension", `${withoutProof},m=x${proof}`],
    ];
    for (const [name, message] of finals) {
      const mechanism = new ScramMechanism(scram, CONTEXT, { nonce: () => RFC.serverNonce });
      assertEquals((await mechanism.start(bytes(RFC.clientFirst))).kind, "challenge", name);
      assertEquals(show(await mechanism.next(bytes(message))), {
        kind: "failure",
        reason: "malformed",
      }, name);
    }
    // Extensions are skipped; the proof covers them (the RFC's proof no longer matches).
    const extended = new ScramMechanism(scram, CONTEXT, { nonce: () => RFC.serverNonce });
    await extended.start(bytes(RFC.clientFirst));
    assertEquals(show(await extended.next(bytes(`${withoutProof},x=ext${proof}`))), {
      kind: "failure",
      reason: "bad-credentials",
    });
    assertEquals(await failures(store), ["user bad-password"], "only the checked proof counts");
    assertEquals(lines.length, 1);
  });
});

Deno.test("SCRAM-SHA-256: an authzid naming another user is refused before any lookup", async () => {
  await withStore(async ({ store }) => {
    let lookups = 0;
    const { scram } = services(store, {
      credentials: () => {
        lookups++;
        return Promise.resolve(null);
      },
    });
    const mechanism = new ScramMechanism(scram, CONTEXT);
    assertEquals(
      show(await mechanism.start(bytes("n,a=bob@example.org,n=alice@example.org,r=a"))),
      {
        kind: "failure",
        reason: "authzid",
      },
    );
    assertEquals(lookups, 0);
  });
});

Deno.test("SCRAM-SHA-256: a banned client is refused at the first message", async () => {
  await withStore(async ({ store }) => {
    const s = services(store);
    await s.bans.add("192.0.2.0/24");
    const mechanism = s.sasl.create("SCRAM-SHA-256", CONTEXT)!;
    assertEquals(show(await mechanism.start(bytes("n,,n=alice@example.org,r=abc"))), {
      kind: "failure",
      reason: "bad-credentials",
    });
    assertEquals(s.sleeps, [s.bans.policy.maxDelayMs]);
    assertEquals(await failures(store), []);
  });
});

Deno.test("decodeSaslName: =2C and =3D, nothing else after =", () => {
  assertEquals(decodeSaslName("a=2Cb=3Dc"), "a,b=c");
  assertEquals(decodeSaslName("=3D2C"), "=2C");
  for (const bad of ["", "a=", "a=2", "a=2c", "a=41", "="]) {
    assertEquals(decodeSaslName(bad), null, bad);
  }
  assert(decodeSaslName("é".repeat(512)) !== null);
  assertEquals(decodeSaslName("é".repeat(513)), null, "over 1 KiB of UTF-8");
});
