/**
 * The AD bit end to end, for DANE (RFC 7672 §2.1): Knot DNS signs a zone, Unbound on loopback
 * validates it against the zone's DS as its trust anchor, and our resolver reads
 * `authenticated` from Unbound's answers. An unsigned zone comes back unauthenticated, and a
 * zone whose signatures do not match its trust anchor (bogus) is a temporary failure, which
 * is what RFC 7672 §2.1.1 asks of a sender.
 *
 * @module
 */

import { StubResolver } from "../src/dns/mod.ts";
import { assertEquals } from "./assert.ts";
import { startDnsServer, startValidatingResolver } from "./dns_server.ts";

const SOA =
  "@ SOA ns.signed.test. hostmaster.signed.test. 1 3600 600 86400 60\n@ NS ns.signed.test.";
const HOST = `mx1 A 192.0.2.1
_25._tcp.mx1 TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef`;

Deno.test("dnssec: Unbound validates knot's signed zone; the AD bit reaches Lookup.authenticated", async (t) => {
  const knot = await startDnsServer(
    {
      "signed.test": `${SOA}\nns A 127.0.0.1\n${HOST}`,
      "plain.test": `${SOA}\n${HOST}`,
      "bogus.test": `${SOA}\n${HOST}`,
    },
    { signed: ["signed.test", "bogus.test"] },
  );
  try {
    // bogus.test is signed with its own keys but trusted under signed.test's DS: its
    // signatures cannot validate.
    const anchor = await knot.ds("signed.test");
    const wrong = anchor.replace(/^signed\.test\./, "bogus.test.");
    const unbound = await startValidatingResolver(knot, [anchor, wrong]);
    const resolver = new StubResolver({
      nameservers: [{ address: unbound.address, port: unbound.port }],
      timeoutMs: 3000,
      attempts: 1,
    });
    try {
      await t.step("a signed TLSA answer is authenticated when DNSSEC is asked for", async () => {
        const tlsa = await resolver.lookup("_25._tcp.mx1.signed.test", "TLSA", { dnssec: true });
        assertEquals([tlsa.status, tlsa.authenticated], ["ok", true]);
        assertEquals(tlsa.records.map((r) => r.usage), [3]);
      });
      await t.step("a signed negative answer is authenticated too", async () => {
        const nx = await resolver.lookup("nosuch.signed.test", "A", { dnssec: true });
        assertEquals([nx.status, nx.authenticated], ["nxdomain", true]);
      });
      await t.step("an unsigned zone answers, unauthenticated", async () => {
        const tlsa = await resolver.lookup("_25._tcp.mx1.plain.test", "TLSA", { dnssec: true });
        assertEquals([tlsa.status, tlsa.authenticated], ["ok", false]);
      });
      await t.step("a bogus zone is a temporary failure, never an answer", async () => {
        const tlsa = await resolver.lookup("_25._tcp.mx1.bogus.test", "TLSA", { dnssec: true });
        assertEquals([tlsa.status, tlsa.rcode, tlsa.records.length], ["temperror", "SERVFAIL", 0]);
      });
    } catch (error) {
      throw new Error(
        `${error}\nunbound said:\n${unbound.output()}\nknotd said:\n${knot.output()}`,
        {
          cause: error,
        },
      );
    } finally {
      await unbound.stop();
    }
  } finally {
    await knot.stop();
  }
});
