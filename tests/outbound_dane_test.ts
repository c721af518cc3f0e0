/**
 * DANE for SMTP end to end (RFC 7672): Knot signs two zones, Unbound on loopback validates them
 * (as tests/dns_dnssec_test.ts), and the outbound attempt asks Unbound through our stub
 * resolver. Fumi's own MX (tests/smtp.ts) receives, with its test certificate for
 * mail.example.org, which names none of the *.test MX hosts: DANE-EE does not look at names.
 *
 * | domain           | zone      | its MX's TLSA                           | outcome              |
 * | ---------------- | --------- | --------------------------------------- | -------------------- |
 * | signed.test      | validated | 3 1 1 of Fumi's key                     | delivered, TLS       |
 * | bad.signed.test  | validated | 3 1 1 of another key                    | 451 4.7.5            |
 * | plain.test       | unsigned  | 3 1 1 of another key (not believed)     | delivered, as before |
 * | pkix.signed.test | validated | 1 1 1 (PKIX-EE: unusable for SMTP)      | delivered, TLS       |
 * | example.org      | validated | 2 0 0, the test CA in full              | delivered, TLS       |
 * | ta.signed.test   | validated | 2 0 0, the CA; the cert names neither   | 451 4.7.5            |
 *
 * @module
 */

import { X509Certificate } from "node:crypto";
import { StubResolver } from "../src/dns/mod.ts";
import { connectTo } from "../src/net/connection.ts";
import { createLogger } from "../src/ops/log.ts";
import { type AttemptOutcome, deliverToDomain } from "../src/outbound/mod.ts";
import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { startDnsServer, startValidatingResolver } from "./dns_server.ts";
import { type SmtpFixture, withSmtp } from "./smtp.ts";
import { sampleMessage } from "./store.ts";

const DOMAINS = [
  "signed.test",
  "bad.signed.test",
  "plain.test",
  "pkix.signed.test",
  "ta.signed.test",
];
const OTHER_KEY = "0123456789abcdef".repeat(4);

async function spkiSha256(certPem: string): Promise<string> {
  const spki = new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" });
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(spki)));
  return hex(digest);
}

function hex(der: ArrayBuffer | Uint8Array): string {
  return Array.from(new Uint8Array(der), (b) => b.toString(16).padStart(2, "0")).join("");
}

function zones(fumiKey: string, caCert: string): Record<string, string> {
  const soa = (origin: string) =>
    `@ SOA ns.signed.test. hostmaster.${origin}. 1 3600 600 86400 60\n@ NS ns.signed.test.`;
  return {
    "signed.test": `${soa("signed.test")}
ns A 127.0.0.1
@ MX 10 mx
mx A 127.0.0.1
_25._tcp.mx TLSA 3 1 1 ${fumiKey}
bad MX 10 mx.bad
mx.bad A 127.0.0.1
_25._tcp.mx.bad TLSA 3 1 1 ${OTHER_KEY}
pkix MX 10 mx.pkix
mx.pkix A 127.0.0.1
_25._tcp.mx.pkix TLSA 1 1 1 ${OTHER_KEY}
ta MX 10 mx.ta
mx.ta A 127.0.0.1
_25._tcp.mx.ta TLSA 2 0 0 ${caCert}`,
    "example.org": `${soa("example.org")}
@ MX 10 mail
mail A 127.0.0.1
_25._tcp.mail TLSA 2 0 0 ${caCert}`,
    "plain.test": `${soa("plain.test")}
@ MX 10 mx
mx A 127.0.0.1
_25._tcp.mx TLSA 3 1 1 ${OTHER_KEY}`,
  };
}

