/**
 * MTA-STS end to end (RFC 8461): Knot on loopback serves the `_mta-sts` TXT records, the
 * addresses of `mta-sts.<domain>` and the MX hosts; an HTTPS server with a test-CA certificate
 * serves the policies; Fumi's own MX (tests/smtp.ts) is the receiving mail server, with a
 * certificate for mail.example.org from another test CA. The policy fetch and the MX lookups go
 * through our stub resolver to Knot; the system's resolver knows none of these names.
 *
 * | domain              | policy                             | its MX                             |
 * | ------------------- | ---------------------------------- | ---------------------------------- |
 * | example.net         | enforce, mx: mail.example.org      | mail.example.org (cert fits)       |
 * | strict.example.net  | enforce, mx: mail.example.org      | mx.strict.example.net (not in it)  |
 * | badcert.example.net | enforce, mx: *.badcert.example.net | mx.badcert.example.net (no cert)   |
 * | testing.example.net | testing, mx: mail.example.org      | mx.testing.example.net (not in it) |
 *
 * @module
 */

import { StubResolver } from "../src/dns/mod.ts";
import { httpsPolicyFetcher, MtaStsPolicies } from "../src/mtasts/mod.ts";
import { connectTo } from "../src/net/connection.ts";
import { createLogger } from "../src/ops/log.ts";
import { type AttemptOutcome, deliverToDomain } from "../src/outbound/mod.ts";
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { fumiTaskArgs, REPO_ROOT } from "./cli.ts";
import { startDnsServer } from "./dns_server.ts";
import { type SmtpFixture, withSmtp } from "./smtp.ts";
import { sampleMessage } from "./store.ts";
import { makeTestPki } from "./tls.ts";

const DOMAINS = ["example.net", "strict.example.net", "badcert.example.net", "testing.example.net"];

const POLICIES: Record<string, string> = {
  "example.net": "version: STSv1\nmode: enforce\nmx: mail.example.org\nmax_age: 86400\n",
  "strict.example.net": "version: STSv1\nmode: enforce\nmx: mail.example.org\nmax_age: 86400\n",
  "badcert.example.net":
    "version: STSv1\nmode: enforce\nmx: *.badcert.example.net\nmax_age: 86400\n",
  "testing.example.net": "version: STSv1\nmode: testing\nmx: mail.example.org\nmax_age: 86400\n",
};

const ZONES = {
  "example.net": `
@ SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 60
@ NS ns
ns A 127.0.0.1
@ MX 10 mail.example.org.
_mta-sts TXT "v=STSv1; id=20261128T0400"
mta-sts A 127.0.0.1
strict MX 10 mx.strict
mx.strict A 127.0.0.1
_mta-sts.strict TXT "v=STSv1; id=1"
mta-sts.strict A 127.0.0.1
badcert MX 10 mx.badcert
mx.badcert A 127.0.0.1
_mta-sts.badcert TXT "v=STSv1; id=1"
mta-sts.badcert A 127.0.0.1
testing MX 10 mx.testing
mx.testing A 127.0.0.1
_mta-sts.testing TXT "v=STSv1; id=1"
mta-sts.testing A 127.0.0.1
`,
  "example.org": `
@ SOA ns.example.org. hostmaster.example.org. 1 3600 600 86400 60
@ NS ns
ns A 127.0.0.1
mail A 127.0.0.1
`,
};

/** Runs `fn` with Knot, the policy server and Fumi's MX, and a way to deliver to a domain. */
async function withWorld(
  fn: (
    deliver: (domain: string) => Promise<AttemptOutcome>,
    t: SmtpFixture,
    logged: () => string,
    users: Record<string, number>,
  ) => Promise<void>,
): Promise<void> {
  const dns = await startDnsServer(ZONES);
  const pki = await makeTestPki();
  const abort = new AbortController();
  const web = await pki.issue(DOMAINS.map((d) => `mta-sts.${d}`));
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: web.certPem,
    key: web.keyPem,
    signal: abort.signal,
    onListen: () => {},
  }, (req) => {
    const host = (req.headers.get("host") ?? "").split(":")[0]!.replace(/^mta-sts\./, "");
    const policy = POLICIES[host];
    return new URL(req.url).pathname === "/.well-known/mta-sts.txt" && policy !== undefined
      ? new Response(policy, { headers: { "content-type": "text/plain" } })
      : new Response("Not found", { status: 404 });
  });
  try {
    await withSmtp(async (t) => {
      const users: Record<string, number> = {};
      for (const domain of DOMAINS) {
        await t.store.domains.add(domain);
        const account = await t.store.accounts.create({
          address: `bob@${domain}`,
          password: "correct horse battery staple 42",
        });
        users[domain] = account.id;
      }
      const resolver = new StubResolver({
        nameservers: [{ address: dns.address, port: dns.port }],
        timeoutMs: 2000,
        attempts: 1,
      });
      const lines: string[] = [];
      const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(l) });
      const mtaSts = new MtaStsPolicies({
        resolver,
        fetch: httpsPolicyFetcher({ resolver, ca: [pki.caPem], port: server.addr.port }),
      });
      const deps = {
        resolver,
        connect: (address: string, port: number) => connectTo(address, port, 2000),
        heloName: "out.example.com",
        port: t.ports.mx,
        ca: [t.caPem],
        mtaSts,
        log,
      };
      const deliver = async (domain: string) => {
        const [outcome] = await deliverToDomain(deps, domain, {
          sender: "carol@elsewhere.example",
          recipients: [{ address: `bob@${domain}`, notify: null, orcpt: null }],
          envid: null,
          ret: null,
          content: sampleMessage(domain),
          smtputf8: false,
        });
        return outcome!;
      };
      await fn(deliver, t, () => lines.join("\n"), users);
    });
  } finally {
    abort.abort();
    await server.finished;
    await pki.remove();
    await dns.stop();
  }
}

