import { assert, assertEquals } from "../../tests/assert.ts";
import { makeTestPki } from "../../tests/tls.ts";
import { FakeResolver } from "../dns/mod.ts";
import { type FetchResult, httpsPolicyFetcher } from "./fetch.ts";

const POLICY = "version: STSv1\nmode: enforce\nmx: mx.example.net\nmax_age: 86400\n";

/**
 * An HTTPS server on 127.0.0.1 with a test-CA certificate for mta-sts.example.net; the path
 * decides what it answers, and the fetcher is pointed at a path by the domain's first label.
 */
Deno.test("policy fetch over HTTPS: our resolver's address, the name's certificate, and every limit (RFC 8461 §3.3)", async () => {
  const pki = await makeTestPki();
  const names = ["ok", "redirect", "html", "big", "missing", "slow", "wrongcert"];
  const leaf = await pki.issue(
    names.filter((n) => n !== "wrongcert").map((n) => `mta-sts.${n}.example`),
  );
  const hosts: string[] = [];
  const abort = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: leaf.certPem,
    key: leaf.keyPem,
    signal: abort.signal,
    onListen: () => {},
  }, async (req) => {
    const host = req.headers.get("host") ?? "";
    hosts.push(`${host.split(":")[0]} ${new URL(req.url).pathname}`);
    const text = { headers: { "content-type": "text/plain; charset=utf-8" } };
    switch (host.split(".")[1]) {
      case "ok":
        return new Response(POLICY, text);
      case "redirect":
        return new Response(null, { status: 301, headers: { location: "https://ok.example/" } });
      case "html":
        return new Response(POLICY, { headers: { "content-type": "text/html" } });
      case "big":
        return new Response(POLICY + `x_pad: ${"x".repeat(70_000)}\n`, text);
      case "slow":
        await new Promise((r) => setTimeout(r, 1500));
        return new Response(POLICY, text);
      default:
        return new Response("Not found", { status: 404 });
    }
  });
  try {
    const port = server.addr.port;
    // Every name resolves to 127.0.0.1 by our resolver only; the system knows none of them.
    const resolver = new FakeResolver(
      names.map((n) => ({
        type: "A",
        name: `mta-sts.${n}.example`,
        ttl: 60,
        address: "127.0.0.1",
      })),
    );
    const fetchPolicy = httpsPolicyFetcher({ resolver, ca: [pki.caPem], port, timeoutMs: 1000 });
    const outcome = async (domain: string) => {
      const result: FetchResult = await fetchPolicy(domain);
      return result.ok ? result.policy.mode : result.reason;
    };
    assertEquals(await outcome("ok.example"), "enforce");
    assertEquals(
      hosts,
      ["mta-sts.ok.example /.well-known/mta-sts.txt"],
      "SNI and Host are the name",
    );
    const failures: [string, string][] = [
      ["redirect.example", "HTTP status 301, not 200"],
      ["html.example", `Content type "text/html", not text/plain`],
      ["big.example", "Policy larger than 65536 bytes"],
      ["missing.example", "HTTP status 404, not 200"],
      ["slow.example", "No policy within"],
      ["wrongcert.example", "mta-sts.wrongcert.example"], // not in the certificate's names
      ["nowhere.example", "mta-sts.nowhere.example has no address"],
    ];
    for (const [domain, reason] of failures) {
      const got = await outcome(domain);
      assert(got.includes(reason), `${domain}: ${got}`);
    }
    // A certificate from a CA we do not trust.
    const untrusting = httpsPolicyFetcher({ resolver, port, timeoutMs: 1000 });
    const untrusted = await untrusting("ok.example");
    assert(
      !untrusted.ok && /certificate|issuer/i.test(untrusted.reason),
      JSON.stringify(untrusted),
    );
  } finally {
    abort.abort();
    await server.finished;
    await pki.remove();
  }
});
