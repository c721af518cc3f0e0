import { assertEquals } from "../../tests/assert.ts";
import { withStore } from "../../tests/store.ts";
import { CHALLENGE_PREFIX, http01Handler, storedChallenges } from "./http01.ts";
import { putChallenge, removeChallenges } from "./state.ts";

const TOKEN = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
const KEY_AUTHORIZATION = `${TOKEN}.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI`;

function request(path: string, method = "GET"): Request {
  return new Request(`http://mail.example.org${path}`, { method });
}

Deno.test("HTTP-01: a stored key authorization is served to any node's listener (RFC 8555 §8.3)", async () => {
  await withStore(async ({ store, db }) => {
    await putChallenge(store.sql, TOKEN, KEY_AUTHORIZATION, 3600);
    // Another node: another connection pool on the same database.
    const handler = http01Handler(storedChallenges(db.connectAgain()));
    const response = (await handler(request(`${CHALLENGE_PREFIX}${TOKEN}`)))!;
    assertEquals(response.status, 200);
    assertEquals(await response.text(), KEY_AUTHORIZATION);
    assertEquals(response.headers.get("content-type"), "application/octet-stream");
    assertEquals(response.headers.get("cache-control"), "no-store");
    const head = (await handler(request(`${CHALLENGE_PREFIX}${TOKEN}`, "HEAD")))!;
    assertEquals([head.status, await head.text()], [200, ""]);

    await removeChallenges(store.sql, [TOKEN]);
    const gone = (await handler(request(`${CHALLENGE_PREFIX}${TOKEN}`)))!;
    assertEquals([gone.status, await gone.text()], [404, "Not found\n"]);
  });
});

Deno.test("HTTP-01: expired tokens are not served, and are swept by the next removal", async () => {
  await withStore(async ({ store }) => {
    const other = "A".repeat(43);
    await putChallenge(store.sql, TOKEN, KEY_AUTHORIZATION, -1);
    await putChallenge(store.sql, other, `${other}.x`, 3600);
    const handler = http01Handler(storedChallenges(store.sql));
    assertEquals((await handler(request(`${CHALLENGE_PREFIX}${TOKEN}`)))!.status, 404);
    await removeChallenges(store.sql, []);
    const rows = await store.sql<{ token: string }[]>`select token from acme_challenges`;
    assertEquals(rows.map((r) => r.token), [other]);
  });
});

Deno.test("HTTP-01: other paths are left to the listener; odd tokens and methods never reach the database", async () => {
  const looked: string[] = [];
  const handler = http01Handler((token) => {
    looked.push(token);
    return Promise.resolve(token === TOKEN ? KEY_AUTHORIZATION : null);
  });
  for (const path of ["/healthz", "/", "/.well-known/acme-challenge", "/.well-known/mta-sts.txt"]) {
    assertEquals(await handler(request(path)), null, path);
  }
  const refused = [
    `${CHALLENGE_PREFIX}`,
    `${CHALLENGE_PREFIX}short`,
    `${CHALLENGE_PREFIX}${TOKEN}/extra`,
    `${CHALLENGE_PREFIX}..%2F..%2Fetc%2Fpasswd-aaaaaaaaaaaaaaaa`,
    `${CHALLENGE_PREFIX}${TOKEN}.sig`,
    `${CHALLENGE_PREFIX}${"a".repeat(257)}`,
  ];
  for (const path of refused) {
    const response = (await handler(request(path)))!;
    assertEquals([response.status, await response.text()], [404, "Not found\n"], path);
  }
  assertEquals(looked, []);
  for (const method of ["POST", "PUT", "DELETE"]) {
    const response = (await handler(request(`${CHALLENGE_PREFIX}${TOKEN}`, method)))!;
    assertEquals([response.status, response.headers.get("allow")], [405, "GET, HEAD"], method);
    await response.body?.cancel();
  }
  assertEquals(looked, []);
  const ok = (await handler(request(`${CHALLENGE_PREFIX}${TOKEN}`)))!;
  assertEquals(await ok.text(), KEY_AUTHORIZATION);
  assertEquals(looked, [TOKEN]);
});