/** Runs `fn` with Knot, Unbound and Fumi's MX, and a way to deliver to a domain. */
async function withWorld(
  fn: (
    deliver: (domain: string) => Promise<AttemptOutcome>,
    t: SmtpFixture,
    users: Record<string, number>,
  ) => Promise<void>,
): Promise<void> {
  await withSmtp(async (t) => {
    const caCert = hex(new X509Certificate(t.caPem).raw);
    const knot = await startDnsServer(zones(await spkiSha256(t.certPem), caCert), {
      signed: ["signed.test", "example.org"],
    });
    try {
      const unbound = await startValidatingResolver(knot, [
        await knot.ds("signed.test"),
        await knot.ds("example.org"),
      ]);
      try {
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
          nameservers: [{ address: unbound.address, port: unbound.port }],
          timeoutMs: 3000,
          attempts: 1,
        });
        const deps = {
          resolver,
          connect: (address: string, port: number) => connectTo(address, port, 2000),
          heloName: "out.example.com",
          port: t.ports.mx,
          dane: true,
          log: createLogger({ level: "error", format: "json", write: () => {} }),
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
        try {
          await fn(deliver, t, users);
        } catch (error) {
          throw new Error(`${error}\nunbound said:\n${unbound.output()}`, { cause: error });
        }
      } finally {
        await unbound.stop();
      }
    } finally {
      await knot.stop();
    }
  });
}

Deno.test("DANE: an MX in a signed zone whose TLSA matches its key gets the mail over TLS", async () => {
  await withWorld(async (deliver, t, users) => {
    const outcome = await deliver("signed.test");
    assertEquals([outcome.outcome, outcome.remoteHost], ["delivered", "mx.signed.test"]);
    const inbox = await t.inbox(users["signed.test"]!);
    assertEquals(inbox.length, 1);
    assertStringIncludes(inbox[0]!, "with ESMTPS");
  });
});

Deno.test("DANE: an MX whose TLSA matches another key is refused, 451 4.7.5, nothing sent", async () => {
  await withWorld(async (deliver, t, users) => {
    const outcome = await deliver("bad.signed.test");
    assertEquals([outcome.outcome, outcome.remoteHost], ["temporary", null]);
    assert(
      outcome.reply.startsWith(
        "451 4.7.5 DANE for bad.signed.test: mx.bad.signed.test [127.0.0.1]: DANE: " +
          "the server's certificate matches no DANE-EE TLSA record",
      ),
      outcome.reply,
    );
    assertEquals(await t.inbox(users["bad.signed.test"]!), []);
  });
});

Deno.test("DANE: TLSA records in an unsigned zone are not believed; delivered as before", async () => {
  await withWorld(async (deliver, t, users) => {
    const outcome = await deliver("plain.test");
    assertEquals([outcome.outcome, outcome.remoteHost], ["delivered", "mx.plain.test"]);
    assertEquals((await t.inbox(users["plain.test"]!)).length, 1);
  });
});

Deno.test("DANE: records none usable (PKIX-EE) still require TLS, and the mail goes over it", async () => {
  await withWorld(async (deliver, t, users) => {
    const outcome = await deliver("pkix.signed.test");
    assertEquals([outcome.outcome, outcome.remoteHost], ["delivered", "mx.pkix.signed.test"]);
    const inbox = await t.inbox(users["pkix.signed.test"]!);
    assertStringIncludes(inbox[0]!, "with ESMTPS");
  });
});

Deno.test("DANE-TA: 2 0 0 with the CA in full; the server sends only its own certificate, named for the MX", async () => {
  await withWorld(async (deliver, t) => {
    const outcome = await deliver("example.org");
    assertEquals([outcome.outcome, outcome.remoteHost], ["delivered", "mail.example.org"]);
    const inbox = await t.inbox(t.bob.id);
    assertEquals(inbox.length, 1);
    assertStringIncludes(inbox[0]!, "with ESMTPS");
  });
});

Deno.test("DANE-TA: a chain to the anchor is not enough; the certificate must name the MX or the domain", async () => {
  await withWorld(async (deliver, t, users) => {
    const outcome = await deliver("ta.signed.test");
    assertEquals(
      outcome.reply,
      "451 4.7.5 DANE for ta.signed.test: mx.ta.signed.test [127.0.0.1]: DANE: the server's " +
        "certificate names none of mx.ta.signed.test, ta.signed.test",
    );
    assertEquals(await t.inbox(users["ta.signed.test"]!), []);
  });
});
