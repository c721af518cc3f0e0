import { assertEquals, assertRejects, assertStringIncludes } from "../../tests/assert.ts";
import { decodeBase64 } from "../util/base64.ts";
import { AcmeClient, AcmeError, type FetchLike, parseRetryAfter } from "./client.ts";
import { generateAccountKey, importAccountKey } from "./jws.ts";

const BASE = "https://ca.example";
const DIRECTORY = {
  newNonce: `${BASE}/nonce`,
  newAccount: `${BASE}/account`,
  newOrder: `${BASE}/order`,
  meta: { termsOfService: `${BASE}/tos` },
};

interface Seen {
  method: string;
  url: string;
  nonce: string | null;
  payload: unknown;
}

function decodePart(text: string): unknown {
  if (text === "") return null;
  const padded = text.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = decodeBase64(padded + "=".repeat((4 - padded.length % 4) % 4))!;
  return JSON.parse(new TextDecoder().decode(bytes));
}

/**
 * A scripted CA: `routes` answers by method and URL; every answer to HEAD and POST carries a
 * fresh nonce.
 * Records what the client sent.
 */
function fakeCa(
  routes: Record<string, (seen: Seen) => Response>,
): { fetch: FetchLike; seen: Seen[] } {
  const seen: Seen[] = [];
  let counter = 0;
  const fetch: FetchLike = async (url, init) => {
    const method = init.method ?? "GET";
    let nonce: string | null = null;
    let payload: unknown = null;
    if (typeof init.body === "string") {
      const jws = JSON.parse(init.body) as { protected: string; payload: string };
      nonce = (decodePart(jws.protected) as { nonce: string }).nonce;
      payload = decodePart(jws.payload);
    }
    const entry = { method, url, nonce, payload };
    seen.push(entry);
    const route = routes[`${method} ${url}`] ??
      (method === "GET" && url === `${BASE}/dir` ? () => Response.json(DIRECTORY) : undefined) ??
      (method === "HEAD" && url === DIRECTORY.newNonce
        ? () => new Response(null, { status: 200 })
        : undefined);
    const response = route ? route(entry) : new Response("no route", { status: 404 });
    if (method !== "GET") response.headers.set("replay-nonce", `nonce${++counter}`);
    return await Promise.resolve(response);
  };
  return { fetch, seen };
}

function problem(type: string, detail: string, status = 400): Response {
  return Response.json({ type: `urn:ietf:params:acme:error:${type}`, detail, status }, {
    status,
    headers: { "content-type": "application/problem+json" },
  });
}

async function client(fetch: FetchLike, sleep?: (ms: number) => Promise<void>) {
  return new AcmeClient({
    directoryUrl: `${BASE}/dir`,
    accountKey: await importAccountKey(await generateAccountKey()),
    fetch,
    ...(sleep ? { sleep } : {}),
    pollTimeoutMs: 10_000,
  });
}

function accountCreated(): Response {
  return Response.json({ status: "valid", contact: [] }, {
    status: 201,
    headers: { location: `${BASE}/acct/1` },
  });
}

Deno.test("a badNonce refusal is retried with the nonce the refusal carried (RFC 8555 §6.5)", async () => {
  let refusals = 2;
  const ca = fakeCa({
    [`POST ${DIRECTORY.newAccount}`]: () =>
      refusals-- > 0 ? problem("badNonce", "stale nonce") : accountCreated(),
  });
  const acme = await client(ca.fetch);
  const account = await acme.account({ contact: [], termsOfServiceAgreed: true });
  assertEquals(account, { url: `${BASE}/acct/1`, created: true, contact: [] });
  const posts = ca.seen.filter((s) => s.method === "POST");
  assertEquals(posts.length, 3);
  // The first nonce came from newNonce; each retry used the nonce of the refusal before it.
  const heads = ca.seen.filter((s) => s.method === "HEAD").length;
  assertEquals(heads, 1);
  assertEquals(new Set(posts.map((p) => p.nonce)).size, 3);
  assertEquals(posts[0]!.payload, { termsOfServiceAgreed: true, contact: [] });
});

Deno.test("a server that keeps refusing nonces makes the request fail after five retries", async () => {
  const ca = fakeCa({ [`POST ${DIRECTORY.newAccount}`]: () => problem("badNonce", "stale") });
  const acme = await client(ca.fetch);
  const error = await assertRejects(
    () => acme.account({ contact: [], termsOfServiceAgreed: true }),
    AcmeError,
    "Cannot register the ACME account: stale (badNonce)",
  );
  assertEquals(error.problemType, "urn:ietf:params:acme:error:badNonce");
  assertEquals(ca.seen.filter((s) => s.method === "POST").length, 6);
});

