import { assertEquals, assertMatch } from "../../tests/assert.ts";
import { parsePolicy } from "./parse.ts";
import { policyId, policyRecord, policyResponse, policyText } from "./publish.ts";

const POLICY = { mode: "enforce" as const, mx: ["mail.example.org"], maxAge: 86400 };

Deno.test("our policy parses as a policy (RFC 8461 §3.2), and its id follows its text", async () => {
  const text = policyText(POLICY);
  assertEquals(
    text,
    "version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmax_age: 86400\r\n",
  );
  assertEquals(parsePolicy(text), { ok: true, value: POLICY });
  const id = await policyId(text);
  assertMatch(id, /^[0-9a-f]{20}$/); // §3.1: 1*32 alphanumeric
  assertEquals(await policyId(text), id);
  assertEquals(await policyRecord(text), `v=STSv1; id=${id}`);
  const testing = policyText({ ...POLICY, mode: "testing" });
  assertEquals((await policyId(testing)) === id, false);
});

Deno.test("the policy is served at mta-sts.<hosted domain> only, as text/plain (RFC 8461 §3.3)", async () => {
  const text = policyText(POLICY);
  const hosts = (domain: string) => Promise.resolve(domain === "example.org");
  const get = (url: string, method = "GET") =>
    policyResponse(new Request(url, { method }), hosts, text);
  const served = await get("https://mta-sts.example.org/.well-known/mta-sts.txt");
  assertEquals(served?.status, 200);
  assertEquals(served?.headers.get("content-type"), "text/plain; charset=utf-8");
  assertEquals(await served?.text(), text);
  assertEquals((await get("https://MTA-STS.Example.ORG./.well-known/mta-sts.txt"))?.status, 200);
  assertEquals((await get("https://mta-sts.other.example/.well-known/mta-sts.txt"))?.status, 404);
  assertEquals(
    (await get("https://mta-sts.example.org/.well-known/mta-sts.txt", "POST"))?.status,
    405,
  );
  // Not the policy's name or path: someone else's request.
  assertEquals(await get("https://mail.example.org/.well-known/mta-sts.txt"), null);
  assertEquals(await get("https://mta-sts.example.org/"), null);
});