Deno.test("MTA-STS enforce with a matching MX and a valid certificate: delivered over verified TLS", async () => {
  await withWorld(async (deliver, t, _logged, users) => {
    const outcome = await deliver("example.net");
    assertEquals([outcome.outcome, outcome.remoteHost], ["delivered", "mail.example.org"]);
    const inbox = await t.inbox(users["example.net"]!);
    assertEquals(inbox.length, 1);
    assertStringIncludes(inbox[0]!, "with ESMTPS");
  });
});

Deno.test("MTA-STS enforce with a mismatching MX refused", async () => {
  await withWorld(async (deliver, t, logged, users) => {
    // mx.strict.example.net would take the mail (it is Fumi, at 127.0.0.1), but the policy
    // names only mail.example.org: it is never tried, and the message waits (RFC 8461 §5.1).
    const outcome = await deliver("strict.example.net");
    assertEquals([outcome.outcome, outcome.remoteHost], ["temporary", null]);
    assertEquals(
      outcome.reply,
      "451 4.7.5 MTA-STS policy of strict.example.net: none of its MX hosts " +
        "(mx.strict.example.net) is in the policy (mx: mail.example.org)",
    );
    assertEquals(await t.inbox(users["strict.example.net"]!), []);
    assertStringIncludes(logged(), "MTA-STS: mail hosts not in the policy passed over");
  });
});

Deno.test("MTA-STS enforce with an MX whose certificate does not name it: not delivered, 4.7.5", async () => {
  await withWorld(async (deliver, t, _logged, users) => {
    const outcome = await deliver("badcert.example.net");
    assertEquals(outcome.outcome, "temporary");
    assert(
      outcome.reply.startsWith(
        "451 4.7.5 MTA-STS policy of badcert.example.net: mx.badcert.example.net [127.0.0.1]: " +
          "TLS handshake failed",
      ),
      outcome.reply,
    );
    assertEquals(await t.inbox(users["badcert.example.net"]!), []);
  });
});

Deno.test("MTA-STS testing with a mismatching MX: delivered, and what enforce would refuse logged", async () => {
  await withWorld(async (deliver, t, logged, users) => {
    const outcome = await deliver("testing.example.net");
    assertEquals([outcome.outcome, outcome.remoteHost], ["delivered", "mx.testing.example.net"]);
    assertEquals((await t.inbox(users["testing.example.net"]!)).length, 1);
    assertStringIncludes(logged(), "MTA-STS testing: this mail host is not in the policy");
    assertStringIncludes(logged(), "MTA-STS testing: delivered without a verified certificate");
  });
});

Deno.test("MTA-STS policy fetch works under the permissions fumi serve runs with", async () => {
  const pki = await makeTestPki();
  const web = await pki.issue(["mta-sts.example.net"]);
  const abort = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: web.certPem,
    key: web.keyPem,
    signal: abort.signal,
    onListen: () => {},
  }, () => new Response(POLICIES["example.net"], { headers: { "content-type": "text/plain" } }));
  try {
    // deno run <the fumi task's permission flags> tests/mta_sts_probe.ts <port> <ca>
    const flags = fumiTaskArgs().slice(0, -1);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [...flags, "tests/mta_sts_probe.ts", String(server.addr.port), pki.caFile],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    const { trusted, untrusted } = JSON.parse(new TextDecoder().decode(stdout));
    assertEquals(trusted, {
      ok: true,
      policy: { mode: "enforce", mx: ["mail.example.org"], maxAge: 86400 },
    });
    // The runtime's roots do not know the test CA: refused for that, not for a permission.
    assertEquals(untrusted.ok, false);
    assertStringIncludes(untrusted.reason, "unable to verify the first certificate");
  } finally {
    abort.abort();
    await server.finished;
    await pki.remove();
  }
});
