/**
 * `fumi domain dns` and `fumi domain check` against a real DNS server (Knot on loopback): a
 * domain whose zone is exactly what `fumi domain dns` printed checks clean; a domain published
 * with the usual mistakes (MX elsewhere, two SPF records, someone else's DKIM key, no DMARC, no
 * TLS-RPT, no PTR) gets each named, and the command fails.
 *
 * Ignored without Knot.
 *
 * @module
 */

import { assertEquals, assertMatch } from "./assert.ts";
import { assertFails, assertOk, fumi, withCommandDatabase } from "./cli.ts";
import { startDnsServer } from "./dns_server.ts";

const HOST = "mail.good.test";
const missing = (await Deno.stat("/usr/sbin/knotd").catch(() => null)) === null;

/** The zone-file lines of `fumi domain dns` (comments dropped), with our address filled in. */
function zoneOf(printed: readonly string[]): string[] {
  return printed
    .map((line) => line.trim())
    .filter((line) => /^\S+\.\s+(A|CNAME|MX|TXT)\s/.test(line))
    .map((line) => line.replace(/\s+;.*$/, "").replace("192.0.2.1", "127.0.0.1"));
}

const soa = (origin: string) =>
  `@ SOA ns.${origin}. hostmaster.${origin}. 1 3600 600 86400 60\n@ NS ns.${origin}.\nns A 127.0.0.1`;

Deno.test({
  name: "domain dns prints the records; domain check passes them and names each mistake",
  ignore: missing,
  fn: async () => {
    await withCommandDatabase("fumi-domain-check-", async (env, _store, tmp) => {
      const base = { ...env, FUMI_HOSTNAME: HOST };
      assertOk(await fumi(["domain", "add", "good.test"], { env: base }));
      assertOk(await fumi(["domain", "add", "bad.test"], { env: base }));
      const printed = assertOk(await fumi(["domain", "dns", "good.test"], { env: base }));
      const good = zoneOf(printed);
      // A, MX, SPF, two DKIM keys, DMARC, MTA-STS (TXT and the policy host), TLS-RPT; the PTR
      // is a comment, for the hosting provider.
      assertEquals(good.map((l) => l.split(/\s+/)[1]), [
        "A",
        "MX",
        "TXT",
        "TXT",
        "TXT",
        "TXT",
        "TXT",
        "CNAME",
        "TXT",
      ]);
      assertMatch(good.join("\n"), /^_mta-sts\.good\.test\. +TXT +"v=STSv1; id=[0-9a-f]{20}"$/m);
      assertMatch(printed.join("\n"), /; PTR of the server's address → mail\.good\.test\./);
      const bad = zoneOf(assertOk(await fumi(["domain", "dns", "bad.test"], { env: base })));
      const goodKeys = good.filter((l) => l.includes("._domainkey."));
      const badZone = [
        "bad.test. MX 10 mx.elsewhere.test.",
        'bad.test. TXT "v=spf1 mx -all"',
        'bad.test. TXT "v=spf1 a -all"',
        // An id of an older policy: senders would keep what they cached.
        '_mta-sts.bad.test. TXT "v=STSv1; id=20250101"',
        // An address instead of the CNAME: as good, when it is this server's.
        "mta-sts.bad.test. A 127.0.0.1",
        // bad.test's selectors, good.test's keys: not the keys Fumi signs bad.test's mail with.
        ...goodKeys.map((l) => l.replace(/\._domainkey\.good\.test\./, "._domainkey.bad.test.")),
      ];
      assertEquals(bad.length, 9);
      const dns = await startDnsServer({
        "good.test": `${soa("good.test")}\n${good.join("\n")}`,
        "bad.test": `${soa("bad.test")}\n${badZone.join("\n")}`,
        "0.0.127.in-addr.arpa": `${soa("0.0.127.in-addr.arpa")}\n1 PTR ${HOST}.`,
      });
      try {
        const config = `${tmp}/fumi.toml`;
        await Deno.writeTextFile(
          config,
          `[dns]\nnameservers = ["${dns.address}:${dns.port}"]\ntimeout = "2s"\nattempts = 1\n`,
        );
        const withDns = { ...base, FUMI_CONFIG: config };
        const clean = assertOk(await fumi(["domain", "check", "good.test"], { env: withDns }));
        assertEquals(clean.filter((l) => !l.startsWith("ok ")), [
          "All records needed for mail are published.",
        ]);
        // A, PTR, MX, SPF, 2 DKIM, DMARC, MTA-STS TXT and host, TLS-RPT, and the summary.
        assertEquals(clean.length, 11);

        const result = await fumi(["domain", "check", "bad.test"], { env: withDns });
        assertFails(result, 1, "records are missing or wrong; see: fumi domain dns bad.test");
        const lines = result.out.join("\n");
        assertMatch(lines, /^ok +A mail\.good\.test +127\.0\.0\.1$/m);
        assertMatch(lines, /^ok +PTR /m);
        assertMatch(
          lines,
          /^WRONG +MX bad\.test +the MX names mx\.elsewhere\.test, not mail\.good\.test$/m,
        );
        assertMatch(lines, /^ +want: 10 mail\.good\.test\.$/m);
        assertMatch(lines, /^WRONG +TXT bad\.test +2 SPF records; there must be one$/m);
        assertEquals(
          lines.match(
            /^WRONG +TXT fumi-(rsa|ed)-\S+\._domainkey\.bad\.test +the published key is not Fumi's key$/gm,
          )?.length,
          2,
        );
        assertMatch(lines, /^MISSING +TXT _dmarc\.bad\.test +no DMARC record$/m);
        assertMatch(lines, /^warning +TXT _smtp\._tls\.bad\.test +no TLS-RPT record$/m);
        assertMatch(
          lines,
          /^warning +TXT _mta-sts\.bad\.test +id=20250101, but the policy served now has id=[0-9a-f]{20}$/m,
        );
        assertMatch(lines, /^ok +CNAME mta-sts\.bad\.test/m);
      } finally {
        await dns.stop();
      }
    });
  },
});