Deno.test("problem documents become AcmeErrors that say whether to retry", async () => {
  const cases: [string, number, boolean][] = [
    ["rateLimited", 429, true],
    ["serverInternal", 500, true],
    ["rejectedIdentifier", 400, false],
    ["unauthorized", 403, false],
  ];
  for (const [type, status, temporary] of cases) {
    const ca = fakeCa({
      [`POST ${DIRECTORY.newAccount}`]: accountCreated,
      [`POST ${DIRECTORY.newOrder}`]: () => problem(type, `no ${type}`, status),
    });
    const acme = await client(ca.fetch);
    await acme.account({ contact: [], termsOfServiceAgreed: true });
    const error = await assertRejects(
      () => acme.newOrder([{ type: "dns", value: "mail.example.org" }]),
      AcmeError,
      `The ACME server refused the order: no ${type} (${type})`,
    );
    assertEquals([error.status, error.temporary], [status, temporary], type);
  }
});

Deno.test("URLs that are not https are refused, from the administrator and from the server", async () => {
  const key = await importAccountKey(await generateAccountKey());
  const error = (() => {
    try {
      new AcmeClient({ directoryUrl: "http://ca.example/dir", accountKey: key });
    } catch (e) {
      return e as AcmeError;
    }
    throw new Error("not refused");
  })();
  assertStringIncludes(
    error.message,
    'The ACME directory URL "http://ca.example/dir" is not https',
  );

  const ca = fakeCa({
    [`POST ${DIRECTORY.newAccount}`]: accountCreated,
    [`POST ${DIRECTORY.newOrder}`]: () =>
      Response.json({
        status: "pending",
        identifiers: [],
        authorizations: ["http://ca.example/authz/1"],
        finalize: `${BASE}/finalize/1`,
      }, { status: 201, headers: { location: `${BASE}/order/1` } }),
  });
  const acme = await client(ca.fetch);
  await acme.account({ contact: [], termsOfServiceAgreed: true });
  await assertRejects(
    () => acme.newOrder([{ type: "dns", value: "a.example" }]),
    AcmeError,
    'The ACME authorization URL "http://ca.example/authz/1" is not https',
  );
});

Deno.test("answers are bounded: size, shape, time", async () => {
  const huge = fakeCa({ [`GET ${BASE}/dir`]: () => new Response("x".repeat(300 * 1024)) });
  await assertRejects(
    async () => await (await client(huge.fetch)).directory(),
    AcmeError,
    "is larger than 262144 bytes",
  );
  const shapeless = fakeCa({ [`GET ${BASE}/dir`]: () => Response.json({ newNonce: 1 }) });
  await assertRejects(
    async () => await (await client(shapeless.fetch)).directory(),
    AcmeError,
    "The ACME server sent an invalid directory",
  );
  const silent: FetchLike = (_url, init) =>
    new Promise((_resolve, reject) => {
      init.signal!.addEventListener(
        "abort",
        () => reject(new DOMException("aborted", "AbortError")),
      );
    });
  const slow = new AcmeClient({
    directoryUrl: `${BASE}/dir`,
    accountKey: await importAccountKey(await generateAccountKey()),
    fetch: silent,
    requestTimeoutMs: 50,
  });
  await assertRejects(
    () => slow.directory(),
    AcmeError,
    "Cannot reach the ACME server at https://ca.example: no answer in 0.05 s",
  );
});

Deno.test("polling honours Retry-After and gives up at the deadline", async () => {
  let polls = 0;
  const authorization = (status: string) =>
    Response.json({
      identifier: { type: "dns", value: "a.example" },
      status,
      challenges: [],
    }, { headers: { "retry-after": "3" } });
  const ca = fakeCa({
    [`POST ${DIRECTORY.newAccount}`]: accountCreated,
    [`POST ${BASE}/authz/1`]: () => authorization(++polls < 3 ? "pending" : "valid"),
    [`POST ${BASE}/authz/2`]: () => authorization("pending"),
  });
  const waits: number[] = [];
  const acme = await client(ca.fetch, (ms) => {
    waits.push(ms);
    return Promise.resolve();
  });
  await acme.account({ contact: [], termsOfServiceAgreed: true });
  const done = await acme.waitForAuthorization(`${BASE}/authz/1`);
  assertEquals(done.status, "valid");
  assertEquals(waits, [3000, 3000]);
  // POST-as-GET: an empty payload.
  assertEquals(ca.seen.filter((s) => s.url === `${BASE}/authz/1`).map((s) => s.payload), [
    null,
    null,
    null,
  ]);

  const stuck = new AcmeClient({
    directoryUrl: `${BASE}/dir`,
    accountKey: acme.accountKey,
    fetch: ca.fetch,
    sleep: () => new Promise((resolve) => setTimeout(resolve, 5)),
    pollTimeoutMs: 2_000,
  });
  await stuck.account({ contact: [], termsOfServiceAgreed: true });
  await assertRejects(
    () => stuck.waitForAuthorization(`${BASE}/authz/2`),
    AcmeError,
    "The authorization is still pending after 2 s",
  );
});

Deno.test("Retry-After: seconds or an HTTP date", () => {
  const now = new Date("2026-11-27T12:00:00Z");
  assertEquals(parseRetryAfter(null, now), null);
  assertEquals(parseRetryAfter("120", now), 120_000);
  assertEquals(parseRetryAfter("Fri, 27 Nov 2026 12:00:30 GMT", now), 30_000);
  assertEquals(parseRetryAfter("Fri, 27 Nov 2026 11:00:00 GMT", now), 0);
  assertEquals(parseRetryAfter("soon", now), null);
});
